/**
 * The longest delay a Node timer keeps, about 24.8 days (2^31 - 1 ms). A longer one fires after
 * 1 ms with a TimeoutOverflowWarning: a start would time out at once, a worker recycle in a loop.
 * Options that set a timer stay within it; internal waits that may be longer are cut to it.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimerQueue } from '../../packages/core/src/queue/memory/TimerQueue.js';

const DAY = 86_400_000;

describe('TimerQueue', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('keeps an item due past the longest Node timer (2^31 - 1 ms) until it is due, with one timer', () => {
    vi.useFakeTimers({ now: 0 });
    const due: string[] = [];
    const queue = new TimerQueue<string>((item) => due.push(item));
    const armed = vi.spyOn(globalThis, 'setTimeout');
    queue.add('late', 30 * DAY);
    // a timer of more than 2^31 - 1 ms fires after 1 ms: it would be armed again every millisecond
    vi.advanceTimersByTime(50);
    expect(armed).toHaveBeenCalledTimes(1);
    queue.add('soon', 1_000);
    vi.advanceTimersByTime(1_000);
    expect(due).toEqual(['soon']);
    vi.advanceTimersByTime(25 * DAY);
    expect(due).toEqual(['soon']);
    expect(queue.size).toBe(1);
    vi.advanceTimersByTime(5 * DAY);
    expect(due).toEqual(['soon', 'late']);
    queue.clear();
  });
});

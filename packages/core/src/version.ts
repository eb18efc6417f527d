/** drover's version, reported by `ping` and `status`. */
export const VERSION = '0.1.0';

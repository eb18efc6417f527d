import { closest } from '../closest.js';
import { ConfigError } from '../errors.js';

/** Log levels, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'fatal'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Readonly<Record<LogLevel, number>> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  fatal: 5,
};

/** Position of a level in {@link LOG_LEVELS}: a higher rank is more severe. */
export function levelRank(level: LogLevel): number {
  return RANK[level];
}

/** True when `level` is at least as severe as `threshold`. */
export function isAtLeast(level: LogLevel, threshold: LogLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

/**
 * Reads a level from configuration or a command line. Case does not matter (`WARNING` is
 * `warning`), nor does pino's spelling (`warn`); anything else throws a `ConfigError` naming the
 * key, the value and the levels, with the nearest level when there is one.
 */
export function parseLogLevel(value: unknown, key = 'logLevel'): LogLevel {
  if (typeof value === 'string') {
    const level = value.trim().toLowerCase();
    if (Object.hasOwn(RANK, level)) return level as LogLevel;
    if (level === 'warn') return 'warning'; // pino's and npm's name for it
    const near = closest(level, LOG_LEVELS);
    if (near) throw new ConfigError(key, value, `one of ${LOG_LEVELS.join(', ')} (did you mean '${near}'?)`);
  }
  throw new ConfigError(key, value, `one of ${LOG_LEVELS.join(', ')}`);
}

import { ConfigError } from '../errors.js';

/** How a log file is rotated. Each key left out takes its default; `false` turns one trigger off. */
export interface RotationOptions {
  /** rotate when the file reaches this size: a positive integer and B, K, M or G; default `'10M'` */
  size?: string | false;
  /** rotate at each boundary of this interval, local time: `'1d'`, `'6h'`, `'30m'`; default `'1d'` */
  interval?: string | false;
  /** rotated files kept (`<name>.log.1` is the newest); default 14 */
  maxFiles?: number;
}

export interface ResolvedRotation {
  size: string | null;
  sizeBytes: number | null;
  interval: string | null;
  maxFiles: number;
}

export const DEFAULT_ROTATION = { size: '10M', interval: '1d', maxFiles: 14 } as const;

const SIZE = /^([1-9]\d{0,9})([BKMG])$/;
const SIZE_FACTOR: Readonly<Record<string, number>> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const INTERVAL = /^([1-9]\d{0,3})([smhd])$/;
const KEYS = new Set(['size', 'interval', 'maxFiles']);

function parseSize(value: unknown, key: string): { size: string; bytes: number } | null {
  if (value === false) return null;
  const match = typeof value === 'string' ? SIZE.exec(value) : null;
  if (!match)
    throw new ConfigError(key, value, `a size such as '10M' (a positive integer and B, K, M or G), or false`);
  return { size: value as string, bytes: Number(match[1]) * SIZE_FACTOR[match[2]!]! };
}

function parseInterval(value: unknown, key: string): string | null {
  if (value === false) return null;
  const match = typeof value === 'string' ? INTERVAL.exec(value) : null;
  // rotating-file-stream needs intervals that divide the next unit evenly
  const whole = match && { s: 60, m: 60, h: 24, d: 0 }[match[2] as 's' | 'm' | 'h' | 'd'];
  if (!match || (whole && whole % Number(match[1]) !== 0)) {
    throw new ConfigError(
      key,
      value,
      `an interval such as '1d' (d: days; h: a divider of 24; m or s: a divider of 60), or false`,
    );
  }
  return value as string;
}

/**
 * Validates rotation options and fills in the defaults; `null` means no rotation (`false`, or
 * both triggers turned off). Errors name the key under `key`, e.g. `rotation.size`.
 */
export function resolveRotation(
  value: RotationOptions | false | undefined,
  key = 'rotation',
): ResolvedRotation | null {
  if (value === false) return null;
  const options: RotationOptions = value ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(key, value, 'an object { size, interval, maxFiles } or false');
  }
  for (const name of Object.keys(options)) {
    if (!KEYS.has(name)) {
      throw new ConfigError(
        `${key}.${name}`,
        (options as Record<string, unknown>)[name],
        'no such option (size, interval, maxFiles)',
      );
    }
  }
  const size = parseSize(options.size ?? DEFAULT_ROTATION.size, `${key}.size`);
  const interval = parseInterval(options.interval ?? DEFAULT_ROTATION.interval, `${key}.interval`);
  const maxFiles = options.maxFiles ?? DEFAULT_ROTATION.maxFiles;
  if (!Number.isInteger(maxFiles) || maxFiles < 1 || maxFiles > 1000) {
    throw new ConfigError(`${key}.maxFiles`, maxFiles, 'an integer from 1 to 1000');
  }
  if (!size && !interval) return null;
  return { size: size?.size ?? null, sizeBytes: size?.bytes ?? null, interval, maxFiles };
}

/** Short description for messages, e.g. `size 10M, interval 1d, 14 files`. */
export function describeRotation(rotation: ResolvedRotation | null): string {
  if (!rotation) return 'no rotation';
  const parts = [];
  if (rotation.size) parts.push(`size ${rotation.size}`);
  if (rotation.interval) parts.push(`interval ${rotation.interval}`);
  parts.push(`${rotation.maxFiles} files`);
  return parts.join(', ');
}

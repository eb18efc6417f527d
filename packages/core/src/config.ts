import { closest } from './closest.js';
import { ConfigError, describeValue } from './errors.js';
import { type LogLevel, parseLogLevel } from './log/levels.js';
import { type RotationOptions, resolveRotation } from './log/rotation.js';
import { TIMER_MAX_MS } from './timerLimit.js';

/** How a crashed worker is brought back. */
export interface RestartPolicyOptions {
  /**
   * Delay before the second fast restart in a row; the first one is immediate. Each delay is drawn
   * between half and all of its ceiling (this, times `factor` per further crash, up to
   * `maxDelayMs`), so a group that crashes together does not respawn together. Default 100 ms.
   */
  initialDelayMs?: number;
  /** Upper bound of the delay's ceiling. Default 30 s. */
  maxDelayMs?: number;
  /** Growth factor per consecutive fast crash. Default 2. */
  factor?: number;
  /** A worker that lived this long counts as stable: its crash streak resets. Default 10 s. */
  stableAfterMs?: number;
  /**
   * Restarts allowed in a row of fast crashes (a crash within `stableAfterMs` of the start); the
   * next crash leaves the PIN empty, state 'failed'. Default Infinity: never give up.
   */
  maxRestarts?: number;
}

/**
 * A delay: whole milliseconds, or a string with a unit: `'500ms'`, `'10s'`, `'1.5m'`, `'1h'`. At
 * most 2^31 - 1 ms (about 24.8 days), the longest timer Node keeps.
 */
export type Duration = number | string;

/** When a plain script's worker is ready (`ManageOptions.readyWhen`). */
export type ReadyWhen = 'loaded' | 'listening' | 'message';
const READY_WHEN: readonly ReadyWhen[] = ['loaded', 'listening', 'message'];

/** Configuration of one worker group (`Manage`). Every key is validated at construction. */
export interface ManageOptions {
  /** The group's name: part of titles, pid file, socket and log file names. Required. */
  baseTitle: string;
  /** First part of every process title. Default `drover`. */
  titlePrefix?: string;
  /** Number of workers. Default 1. */
  maxWorkerNum?: number;
  /** Interval of resource checks (memory) in ms. Default 1000. */
  checkWorkerInterval?: number;
  /** Executions per worker before it is recycled; 0 = unlimited. Default 0. */
  executeTimes?: number;
  /** Pause between two executions, in microseconds. Default 0. */
  executeUSleep?: number;
  /** Maximum worker age in seconds before it is recycled; 0 = unlimited. Default 0. */
  limitSeconds?: number;
  /** Fraction (0..1) by which executeTimes and limitSeconds are lowered at random per worker, so a group does not recycle at once. Default 0.1. */
  recycleJitter?: number;
  /** A worker that exits with this code has finished for good and is not respawned. Default 0. */
  normalExitCode?: number;
  /** Time a stopping worker gets to finish before SIGKILL: ms, or a Duration like '10s'. Default 10000. */
  stopTimeout?: Duration;
  /** Time a starting worker gets to report ready: ms, or a Duration like '30s'. Default 30000. */
  readyTimeout?: Duration;
  /**
   * When a worker that runs a plain script (no `work` export) is ready: `'loaded'` once the
   * script has loaded (and its `init`, and the listens it started, settled); `'listening'` once a
   * server of it listens (an async main that prepares, then listens); `'message'` once it calls
   * `process.send('ready')`, as PM2's `wait_ready`. A script that fails before that is a worker
   * that did not start: a reload keeps the old one. Default `'loaded'`.
   */
  readyWhen?: ReadyWhen;
  /** Crash backoff. */
  restart?: RestartPolicyOptions;
  /** Recycle a worker whose RSS exceeds this many bytes (or a size like '512M'); 0 = off. Default 0. */
  maxMemory?: number | string;
  /** Kill and replace a worker whose event loop has not answered a heartbeat for this long (ms, or a Duration like '5s'); 0 = off. Default 0. */
  hangTimeout?: Duration;
  /**
   * Run workers as this user (name or uid), with its HOME, USER and LOGNAME; the master must be
   * root. Without `group`, the workers take the user's primary group (from /etc/passwd). Start
   * such a group in the background: in the foreground, workers share the terminal's session
   * (docs/operations.md, "Workers run as another user").
   */
  user?: string | number;
  /** Run workers as this group (name or gid). Default with `user`: that user's primary group. */
  group?: string | number;
  /** Extra environment for the workers. */
  env?: Record<string, string>;
  /**
   * Private directory for the pid file, the control socket and the logs (0700). Default
   * `$DROVER_RUN_DIR`, else `$XDG_RUNTIME_DIR/drover` (when that directory is this user's), else
   * `<os.tmpdir()>/drover-<uid>`.
   */
  runDir?: string;
  /** Alias of runDir, as the seed managers name it. */
  pidRoot?: string;
  /** Directory of log files in background mode. Default `<runDir>/logs`. */
  logDir?: string;
  /** Lowest level written. Default `info`. */
  logLevel?: LogLevel;
  /** Rotation of the log files in background mode; false turns it off. Default 10M or daily, 14 kept. */
  logRotation?: RotationOptions | false;
  /** Also write error and fatal lines to `<baseTitle>.error.log`. Default false. */
  separateErrorFile?: boolean;
  /** Extra Node options for the workers (added to the master's own execArgv). */
  execArgv?: string[];
  /** Working directory of the workers. Default: the master's. */
  cwd?: string;
}

export interface ResolvedRestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  stableAfterMs: number;
  maxRestarts: number;
}

export interface ManageConfig {
  baseTitle: string;
  titlePrefix: string;
  maxWorkerNum: number;
  checkWorkerInterval: number;
  executeTimes: number;
  executeUSleep: number;
  limitSeconds: number;
  recycleJitter: number;
  normalExitCode: number;
  stopTimeout: number;
  readyTimeout: number;
  readyWhen: ReadyWhen;
  restart: ResolvedRestartPolicy;
  maxMemory: number;
  hangTimeout: number;
  user?: string | number;
  group?: string | number;
  env: Record<string, string>;
  runDir?: string;
  logDir?: string;
  logLevel: LogLevel;
  logRotation?: RotationOptions | false;
  separateErrorFile: boolean;
  execArgv: string[];
  cwd?: string;
}

/** Every key of ManageOptions. */
export const MANAGE_OPTION_KEYS: ReadonlySet<string> = new Set<string>([
  'baseTitle',
  'titlePrefix',
  'maxWorkerNum',
  'checkWorkerInterval',
  'executeTimes',
  'executeUSleep',
  'limitSeconds',
  'recycleJitter',
  'normalExitCode',
  'stopTimeout',
  'readyTimeout',
  'readyWhen',
  'restart',
  'maxMemory',
  'hangTimeout',
  'user',
  'group',
  'env',
  'runDir',
  'pidRoot',
  'logDir',
  'logLevel',
  'logRotation',
  'separateErrorFile',
  'execArgv',
  'cwd',
]);

const RESTART_KEYS = new Set(['initialDelayMs', 'maxDelayMs', 'factor', 'stableAfterMs', 'maxRestarts']);
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** A group's name is also a word on command lines (`drover stop <name>`): no leading '-'. */
const BASE_TITLE_PATTERN = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;

/** Validates options and fills defaults. Throws a ConfigError naming the key, the value and what is allowed. */
export function resolveManageConfig(options: unknown): ManageConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('options', options, 'an object such as { baseTitle: "mailer", maxWorkerNum: 4 }');
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!MANAGE_OPTION_KEYS.has(key)) {
      const near = closest(key, MANAGE_OPTION_KEYS);
      throw new ConfigError(
        key,
        o[key],
        near ? `a known key (did you mean '${near}'?)` : `a known key: ${[...MANAGE_OPTION_KEYS].join(', ')}`,
      );
    }
  }
  const baseTitle = o.baseTitle;
  if (typeof baseTitle !== 'string' || !BASE_TITLE_PATTERN.test(baseTitle)) {
    throw new ConfigError(
      'baseTitle',
      baseTitle,
      'a name of 1-64 letters, digits, ".", "_" or "-", not starting with "-"',
    );
  }
  const titlePrefix = optional(o, 'titlePrefix', 'drover');
  if (typeof titlePrefix !== 'string' || !NAME_PATTERN.test(titlePrefix)) {
    throw new ConfigError('titlePrefix', titlePrefix, 'a name of 1-64 letters, digits, ".", "_" or "-"');
  }
  if (o.runDir !== undefined && o.pidRoot !== undefined && o.runDir !== o.pidRoot) {
    throw new ConfigError(
      'pidRoot',
      o.pidRoot,
      `the same value as runDir (${typeof o.runDir === 'string' ? o.runDir : describeValue(o.runDir)}), or only one of them`,
    );
  }
  const runDir = (o.runDir ?? o.pidRoot) as unknown;
  if (runDir !== undefined && (typeof runDir !== 'string' || runDir === '')) {
    throw new ConfigError(o.runDir !== undefined ? 'runDir' : 'pidRoot', runDir, 'a directory path');
  }
  const logLevel = parseLogLevel(o.logLevel ?? 'info');
  return {
    baseTitle,
    titlePrefix,
    maxWorkerNum: integer(o, 'maxWorkerNum', 1, 0, 1024),
    checkWorkerInterval: integer(o, 'checkWorkerInterval', 1000, 50, 3_600_000),
    executeTimes: integer(o, 'executeTimes', 0, 0),
    executeUSleep: integer(o, 'executeUSleep', 0, 0, TIMER_MAX_MS * 1000),
    limitSeconds: number(o, 'limitSeconds', 0, 0, Math.floor(TIMER_MAX_MS / 1000)),
    recycleJitter: number(o, 'recycleJitter', 0.1, 0, 1),
    normalExitCode: integer(o, 'normalExitCode', 0, 0, 255),
    stopTimeout: duration(o, 'stopTimeout', 10_000, 0),
    readyTimeout: duration(o, 'readyTimeout', 30_000, 1),
    readyWhen: oneOf(o, 'readyWhen', READY_WHEN, 'loaded'),
    restart: resolveRestart(o.restart),
    maxMemory: memoryLimit(o),
    hangTimeout: duration(o, 'hangTimeout', 0, 0),
    user: principal(o, 'user'),
    group: principal(o, 'group'),
    env: stringRecord(o, 'env'),
    runDir: runDir as string | undefined,
    logDir: optionalString(o, 'logDir'),
    logLevel: logLevel as LogLevel,
    logRotation: logRotation(o),
    separateErrorFile: boolean(o, 'separateErrorFile', false),
    execArgv: stringArray(o, 'execArgv'),
    cwd: optionalString(o, 'cwd'),
  };
}

function resolveRestart(value: unknown): ResolvedRestartPolicy {
  if (value === undefined) value = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('restart', value, 'an object such as { initialDelayMs: 100, maxDelayMs: 30000 }');
  }
  const r = value as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!RESTART_KEYS.has(key)) {
      throw new ConfigError(`restart.${key}`, r[key], `a known key: ${[...RESTART_KEYS].join(', ')}`);
    }
  }
  const initialDelayMs = integer(r, 'initialDelayMs', 100, 0, TIMER_MAX_MS, 'restart.');
  const maxDelayMs = integer(r, 'maxDelayMs', 30_000, 0, TIMER_MAX_MS, 'restart.');
  if (maxDelayMs < initialDelayMs) {
    throw new ConfigError(
      'restart.maxDelayMs',
      maxDelayMs,
      `a number >= restart.initialDelayMs (${initialDelayMs})`,
    );
  }
  const maxRestarts = r.maxRestarts === undefined ? Number.POSITIVE_INFINITY : r.maxRestarts;
  if (
    typeof maxRestarts !== 'number' ||
    !(maxRestarts >= 1) ||
    (Number.isFinite(maxRestarts) && !Number.isInteger(maxRestarts))
  ) {
    throw new ConfigError(
      'restart.maxRestarts',
      maxRestarts,
      'an integer >= 1, or Infinity to never give up',
    );
  }
  return {
    initialDelayMs,
    maxDelayMs,
    factor: number(r, 'factor', 2, 1, 100, 'restart.'),
    stableAfterMs: integer(r, 'stableAfterMs', 10_000, 0, TIMER_MAX_MS, 'restart.'),
    maxRestarts,
  };
}

function logRotation(o: Record<string, unknown>): RotationOptions | false | undefined {
  const v = o.logRotation;
  if (v === undefined) return undefined;
  if (v === null)
    throw new ConfigError(
      'logRotation',
      v,
      "an object { size: '10M', interval: '1d', maxFiles: 14 } or false",
    );
  resolveRotation(v as RotationOptions | false, 'logRotation');
  return v as RotationOptions | false;
}

function boolean(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = optional(o, key, fallback);
  if (typeof v !== 'boolean') throw new ConfigError(key, v, 'true or false');
  return v;
}

function oneOf<T extends string>(
  o: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = optional(o, key, fallback);
  if (!allowed.includes(v as T))
    throw new ConfigError(key, v, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return v as T;
}

function optional<T>(o: Record<string, unknown>, key: string, fallback: T): unknown {
  return o[key] === undefined ? fallback : o[key];
}

function integer(
  o: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  prefix = '',
): number {
  const v = optional(o, key, fallback);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(prefix + key, v, `an integer ${range}`);
  }
  return v;
}

function number(
  o: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  max = Number.MAX_VALUE,
  prefix = '',
): number {
  const v = optional(o, key, fallback);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = max === Number.MAX_VALUE ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(prefix + key, v, `a number ${range}`);
  }
  return v;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Parses a byte size: a number of bytes, or '512M', '1.5G', '800K'. */
export function parseSize(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  if (typeof value === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)B?$/i.exec(value.trim());
    if (m) return Math.floor(Number(m[1]) * (SIZE_UNITS[m[2]!.toUpperCase()] ?? 1));
  }
  throw new ConfigError(key, value, "a number of bytes >= 0 or a size such as '512M', '1.5G'");
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/i;

/**
 * A delay: whole milliseconds, or a string with a unit ('500ms', '10s', '2m', '1h'), within
 * `min` and Node's longest timer.
 */
function duration(o: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = optional(o, key, fallback);
  const m = typeof v === 'string' ? DURATION.exec(v.trim()) : null;
  const ms = m ? Math.round(Number(m[1]) * (DURATION_UNITS[m[2]!.toLowerCase()] ?? 1)) : v;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < min || ms > TIMER_MAX_MS) {
    throw new ConfigError(
      key,
      v,
      `whole milliseconds from ${min} to ${TIMER_MAX_MS}, or a duration such as '500ms', '10s', '2m'`,
    );
  }
  return ms;
}

function size(o: Record<string, unknown>, key: string): number {
  return o[key] === undefined ? 0 : parseSize(o[key], key);
}

/**
 * No Node process fits in less than 1M: a bare `300` (bytes) is PM2's 300M typed without its
 * unit, and every worker would be recycled as soon as it is ready, for good.
 */
function memoryLimit(o: Record<string, unknown>): number {
  const bytes = size(o, 'maxMemory');
  if (bytes > 0 && bytes < 1024 ** 2) {
    const typed = o.maxMemory;
    const suggestion = typeof typed === 'number' && typed <= 65_536 ? `'${typed}M'` : "'300M'";
    throw new ConfigError(
      'maxMemory',
      typed,
      `a size of at least 1M (a bare number is bytes: ${suggestion}?), or 0 for no limit`,
    );
  }
  return bytes;
}

function principal(o: Record<string, unknown>, key: string): string | number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isInteger(v) && v >= 0))
    return v;
  throw new ConfigError(key, v, `a ${key} name or a numeric id`);
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v !== '') return v;
  throw new ConfigError(key, v, 'a non-empty string');
}

function stringRecord(o: Record<string, unknown>, key: string): Record<string, string> {
  const v = o[key];
  if (v === undefined) return {};
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, item] of Object.entries(v)) {
      if (typeof item !== 'string') throw new ConfigError(`${key}.${k}`, item, 'a string');
    }
    return { ...(v as Record<string, string>) };
  }
  throw new ConfigError(key, v, 'an object of string values');
}

function stringArray(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return [...v];
  throw new ConfigError(key, v, 'an array of strings');
}

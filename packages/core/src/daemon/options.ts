/**
 * What a background start is given and what it may throw: kept apart from the launcher, which a
 * worker never loads.
 */
import { ConfigError, DroverError } from '../errors.js';

/** How the launcher decides that a background start worked. */
export interface BackgroundOptions {
  /**
   * After every worker is ready, the group must stay up this long (no worker exit, the daemon
   * alive) before the start counts as a success. Default 1000 ms.
   */
  settleMs?: number;
  /** Longest wait for the daemon to be ready and settled. Default: the largest readyTimeout + 15 s + settleMs. */
  deadlineMs?: number;
}

/** One group a daemon is started for. */
export interface DaemonGroup {
  baseTitle: string;
  /** its run directory: checked (and created) as the master checks it, before anything in it is touched */
  runDir: string;
  /** its control socket */
  socket: string;
  /** its log file */
  logFile: string;
  /** the log file is in the run directory's `logs` (no logDir set): never opened through a link */
  logInRunDir: boolean;
  /** its readyTimeout, for the default deadline */
  readyTimeout: number;
}

export interface DaemonSpec extends BackgroundOptions {
  /** the daemon's process title, e.g. `drover:Master:mailer` */
  title: string;
  groups: readonly DaemonGroup[];
}

export const DEFAULT_SETTLE_MS = 1000;

/** A background start that did not work: why, and the last lines the daemon logged. */
export class DaemonStartError extends DroverError {
  /** the daemon's pid, when it was spawned */
  readonly pid: number | null;
  /** the last lines of the group logs written by this daemon */
  readonly logTail: string[];

  constructor(message: string, pid: number | null, logTail: string[], hint: string) {
    const tail = logTail.length ? `\n${logTail.map((line) => `  ${line}`).join('\n')}` : '';
    super('EDAEMON', message, { hint });
    this.message = `${this.message}${tail}`;
    this.name = 'DaemonStartError';
    this.pid = pid;
    this.logTail = logTail;
  }
}

export function validateBackgroundOptions(
  opts: BackgroundOptions,
): Required<Pick<BackgroundOptions, 'settleMs'>> & BackgroundOptions {
  if (opts === null || typeof opts !== 'object') {
    throw new ConfigError('background', opts, 'an object { settleMs?, deadlineMs? }');
  }
  const settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
  if (!Number.isSafeInteger(settleMs) || settleMs < 0) {
    throw new ConfigError('background.settleMs', settleMs, 'an integer number of milliseconds >= 0');
  }
  if (opts.deadlineMs !== undefined && (!Number.isSafeInteger(opts.deadlineMs) || opts.deadlineMs < 1)) {
    throw new ConfigError('background.deadlineMs', opts.deadlineMs, 'an integer number of milliseconds >= 1');
  }
  return { ...opts, settleMs };
}

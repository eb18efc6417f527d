import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { inspect } from 'node:util';
import { formatLogLine } from '../log/format.js';
import type { LogLevel } from '../log/levels.js';
import { loggerOf } from '../log/Logger.js';
import { logFileFlags } from '../log/logDir.js';
import { cutNote, OUTPUT_MAX_BYTES, trimOutputFile } from '../log/outputFile.js';
import { isRecordLive, type PidRecord, readPidFile } from '../runtime/PidFile.js';
import { type DaemonFiles, daemonRole } from './role.js';

/** How often a daemon looks whether its output file passed OUTPUT_MAX_BYTES. */
const OUTPUT_CHECK_MS = 5000;
/** A cut of the output file that failed is tried again after this, then twice as long each time, up to CUT_RETRY_MAX_MS. */
const CUT_RETRY_FIRST_MS = 60_000;
const CUT_RETRY_MAX_MS = 3_600_000;
/** Longest crash or warning text put in a record: the whole of it is in the output file. */
const MAX_TEXT_CHARS = 8192;

let kept = false;

/**
 * In a background daemon, from the moment the master's side is loaded: the daemon's own last
 * words reach the current log files of the groups it still runs (hostsNow: not one that stopped
 * here and may run in another daemon now). Its stdout and stderr are `<name>.out` (opened by the
 * launcher, never rotated); what Node only prints there is also written, synchronously and through
 * each log's current path (as the reaper appends), as a record:
 * - an uncaught exception or an unhandled rejection that ends the process: a `fatal` record, from
 *   an `uncaughtExceptionMonitor` listener, so Node's own handling (its report, exit code 1, a
 *   script's own `uncaughtException` listener) is unchanged; one such a listener takes is an
 *   `error` record, the process going on;
 * - each process `warning` (a MaxListenersExceededWarning, a deprecation): a `warning` record.
 * It also keeps the output file under OUTPUT_MAX_BYTES (see trimOutputFile), looking every few
 * seconds; a cut that fails (no room on the disk for the copy) is said once, as a `warning`
 * record, and tried again after a minute, then twice as long each time, up to an hour. Does
 * nothing outside a daemon, or a second time.
 */
export function keepDaemonLastWords(files: DaemonFiles | null = daemonRole().files): void {
  if (kept || !files) return;
  kept = true;
  const output = files.output;
  const append = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    for (const log of files.logs.filter(hostsNow)) {
      const record = {
        time: Date.now(),
        level,
        baseTitle: log.baseTitle,
        pin: 'master' as const,
        pid: process.pid,
        message,
        ...(fields ? { fields } : {}),
      };
      appendLine(log.file, log.inRunDir, formatLogLine(record));
    }
  };
  process.on('uncaughtExceptionMonitor', (error, origin) => {
    const what = origin === 'unhandledRejection' ? 'an unhandled promise rejection' : 'an uncaught exception';
    const text = clip(describeThrown(error));
    if (process.listenerCount('uncaughtException') > 0 || process.hasUncaughtExceptionCaptureCallback()) {
      append('error', `${what}, left to the script's own 'uncaughtException' handler: ${text}`);
      return;
    }
    append(
      'fatal',
      `the master process is ending on ${what} (Node's own report of it is in '${output}'): ${text}`,
    );
  });
  process.on('warning', (warning) => {
    const code = (warning as Error & { code?: unknown }).code;
    append(
      'warning',
      clip(`process warning: ${warning.name}: ${warning.message}`),
      typeof code === 'string' ? { code } : undefined,
    );
  });
  const noFollow = files.logs[0]?.inRunDir ?? false;
  // a cut that failed (a full disk) is tried again later and later, said once
  let retryAt = 0;
  let backoffMs = 0;
  let warned = false;
  const check = () => {
    // one fstat of the descriptor when there is nothing to do
    if (outputSize() <= OUTPUT_MAX_BYTES) {
      backoffMs = 0;
      retryAt = 0;
      warned = false;
      return;
    }
    if (Date.now() < retryAt) return;
    const { cut, failure } = trimOutputFile(output, { noFollow, sameAs: 1 });
    const mib = OUTPUT_MAX_BYTES / 1024 / 1024;
    if (cut) {
      backoffMs = 0;
      retryAt = 0;
      warned = false;
      writeQuietly(1, cutNote(process.pid, OUTPUT_MAX_BYTES, `${basename(output)}.1`));
      return;
    }
    if (failure === null) return;
    backoffMs = Math.min(backoffMs === 0 ? CUT_RETRY_FIRST_MS : backoffMs * 2, CUT_RETRY_MAX_MS);
    retryAt = Date.now() + backoffMs;
    if (warned) return;
    warned = true;
    append(
      'warning',
      `the daemon's output file '${output}' is past ${mib} MiB and was not cut: ${failure}; tried again in ${backoffMs / 60_000} min, then less and less often (up to once an hour); free some space on its disk, or empty it with ': > ${output}'`,
    );
  };
  check();
  setInterval(check, OUTPUT_CHECK_MS).unref();
}

type DaemonLog = DaemonFiles['logs'][number];

/**
 * Whether this process runs the master of `log`'s group now, so that what befalls it is that
 * group's: its pid file names this process; or none of the group's master was made here yet (the
 * daemon loads, or starts it) and no other live master runs it. A group that stopped in this
 * daemon (and may run in another one now) is not: its log is not this process's any more.
 */
function hostsNow(log: DaemonLog): boolean {
  // from a launcher that gave no pid file: every group it started
  if (!log.pidFile) return true;
  let record: PidRecord | null;
  try {
    record = readPidFile(log.pidFile);
  } catch {
    record = null;
  }
  if (record?.pid === process.pid) return true;
  return loggerOf(log.baseTitle) === undefined && !(record && isRecordLive(record));
}

/** Appends one line to `file` by its path, now; a file that cannot be written is left (never throws). */
function appendLine(file: string, inRunDir: boolean, line: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, logFileFlags(inRunDir), 0o600);
    writeSync(fd, `${line}\n`);
  } catch {
    // no directory, a full disk: the output file still has Node's report
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The size of what stdout is open on; 0 when it cannot be told. */
function outputSize(): number {
  try {
    return fstatSync(1).size;
  } catch {
    return 0;
  }
}

function writeQuietly(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // nothing to tell it to
  }
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return `${inspect(error, { depth: 2, breakLength: Number.POSITIVE_INFINITY })} (a thrown value that is not an Error)`;
  } catch {
    return 'a thrown value that cannot be shown';
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)} [cut]` : text;
}

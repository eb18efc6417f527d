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
/** Process warnings of one kind (name and code) written to the logs; the later ones are not. */
const MAX_SAME_WARNINGS = 3;
/** Kinds of warnings counted apart; past them, every new kind is counted as one. */
const MAX_WARNING_KINDS = 100;
const OTHER_KINDS = '(other kinds)';
/** Records handed to a logger this recently that it did not write yet are written again by a crash. */
const UNSETTLED_MS = 2000;
const MAX_UNSETTLED = 32;

/**
 * Whether Node was told to keep quiet about `warning`: `--no-warnings` or NODE_NO_WARNINGS=1 (the
 * event is still emitted), `--no-deprecation` for a DeprecationWarning.
 */
function warningsSilenced(warning: Error): boolean {
  if ((process as { noProcessWarnings?: boolean }).noProcessWarnings === true) return true;
  if (process.env.NODE_NO_WARNINGS === '1') return true;
  return warning.name === 'DeprecationWarning' && process.noDeprecation === true;
}

let kept = false;

/**
 * In a background daemon, from the moment the master's side is loaded: the daemon's own last
 * words reach the current log files of the groups it still runs (hostsNow: not one that stopped
 * here and may run in another daemon now). Its stdout and stderr are `<name>.out` (opened by the
 * launcher, never rotated); what Node only prints there is also written as a record:
 * - an uncaught exception or an unhandled rejection that ends the process: a `fatal` record, from
 *   an `uncaughtExceptionMonitor` listener, so Node's own handling (its report, exit code 1, a
 *   script's own `uncaughtException` listener) is unchanged. The process ends, its loggers with
 *   it: the record is written synchronously, through each log's current path (as the reaper
 *   appends), after the records its loggers were given in the last moments and may not have
 *   written. One a script's own listener takes is an `error` record, the process going on;
 * - a process `warning` (a MaxListenersExceededWarning, a deprecation): a `warning` record, the
 *   first MAX_SAME_WARNINGS of each kind (name and code) only, none when Node was told to keep
 *   quiet (--no-warnings, NODE_NO_WARNINGS=1, --no-deprecation).
 * Records of a living process go through the group's logger, so its level applies and its
 * rotation counts them (before its master made one, by the log's path).
 * It also keeps the output file under OUTPUT_MAX_BYTES (see trimOutputFile), looking every few
 * seconds; a cut that fails (no room on the disk for the copy) is said once, as a `warning`
 * record, and tried again after a minute, then twice as long each time, up to an hour. Does
 * nothing outside a daemon, or a second time.
 */
export function keepDaemonLastWords(files: DaemonFiles | null = daemonRole().files): void {
  if (kept || !files) return;
  kept = true;
  const output = files.output;
  const recordFor = (log: DaemonLog, level: LogLevel, message: string, fields?: Record<string, unknown>) =>
    formatLogLine({
      time: Date.now(),
      level,
      baseTitle: log.baseTitle,
      pin: 'master',
      pid: process.pid,
      message,
      ...(fields ? { fields } : {}),
    });
  // what `report` handed to a logger that its file may not hold yet: written again by a crash
  let unsettled: { log: DaemonLog; line: string; at: number }[] = [];
  /** The crash's record, in every hosted log now: the process ends, and its logger with it. */
  const lastWords = (message: string) => {
    const since = Date.now() - UNSETTLED_MS;
    for (const { log, line, at } of unsettled) if (at >= since) appendLine(log.file, log.inRunDir, line);
    unsettled = [];
    for (const log of files.logs.filter(hostsNow)) {
      appendLine(log.file, log.inRunDir, recordFor(log, 'fatal', message));
    }
  };
  /**
   * A record for every hosted group, through its logger while it has one (its level applies, and
   * its rotation counts the record); before the group's master made it, by the log's path.
   */
  const report = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    for (const log of files.logs.filter(hostsNow)) {
      const logger = loggerOf(log.baseTitle);
      if (!logger) {
        appendLine(log.file, log.inRunDir, recordFor(log, level, message, fields));
        continue;
      }
      if (!logger.enabled(level)) continue;
      logger.log(level, message, fields);
      const entry = { log, line: recordFor(log, level, message, fields), at: Date.now() };
      if (unsettled.length < MAX_UNSETTLED) unsettled.push(entry);
      logger.flush().then(
        () => {
          unsettled = unsettled.filter((e) => e !== entry);
        },
        () => {},
      );
    }
  };
  process.on('uncaughtExceptionMonitor', (error, origin) => {
    const what = origin === 'unhandledRejection' ? 'an unhandled promise rejection' : 'an uncaught exception';
    const text = clip(describeThrown(error));
    if (process.listenerCount('uncaughtException') > 0 || process.hasUncaughtExceptionCaptureCallback()) {
      report('error', `${what}, left to the script's own 'uncaughtException' handler: ${text}`);
      return;
    }
    lastWords(`the master process is ending on ${what} (Node's own report of it is in '${output}'): ${text}`);
  });
  // how many warnings of each kind were seen: a kind past MAX_SAME_WARNINGS is not reported again
  const seen = new Map<string, number>();
  process.on('warning', (warning) => {
    if (warningsSilenced(warning)) return;
    const code = (warning as Error & { code?: unknown }).code;
    let kind = `${warning.name}${typeof code === 'string' ? ` ${code}` : ''}`;
    if (!seen.has(kind) && seen.size >= MAX_WARNING_KINDS) kind = OTHER_KINDS;
    const count = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, count);
    if (count > MAX_SAME_WARNINGS) return;
    const more =
      count < MAX_SAME_WARNINGS
        ? ''
        : ` (further ${kind === OTHER_KINDS ? 'warnings of new kinds' : `${warning.name}s${typeof code === 'string' ? ` ${code}` : ''}`} are not written to this log)`;
    report(
      'warning',
      `${clip(`process warning: ${warning.name}: ${warning.message}`)}${more}`,
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
    report(
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

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, statfsSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ControlClient } from '../control/ControlClient.js';
import { SocketGoneError } from '../control/SocketGoneError.js';
import { AlreadyRunningError, DroverError } from '../errors.js';
import { cleanAfterFailedStart } from '../groups/discovery.js';
import { lastLines } from '../groups/logs.js';
import { logFileFlags, prepareLogFiles } from '../log/logDir.js';
import { daemonOutputFile, isOutputMark, startMark, trimOutputFile } from '../log/outputFile.js';
import { ALL_FINISHED_NOTICE } from '../master/events.js';
import { claimEndedRecord, isRecordLive, type PidRecord, readPidFile } from '../runtime/PidFile.js';
import { ensurePrivateDir, groupPaths } from '../runtime/RunDir.js';
import type { GroupStatus, WorkerState } from '../status.js';
import { describeGroupEnd } from '../status/GroupHealth.js';
import { withoutTitleOption } from '../title.js';
import { keepDaemonLastWords } from './lastWords.js';
import { type DaemonGroup, type DaemonSpec, DaemonStartError, validateBackgroundOptions } from './options.js';
import { DAEMON_FILES_VAR, DAEMON_GROUPS_VAR, DAEMON_UMASK, DAEMON_VAR, type DaemonFiles } from './role.js';

// This module comes with the master's side, which a daemon loads before its masters start (the
// default entry at import, the CLI at its first start): from then on the daemon's crash and
// warnings are written into its groups' logs (a no-op in any other process).
keepDaemonLastWords();

const DEADLINE_MARGIN_MS = 15_000;
const POLL_MS = 100;
const TAIL_LINES = 20;
const STOP_GRACE_MS = 5000;
/** Worker states of a group that started well ('finished': it ended by design, e.g. done()). */
const SETTLED_STATES: ReadonlySet<WorkerState> = new Set(['ready', 'busy', 'finished']);

/**
 * Starts a detached copy of this process (same Node, same options, same script and arguments) in
 * its own session, with stdout and stderr appended to its output file (`<logDir>/<baseTitle>.out`,
 * or `web,jobs.out` for several groups, which rotation never touches: see daemonOutputFile), the same
 * working directory and umask 027, and `DROVER_DAEMON=1` in its environment. Resolves with its
 * pid once every group's control socket answers with all workers ready and the groups then stayed
 * up for `settleMs`; rejects with the reason and the log's last lines if the daemon exits first or
 * misses the deadline (a daemon that missed it is stopped).
 */
export async function startDaemon(spec: DaemonSpec): Promise<number> {
  const { settleMs } = validateBackgroundOptions(spec);
  const first = spec.groups[0];
  if (!first) throw new DroverError('EINVAL', 'drover: a background start needs at least one group');
  const entry = containerEntry();
  if (entry) {
    // the kernel kills every process of a PID namespace when its init exits: the daemon too
    throw new DroverError(
      'EDAEMON',
      `drover: cannot start ${spec.groups.map((g) => `'${g.baseTitle}'`).join(', ')} in the background: ${entry}`,
      { hint: "run the master in the foreground as the container's command: start without -d" },
    );
  }
  const script = process.argv[1];
  if (!script) {
    throw new DroverError(
      'EDAEMON',
      'drover: cannot start in the background: this process runs no script file',
      {
        hint: 'start the script with node <file>, or run it in the foreground',
      },
    );
  }
  // the daemon would refuse an unsafe run dir; refuse it here, before anything in it is touched
  for (const group of spec.groups) ensurePrivateDir(group.runDir);
  for (const group of spec.groups) await refuseRunning(group);

  // Where each log file ends now: the failure report shows only what this daemon wrote.
  const offsets = new Map<string, number>();
  const output = daemonOutputFile(spec.groups);
  for (const group of spec.groups) {
    const files = group === first ? [group.logFile, output] : [group.logFile];
    prepareLogFiles(dirname(group.logFile), files, { inRunDir: group.logInRunDir });
    if (group === first) trimOutputFile(output, { noFollow: group.logInRunDir });
    for (const file of files) offsets.set(file, statSync(file).size);
  }
  const deadlineMs =
    spec.deadlineMs ?? Math.max(...spec.groups.map((g) => g.readyTimeout)) + DEADLINE_MARGIN_MS + settleMs;

  const child = spawnDetached(spec, script, output);
  // Ctrl-C here ends the wait, not the daemon: say where it is instead of vanishing silently
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  for (const signal of WAIT_SIGNALS) process.once(signal, onSignal);
  try {
    await waitUntilSettled(child, spec.groups, settleMs, deadlineMs, interrupt.signal);
  } catch (err) {
    if (err instanceof WaitInterrupted) {
      child.removeAllListeners('exit');
      child.unref();
      const names = spec.groups.map((g) => g.baseTitle);
      throw new DroverError(
        'EINTERRUPTED',
        `drover: stopped waiting for ${names.map((n) => `'${n}'`).join(', ')}: its daemon (pid ${child.pid}) goes on starting in the background`,
        {
          hint: `'drover status ${names[0]}' shows how it does, ${names.map((n) => `'drover stop ${n}'`).join(', ')} stop${names.length > 1 ? '' : 's'} it; its log: ${first.logFile}`,
        },
      );
    }
    const why =
      err instanceof StartFailure ? err : new StartFailure(String((err as Error).message ?? err), true);
    const stopped = why.stillRunning ? await stopDaemon(child) : null;
    // a daemon killed before it cleaned up leaves its socket and pid file: remove them now (this
    // failure is said here; an older master's end is left for drover status to say)
    await Promise.all(
      spec.groups.map((g) =>
        cleanAfterFailedStart(dirname(g.socket), g.baseTitle, child.pid ?? null).catch(() => null),
      ),
    );
    const tail = await logTail([...offsets.keys()], offsets);
    const names = spec.groups.map((g) => `'${g.baseTitle}'`).join(', ');
    // only a daemon that ended by itself with 0: not one stopped here, nor one that failed
    if (why.exitCode === 0 && tail.some((line) => line.includes(ALL_FINISHED_NOTICE))) {
      // not a failure of the script: it did its job and ended, so no daemon stays to run it
      throw new DaemonStartError(
        `drover: ${names} ended in the background as soon as it started: ${ALL_FINISHED_NOTICE}, so no daemon keeps running`,
        child.pid ?? null,
        tail,
        'a script that ends by itself (a one-shot job) runs in the foreground: start it without -d',
      );
    }
    const reason = why.saysWhy ? null : (keyLine(tail) ?? (tail.length === 0 ? fullDisk(spec.groups) : null));
    // what the last probe saw is past: the daemon it saw is gone now, and the message says how
    const gone = stopped ? `; its daemon (pid ${child.pid}) was ${stopped} and no longer runs` : '';
    throw new DaemonStartError(
      `drover: ${names} did not start in the background: ${why.message}${reason ? `: ${reason}` : ''}${gone}`,
      child.pid ?? null,
      tail,
      `see ${[...spec.groups.map((g) => g.logFile), output].join(', ')}`,
    );
  } finally {
    for (const signal of WAIT_SIGNALS) process.off(signal, onSignal);
  }
  child.removeAllListeners('exit');
  child.unref();
  return child.pid as number;
}

/**
 * The inits made for a container (docker run --init, tini, dumb-init): PID 1s that end as soon as
 * their child does, taking the container with them. An init that supervises services (systemd,
 * s6, runit) stays, and so may a shell (an interactive one, or a script that goes on after the
 * start): a shell at PID 1 is not judged.
 */
const CHILD_ENDS_INIT = new Set(['tini', 'docker-init', 'dumb-init']);

/**
 * Why this process is the command of a container, whose end ends the container: it is PID 1 of
 * its PID namespace, or the child of a PID 1 that exits with it; null when it is not.
 */
function containerEntry(): string | null {
  if (process.pid === 1)
    return "this process is PID 1 of its PID namespace (a container's command): when it exits, the kernel kills every process left in the namespace, the background master included";
  if (process.ppid !== 1) return null;
  let init: string;
  try {
    init = readFileSync('/proc/1/comm', 'utf8').trim();
  } catch {
    return null;
  }
  return CHILD_ENDS_INIT.has(init)
    ? `this process is the command PID 1 (${init}) runs, as a container's command is: ${init} exits when it does, and the kernel then kills every process left in the namespace, the background master included`
    : null;
}

/** Signals that end a launcher's wait for its daemon (a terminal's Ctrl-C, a kill). */
const WAIT_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

class WaitInterrupted extends Error {}

function spawnDetached(spec: DaemonSpec, script: string, output: string): ChildProcess {
  const execArgv = withoutTitleOption(process.execArgv);
  const files: DaemonFiles = {
    output,
    logs: spec.groups.map((g) => ({
      baseTitle: g.baseTitle,
      file: g.logFile,
      inRunDir: g.logInRunDir,
      pidFile: groupPaths(g.runDir, g.baseTitle).pidFile,
    })),
  };
  // not the log file: rotation renames and then deletes that, and the descriptors would follow
  const fd = openSync(output, logFileFlags(spec.groups[0]?.logInRunDir ?? false), 0o600);
  // the child inherits the umask at spawn; restore ours right after
  const previous = process.umask(DAEMON_UMASK);
  try {
    const child = spawn(
      process.execPath,
      [...execArgv, `--title=${spec.title}`, script, ...process.argv.slice(2)],
      {
        detached: true,
        stdio: ['ignore', fd, fd],
        cwd: process.cwd(),
        env: {
          ...process.env,
          [DAEMON_VAR]: '1',
          [DAEMON_GROUPS_VAR]: spec.groups.map((g) => g.baseTitle).join(','),
          [DAEMON_FILES_VAR]: JSON.stringify(files),
        },
      },
    );
    child.on('error', () => {});
    // where its output begins in the file every start appends to (drover status looks for it;
    // not part of a failure report): the daemon is a Node that starts, it writes nothing yet
    writeQuietly(
      fd,
      startMark(
        spec.groups.map((g) => g.baseTitle),
        child.pid,
      ),
    );
    return child;
  } finally {
    process.umask(previous);
    closeSync(fd);
  }
}

class StartFailure extends Error {
  constructor(
    message: string,
    readonly stillRunning: boolean,
    /** the daemon's own exit code, when it exited by itself */
    readonly exitCode: number | null = null,
    /** the message says why already: no line of the log is added to it */
    readonly saysWhy = false,
  ) {
    super(message);
  }
}

/**
 * A group that already answers on its socket is not started a second time, nor one whose pid
 * file names a live master that does not answer (stopped, hung, or its socket deleted).
 */
async function refuseRunning(group: DaemonGroup): Promise<void> {
  let client: ControlClient | null = null;
  try {
    client = await ControlClient.connect(group.socket, { timeoutMs: 1000 });
    const { pid } = await client.request<{ pid: number }>('ping', undefined, { timeoutMs: 1000 });
    throw new AlreadyRunningError(group.baseTitle, pid);
  } catch (err) {
    if ((err as DroverError).code === 'EALREADYRUNNING') throw err;
  } finally {
    client?.close();
  }
  const pid = liveMasterPid(group);
  if (pid === null) return;
  if (!existsSync(group.socket)) throw new SocketGoneError(group.baseTitle, pid, group.socket);
  throw new DroverError(
    'EALREADYRUNNING',
    `drover: '${group.baseTitle}' is already running (pid ${pid}) but does not answer on its control socket '${group.socket}'`,
    {
      hint: `it may be stopped ('ps -o stat= -p ${pid}' shows T; 'kill -CONT ${pid}' resumes it) or hung ('kill -TERM ${pid}' stops it gracefully, 'kill -KILL ${pid}' if that does nothing); start it again once it is gone`,
    },
  );
}

function liveMasterPid(group: DaemonGroup): number | null {
  try {
    const record = readPidFile(groupPaths(group.runDir, group.baseTitle).pidFile);
    return record && isRecordLive(record) ? record.pid : null;
  } catch {
    return null;
  }
}

/**
 * `crashes`: the crash and hang exits the group's status shows, one `group:pin@time` each;
 * `final`: the group ended for good (it gave up), and waiting longer is pointless.
 */
type Probe = { ok: true; crashes: string[] } | { ok: false; why: string; crashes?: string[]; final?: true };

/** Crashes of one PIN seen while a background start waits that end it at once: a crash loop will not settle. */
const CRASHES_TO_GIVE_UP = 3;

/** Asks one group's master (it must be the daemon itself) whether all its workers are ready. */
async function probe(group: DaemonGroup, daemonPid: number): Promise<Probe> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(group.socket, { timeoutMs: 1000 });
  } catch {
    // a group whose every worker finished (a one-shot job beside the others) has let go of its
    // socket, and is done: it is not waited for
    if (await finishedInDaemon(group, daemonPid)) return { ok: true, crashes: [] };
    const gaveUp = gaveUpInDaemon(group, daemonPid);
    if (gaveUp) return { ok: false, why: gaveUp, final: true };
    return { ok: false, why: `its control socket '${group.socket}' does not answer` };
  }
  try {
    const status = await client.request<GroupStatus>('status', undefined, { timeoutMs: 3000 });
    if (status.master.pid !== daemonPid) {
      return { ok: false, why: `another master (pid ${status.master.pid}) answers on '${group.socket}'` };
    }
    // which crashes happened, not how many replacements: recycles and reloads are no failure
    const crashes = status.workers
      .filter((w) => w.lastExit?.reason === 'crash' || w.lastExit?.reason === 'hang')
      .map((w) => `${group.baseTitle}:${w.pin}@${w.lastExit?.at}`);
    // a PIN between two processes of a recycle (executeTimes, limitSeconds) is not unsettled
    const waiting = status.workers.filter(
      (w) => !SETTLED_STATES.has(w.state) && !(w.state === 'starting' && w.lastExit?.reason === 'recycle'),
    );
    if (
      status.master.state !== 'running' ||
      waiting.length > 0 ||
      status.workers.length < status.master.targetWorkers
    ) {
      const states = status.workers.map((w) => `${w.pin}:${w.state}`).join(' ');
      return {
        ok: false,
        // a state seen, which a stop of the daemon that follows a failure ends
        why: `when last asked, '${group.baseTitle}' was ${status.master.state}, workers ${states || 'none'}`,
        crashes,
      };
    }
    return { ok: true, crashes };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  } finally {
    client.close();
  }
}

/** Whether `group`'s master in the daemon `daemonPid` logged that every worker finished normally. */
async function finishedInDaemon(group: DaemonGroup, daemonPid: number): Promise<boolean> {
  const record = `[${group.baseTitle}:master #${daemonPid}] ${ALL_FINISHED_NOTICE}`;
  const lines = await lastLines(group.logFile, FINISHED_TAIL_LINES).catch(() => []);
  return lines.some((line) => line.includes(record));
}
const FINISHED_TAIL_LINES = 20;

/**
 * Why `group`'s master in the daemon `daemonPid` gave up (every worker given up, while the other
 * groups of the daemon run on), from the `<name>.ended` record it left, taken away: this start
 * says it. Null when it did not.
 */
function gaveUpInDaemon(group: DaemonGroup, daemonPid: number): string | null {
  const { endedFile } = groupPaths(dirname(group.socket), group.baseTitle);
  let record: PidRecord | null;
  try {
    record = readPidFile(endedFile);
  } catch {
    return null;
  }
  if (!record?.end || record.pid !== daemonPid) return null;
  claimEndedRecord(endedFile);
  return `'${group.baseTitle}' gave up: ${describeGroupEnd(record.end)}`;
}

/** The PIN with the most distinct crashes among `group:pin@time` entries. */
function worstPin(crashes: ReadonlySet<string>): { pin: string; crashes: number } {
  const perPin = new Map<string, number>();
  for (const crash of crashes) {
    const pin = crash.slice(0, crash.indexOf('@'));
    perPin.set(pin, (perPin.get(pin) ?? 0) + 1);
  }
  let worst = { pin: '', crashes: 0 };
  for (const [pin, n] of perPin) if (n > worst.crashes) worst = { pin, crashes: n };
  return worst;
}

/** Resolves once every group is ready and stayed up for `settleMs`; `interrupted` ends the wait. */
function waitUntilSettled(
  child: ChildProcess,
  groups: readonly DaemonGroup[],
  settleMs: number,
  deadlineMs: number,
  interrupted: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let readySince: number | null = null;
    let crashesAtReady: string | null = null;
    const seenCrashes = new Set<string>();
    let last = 'it did not answer yet';
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const when = readySince === null ? 'before it was ready' : 'right after it was ready';
      finish(new StartFailure(`the daemon (pid ${child.pid}) ${how} ${when}`, false, code));
    };
    const onError = (err: Error) =>
      finish(new StartFailure(`the daemon could not be spawned (${err.message})`, false));
    child.once('exit', onExit);
    child.once('error', onError);
    interrupted.addEventListener('abort', () => finish(new WaitInterrupted()), { once: true });

    const poll = async () => {
      timer = null;
      if (done) return;
      const results = await Promise.all(groups.map((g) => probe(g, child.pid as number)));
      if (done) return;
      const failed = results.find((r): r is { ok: false; why: string; final?: true } => !r.ok);
      if (failed?.final) {
        finish(new StartFailure(failed.why, true, null, true));
        return;
      }
      for (const r of results) for (const crash of r.crashes ?? []) seenCrashes.add(crash);
      const crashes = results.map((r) => (r.crashes ?? []).join(' ')).join('|');
      const looping = worstPin(seenCrashes);
      if (looping.crashes >= CRASHES_TO_GIVE_UP) {
        const why = failed ? failed.why : 'its workers keep crashing';
        finish(
          new StartFailure(
            `worker ${looping.pin} crashed ${looping.crashes} times while starting (${why})`,
            true,
          ),
        );
        return;
      }
      if (failed) {
        last = failed.why;
        readySince = null;
      } else if (readySince === null || crashes !== crashesAtReady) {
        // a worker that crashes while settling restarts the wait
        readySince = Date.now();
        crashesAtReady = crashes;
      }
      if (readySince !== null && Date.now() - readySince >= settleMs) {
        finish();
        return;
      }
      if (Date.now() - started > deadlineMs) {
        finish(new StartFailure(`not ready within ${deadlineMs} ms (${last})`, true));
        return;
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    timer = setTimeout(() => void poll(), POLL_MS);
  });
}

/**
 * Stops a daemon that missed its deadline: SIGTERM to its process group, SIGKILL after a grace.
 * Resolves with how it was stopped, or null when it had exited already.
 */
async function stopDaemon(child: ChildProcess): Promise<'stopped' | 'killed' | null> {
  const pid = child.pid;
  if (!pid || child.exitCode !== null || child.signalCode !== null) return null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // gone already
    }
  };
  signalGroup('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), STOP_GRACE_MS);
  });
  const onTime = await Promise.race([exited.then(() => true), grace]);
  clearTimeout(timer);
  if (onTime) return 'stopped';
  signalGroup('SIGKILL');
  await exited;
  return 'killed';
}

/**
 * The last lines the daemon wrote to each of `files` (its groups' logs and its output file), each
 * file's under a `--- <name>` line when more than one has any.
 */
async function logTail(files: readonly string[], offsets: Map<string, number>): Promise<string[]> {
  const tails = await Promise.all(
    [...new Set(files)].map(async (file) => ({
      file,
      lines: (await lastLines(file, TAIL_LINES, offsets.get(file) ?? 0).catch(() => [] as string[])).filter(
        (line) => !isOutputMark(line),
      ),
    })),
  );
  const written = tails.filter((t) => t.lines.length > 0);
  if (written.length <= 1) return written[0]?.lines ?? [];
  return written.flatMap((t) => [`--- ${basename(t.file)}`, ...t.lines]);
}

/** A line of the group's log written by its logger: it starts with the record's ISO time. */
const LOG_RECORD = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

/**
 * The line that best says why: the master's "start failed", else the daemon's own last
 * `drover: …` line (an error before any master ran), else the last error that is not an exit
 * of the stop that followed.
 */
function keyLine(tail: readonly string[]): string | null {
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = tail[i] as string;
    const at = line.indexOf('start failed: ');
    if (at !== -1) return line.slice(at + 'start failed: '.length);
  }
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = (tail[i] as string).trim();
    // the daemon's own output, not a log record (a worker printing "drover: …" comes as one)
    if (LOG_RECORD.test(line)) continue;
    const at = line.indexOf('drover: ');
    if (at !== -1) return line.slice(at + 'drover: '.length);
  }
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = (tail[i] as string).trim();
    // an exit the stop of the failed start caused says nothing of why it failed; nor a file's title
    if (/\breason=stop\b/.test(line) || line.startsWith('--- ')) continue;
    // a record without its time and level: `[group:pin #pid] message`
    if (/\b(error|fatal)\b|Error:/.test(line))
      return LOG_RECORD.test(line) ? line.replace(RECORD_HEAD, '') : line;
  }
  return null;
}

/** A log record's time and level, before its `[origin]`. */
const RECORD_HEAD = /^\S+\s+\S+\s+/;

/**
 * Why a daemon can leave an empty log: its disk is full (creating the log file takes no data
 * block, so the check before the spawn passed, and every line after it was lost).
 */
function fullDisk(groups: readonly DaemonGroup[]): string | null {
  for (const group of groups) {
    const dir = dirname(group.logFile);
    try {
      const fs = statfsSync(dir);
      if (fs.bavail === 0)
        return `the disk holding '${dir}' is full, so the daemon could not write its log; free some space and start again`;
    } catch {
      // no answer from the file system: nothing to add
    }
  }
  return null;
}

function writeQuietly(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // a full disk, a file size limit: the spawn goes on, and says what is wrong, if anything is
  }
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DroverError } from '@drover/core';
import {
  defaultRunDir,
  describeGroupEnd,
  type EndedGroup,
  escapeControl,
  type MasterElsewhere,
  mastersElsewhere,
  type OtherUserMaster,
  otherUsersMasters,
  groupRunOutput,
  type RunOutput,
  type RunningGroup,
  scanGroups,
} from '@drover/core/control';

/** The word `stop`, `restart` and `reload` take for every running group. */
export const ALL = 'all';

/** Where the `ended` lines of a scan go: stderr. */
export interface ErrorStream {
  write(text: string): unknown;
}

/** What a scan of this user's run directory found. */
export interface RunDirScan {
  /** `$DROVER_RUN_DIR` or the default, as the scan looked in it */
  runDir: string;
  /** the running groups, by name */
  running: RunningGroup[];
  /** the groups that ended unattended (killed, or gave up), found (and cleaned) by this scan */
  ended: EndedGroup[];
}

/**
 * Scans this user's run directory (`$DROVER_RUN_DIR` or the default), or only the groups named
 * `only` there. A group that ended unattended (its pid file named a master that is gone, or its
 * master gave up) is said on `stderr`, once: the scan that finds it removes what it left.
 */
export async function scanRunDir(stderr: ErrorStream | null, only?: readonly string[]): Promise<RunDirScan> {
  const runDir = defaultRunDir();
  const { running, ended } = await scanGroups(runDir, only);
  for (const group of ended) {
    // a master of that name runs now: a later one (its pid may be the same: both PID 1 of a container)
    const again = running.some((g) => g.baseTitle === group.baseTitle);
    stderr?.write(`drover: ${describeEnded(group, again)}\n`);
  }
  return { runDir, running: [...running].sort((a, b) => a.baseTitle.localeCompare(b.baseTitle)), ended };
}

/**
 * `'web' (pid 4242) is no longer running: its master ended without stopping; ...; its log: <file>`,
 * then, when its daemon wrote in its output file during that run (a crash's stack trace, V8's
 * FATAL ERROR), what that is and the file (describeOutput); or for a group that gave up `'web' (pid
 * 4242) gave up and is no longer running: worker 0 given up after ...`; `runsAgain`: a master of
 * that name runs now, started after it.
 */
export function describeEnded(group: EndedGroup, runsAgain = false, now = Date.now()): string {
  const log = group.logFile ? `; its log: ${group.logFile}` : '';
  const who = `'${group.baseTitle}' (pid ${group.pid})`;
  if (group.end) {
    const why = describeGroupEnd(group.end, now);
    return runsAgain
      ? `${who} gave up before the master that runs it now started: ${why}${log}`
      : `${who} gave up and is no longer running: ${why}; start it again ('start') once the cause is fixed${log}`;
  }
  const last = group.logFile ? describeOutput(groupRunOutput(group.logFile, group.baseTitle, group.pid)) : '';
  if (runsAgain)
    return `${who} ended without stopping (killed, or crashed) before the master that runs it now started${log}${last}`;
  return `${who} is no longer running: its master ended without stopping (killed, or crashed); removed its stale files${log}${last}`;
}

/**
 * What its daemon wrote outside the log during the run that ended (see runOutput), after the
 * log in describeEnded's line: `; Node's report of its crash (Error: boom): <file>`, `; V8's
 * report of its fatal error (FATAL ERROR: …): <file>`, `; what it printed outside its log (last
 * line: …): <file>`; nothing when it wrote nothing there (a master killed by SIGKILL, the OOM
 * killer).
 */
function describeOutput(output: RunOutput | null): string {
  if (!output) return '';
  const line = escapeControl(output.line);
  switch (output.kind) {
    case 'crash':
      return `; Node's report of its crash${line ? ` (${line})` : ''}: ${output.file}`;
    case 'fatal':
      return `; the report of its fatal error (${line}): ${output.file}`;
    default:
      return `; what it printed outside its log (last line: ${line}): ${output.file}`;
  }
}

/** The running groups of this user's run directory, by name; ended ones are said on `stderr`. */
export async function listRunning(stderr: ErrorStream | null = null): Promise<RunningGroup[]> {
  return (await scanRunDir(stderr)).running;
}

/**
 * The running groups `name` designates: the one of that name, or every one for `all`. Groups
 * whose master ended without stopping are said on `stderr` (see scanRunDir): for a name, only
 * that group is looked at, unless it does not run (the error then names the groups that do).
 *
 * @throws DroverError ENOTRUNNING (notRunningError) when `name` is not one of them.
 */
export async function findRunning(name: string, stderr: ErrorStream | null = null): Promise<RunningGroup[]> {
  if (name === ALL) return (await scanRunDir(stderr)).running;
  const one = await scanRunDir(stderr, [name]);
  const group = one.running[0];
  if (group) return [group];
  const scan = await withOthers(one, stderr);
  // it started meanwhile
  const late = scan.running.find((g) => g.baseTitle === name);
  if (late) return [late];
  throw notRunningError(name, scan);
}

/** `scan` of one group, and the rest of the run directory: what a message about it names. */
export async function withOthers(scan: RunDirScan, stderr: ErrorStream | null): Promise<RunDirScan> {
  const all = await scanRunDir(stderr);
  return { runDir: scan.runDir, running: all.running, ended: [...scan.ended, ...all.ended] };
}

/**
 * `no group named 'x' is running in <run dir>`, with the groups that run there, and, when a master
 * of this user runs a group of that name with another run directory (or, with nothing running
 * there, any group), where, and the DROVER_RUN_DIR that reaches it. For root, the same of the
 * masters of other users (otherUsersMasters), and how to run drover as their user.
 */
export function notRunningError(name: string, scan: RunDirScan): DroverError {
  const here = scan.running.map((g) => g.baseTitle);
  const ended = scan.ended.some((g) => g.baseTitle === name);
  const message = `drover: no group named '${name}' is running in ${scan.runDir}${here.length > 0 ? `; running there: ${here.join(', ')}` : ''}`;
  const elsewhere = mastersElsewhere(
    scan.runDir,
    scan.running.map((g) => g.pid),
  );
  const others = otherUsersMasters();
  const same = elsewhere.filter((m) => m.groups.includes(name));
  const othersSame = others.filter((m) => m.groups.includes(name));
  const hints: string[] = [];
  if (same.length > 0) hints.push(elsewhereHint(same, `'${name}'`));
  if (othersSame.length > 0)
    hints.push(`${same.length > 0 ? 'and' : 'but'} ${otherUsersHint(othersSame, `'${name}'`)}`);
  if (hints.length > 0) return new DroverError('ENOTRUNNING', message, { hint: hints.join('; ') });
  if (here.length > 0) return new DroverError('ENOTRUNNING', message);
  // nothing runs here: a shell with the wrong DROVER_RUN_DIR (or user) is as likely as a group not started
  const start = ended || ranHere(scan.runDir, name) ? `start it again ('start')` : `start it first ('start')`;
  const note = elsewhereNoteOf(elsewhere, others);
  return new DroverError('ENOTRUNNING', message, { hint: note === null ? start : `${start}; but ${note}` });
}

/**
 * Whether group `name` ran in `runDir` before: its log is in the run directory's `logs` (a
 * command that lost the race to report its end, or one after it, says "start it again" too).
 */
function ranHere(runDir: string, name: string): boolean {
  return !name.includes('/') && existsSync(join(runDir, 'logs', `${name}.log`));
}

/**
 * The note for `drover status` or `stop all` that found nothing running: the masters of this user
 * that run with another run directory, and the DROVER_RUN_DIR that reaches them; for root, the
 * masters of other users too, and how to run drover as their user; null for none.
 */
export function elsewhereNote(scan: RunDirScan): string | null {
  return elsewhereNoteOf(
    mastersElsewhere(
      scan.runDir,
      scan.running.map((g) => g.pid),
    ),
    otherUsersMasters(),
  );
}

function elsewhereNoteOf(
  elsewhere: readonly MasterElsewhere[],
  others: readonly OtherUserMaster[],
): string | null {
  const notes: string[] = [];
  if (elsewhere.length > 0) notes.push(elsewhereHint(elsewhere, null));
  if (others.length > 0) notes.push(`${notes.length > 0 ? 'and ' : ''}${otherUsersHint(others, null)}`);
  return notes.length === 0 ? null : notes.join('; ');
}

/**
 * For root, when another user runs group `name` (a `docker exec` as root into a container whose
 * service runs as its USER): `but uid 1000 (node) runs 'web' (...); run drover as that user: ...`,
 * to append to a message about `name`; null when none does, or for any other user.
 */
export function otherUsersNote(name: string): string | null {
  const found = otherUsersMasters().filter((m) => m.groups.includes(name));
  return found.length === 0 ? null : `but ${otherUsersHint(found, `'${name}'`)}`;
}

/** `uid 1000 (node)`, or `uid 100123` for a uid without an account. */
function userLabel(m: OtherUserMaster): string {
  return m.user === null ? `uid ${m.uid}` : `uid ${m.uid} (${m.user})`;
}

/**
 * `uid 1000 (node) runs 'web' (pid 5, run directory /tmp/drover-1000); run drover as that user:
 * runuser -u node -- drover ..., setpriv --reuid=1000 --regid=1000 --clear-groups drover ..., or
 * docker exec -u 1000 <container> drover ...`. `what`: the group asked for, or null for any group.
 */
function otherUsersHint(masters: readonly OtherUserMaster[], what: string | null): string {
  const { who, how } = otherUsersParts(masters, what, 'runs');
  return `${who}; ${how}`;
}

/** The masters of other users (`who`), and how to reach them (`how`): see otherUsersHint. */
function otherUsersParts(
  masters: readonly OtherUserMaster[],
  what: string | null,
  verb: string,
): { who: string; how: string } {
  const named = masters.slice(0, MAX_NAMED).map((m) => {
    const groups = what ?? m.groups.map((g) => `'${g}'`).join(', ');
    return `${userLabel(m)} ${verb} ${groups} (pid ${m.pid}, run directory ${m.runDir ?? 'unknown'})`;
  });
  if (masters.length > MAX_NAMED) named.push(`${masters.length - MAX_NAMED} more masters of other users`);
  const first = masters[0]!;
  const uids = new Set(masters.map((m) => m.uid));
  const as = uids.size === 1 ? 'that user' : `the user of the group you want, e.g. for ${userLabel(first)}`;
  const dir = first.runDir !== null && !first.defaultRunDir ? `, with DROVER_RUN_DIR=${first.runDir}` : '';
  const ways = [
    ...(first.user === null ? [] : [`runuser -u ${first.user} -- drover ...`]),
    `setpriv --reuid=${first.uid} --regid=${first.gid} --clear-groups drover ...`,
    `docker exec -u ${first.uid} <container> drover ...`,
  ];
  return {
    who: named.join(', '),
    how: `run drover as ${as}${dir}: ${ways.slice(0, -1).join(', ')}, or ${ways.at(-1)}`,
  };
}

/** Masters named in one message at most; the rest are counted. */
const MAX_NAMED = 4;

/**
 * `a drover master of this user runs 'web' with another run directory: pid 4242 in /run/app; set
 * DROVER_RUN_DIR=/run/app to reach it`. `what`: the group asked for, or null for any group.
 */
function elsewhereHint(masters: readonly MasterElsewhere[], what: string | null): string {
  const many = masters.length > 1;
  const subject = `${many ? `${masters.length} drover masters` : 'a drover master'} of this user run${many ? '' : 's'}${what ? ` ${what}` : ''} with another run directory`;
  const named = masters
    .slice(0, MAX_NAMED)
    .map(
      (m) =>
        `pid ${m.pid}${what ? '' : ` (${m.groups.join(', ')})`} in ${m.runDir ?? 'an unknown run directory (neither its sockets nor its environment name one)'}`,
    );
  if (masters.length > MAX_NAMED) named.push(`${masters.length - MAX_NAMED} more`);
  const dirs = [...new Set(masters.map((m) => m.runDir).filter((d): d is string => d !== null))];
  const fix =
    dirs.length === 0
      ? `set DROVER_RUN_DIR to the run directory ${many ? 'they were' : 'it was'} started with to reach ${many ? 'them' : 'it'}`
      : dirs.length === 1
        ? `set DROVER_RUN_DIR=${dirs[0]} to reach ${many ? 'them' : 'it'}`
        : `set DROVER_RUN_DIR to the run directory of the group you want (${dirs.slice(0, MAX_NAMED).join(', ')}${dirs.length > MAX_NAMED ? ', ...' : ''})`;
  return `${subject}: ${named.join(', ')}; ${fix}`;
}

/**
 * The warning a start prints before it runs a second copy of a group: when a master of this user
 * already runs one of `names` with another run directory (a separate namespace: legitimate, but
 * two copies of the group then run; asked only of a start in the default run directory), and, for
 * root, when another user runs one of `othersNames` (a second copy, which that user's drover
 * commands do not see); null when none does.
 */
export function startedElsewhereWarning(
  names: readonly string[],
  othersNames: readonly string[] = names,
): string | null {
  const runDir = defaultRunDir();
  const found =
    names.length === 0 ? [] : mastersElsewhere(runDir).filter((m) => m.groups.some((g) => names.includes(g)));
  const others = otherUsersMasters().filter((m) => m.groups.some((g) => othersNames.includes(g)));
  const lines: string[] = [];
  if (found.length > 0) {
    const which = found.map((m) => {
      const groups = m.groups.filter((g) => names.includes(g)).map((g) => `'${g}'`);
      return `${groups.join(', ')} (pid ${m.pid}, run directory ${m.runDir ?? 'unknown'})`;
    });
    const dirs = [...new Set(found.map((m) => m.runDir).filter((d): d is string => d !== null))];
    const fix =
      dirs.length === 1
        ? `set DROVER_RUN_DIR=${dirs[0]}`
        : `set DROVER_RUN_DIR to its run directory${dirs.length > 1 ? ` (${dirs.join(', ')})` : ''}`;
    lines.push(
      `drover: warning: a master of this user already runs ${which.join(', ')}; this start uses ${runDir}, another run directory, so two copies run, and the commands of a shell see only the one of its DROVER_RUN_DIR; ` +
        `to control that one, ${fix}`,
    );
  }
  if (others.length > 0) {
    const only = others.map((m) => ({ ...m, groups: m.groups.filter((g) => othersNames.includes(g)) }));
    const { who, how } = otherUsersParts(only, null, 'already runs');
    lines.push(
      `drover: warning: ${who}; this start, as root, runs a second copy in ${runDir}, and the drover commands of each user see only their own; to control that one, ${how}`,
    );
  }
  return lines.length === 0 ? null : lines.join('\n');
}

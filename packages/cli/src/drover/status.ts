import type { OutputStream } from '@drover/command';
import type { GroupStatus } from '@drover/core';
import { colorWanted, describeDegraded, escapeControl, renderStatusTable } from '@drover/core/control';
import { elsewhereNote, notRunningError, scanRunDir, withOthers } from './groups.js';
import { describeFailure } from './failure.js';
import { requestStatus } from './statusRequest.js';

export interface StatusRequest {
  /** One group; every running group when absent. */
  name?: string;
  /** The same data as JSON instead of the table. */
  json: boolean;
}

export interface StatusIO {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * `drover status [name] [--json]`: asks every running master (or the named one) for its status
 * and prints the table, or JSON (an array of `GroupStatus`, one per group). With every group, each
 * table has a heading with the group's name; a group asked for by name gets the table and, under
 * it, what it runs (StatusTableOptions.details). A group that stops between discovery and the
 * question is reported on stderr and makes the exit code 1. A group with a PIN that no worker
 * serves (crash-looping, or given up on) is said on stderr and makes it 3, as `systemctl status`
 * of a unit in auto-restart: monitors need no parsing to tell. So does a group that ended unattended
 * (its master killed, found by its pid file, or given up): said once, by the status that finds it.
 * With nothing running, the run directory looked in is named, and the masters of this user that
 * run with another one.
 *
 * @throws DroverError ENOTRUNNING when `name` is given and no group of that name runs (nor just ended).
 */
export async function printStatus(request: StatusRequest, io: StatusIO): Promise<number> {
  const name = request.name;
  let scan = await scanRunDir(io.stderr, name === undefined ? undefined : [name]);
  if (name !== undefined && scan.running.length === 0) {
    // its end was just said: that is the status, not an error as well
    if (scan.ended.length > 0) {
      if (request.json) io.stdout.write('[]\n');
      return DEGRADED_EXIT_CODE;
    }
    scan = await withOthers(scan, io.stderr);
    const late = scan.running.find((g) => g.baseTitle === name);
    if (!late) throw notRunningError(name, scan);
    scan = { ...scan, running: [late] };
  }
  const groups = scan.running;
  const answers = await Promise.allSettled(groups.map((g) => requestStatus(g)));
  const statuses: GroupStatus[] = [];
  let code = 0;
  answers.forEach((answer, i) => {
    if (answer.status === 'fulfilled') statuses.push(answer.value);
    else {
      io.stderr.write(`drover: ${describeFailure(groups[i]!, answer.reason)}\n`);
      code = 1;
    }
  });
  // a script reading the JSON must not take a partial answer for the whole one
  if (request.json && code !== 0) return code;
  if (request.json) {
    io.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
  } else if (groups.length === 0) {
    io.stdout.write(`no drover group is running in ${scan.runDir}\n`);
  } else if (statuses.length > 0) {
    const options = { color: colorWanted(io.stdout, io.env), width: io.stdout.columns };
    io.stdout.write(
      name !== undefined
        ? // one group asked for by name: what it runs and how its last reload went, under its table
          renderStatusTable(statuses, { ...options, details: true })
        : statuses
            .map((status) => withHeading(status, options.color) + renderStatusTable([status], options))
            .join('\n'),
    );
  }
  if (groups.length === 0) {
    const note = elsewhereNote(scan);
    if (note !== null) io.stderr.write(`drover: but ${note}\n`);
  }
  const now = Date.now();
  for (const status of statuses) {
    const degraded = describeDegraded(status, now);
    if (degraded === null) continue;
    // a foreground group has no log file: its lines went to its terminal
    const why = status.master.run?.logFile ? `; 'drover logs ${status.master.baseTitle}' shows why` : '';
    io.stderr.write(`drover: ${degraded}${why}\n`);
    if (code === 0) code = DEGRADED_EXIT_CODE;
  }
  if (scan.ended.length > 0 && code === 0) code = DEGRADED_EXIT_CODE;
  return code;
}

/** `group  web`: the line over each table of `drover status` of every group (a master may run several). */
function withHeading(status: GroupStatus, color: boolean): string {
  const name = escapeControl(status.master.baseTitle);
  return `group  ${color ? `\x1b[1m${name}\x1b[22m` : name}\n`;
}

/** `drover status`'s exit code when a group shown has a PIN no worker serves. */
export const DEGRADED_EXIT_CODE = 3;

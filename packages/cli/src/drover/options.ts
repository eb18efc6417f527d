import { availableParallelism } from 'node:os';
import { type CommandOption, Option, type ParamTarget, UsageError } from '@drover/command';
import { GROUP_NAME, GROUP_NAME_RULE } from './names.js';

/** Most workers one group may have (the master's own limit). */
export const MAX_WORKERS = 1024;

@Option({
  name: 'w',
  long: 'workers',
  description: `Number of workers, 1 to ${MAX_WORKERS}, or max: one per CPU; default 1`,
  value: 'required',
  valueName: 'count',
})
export class WorkersOption implements CommandOption<{ workers: number }> {
  impactAction(action: ParamTarget<{ workers: number }>, value: string | undefined): void {
    // PM2's `-i max`: as many as the CPUs this process may run on
    if (value === 'max') action.setParam('workers', Math.min(availableParallelism(), MAX_WORKERS));
    else action.setParam('workers', parseCount('-w', value, 1, MAX_WORKERS, ', or max (one per CPU)'));
  }
}

@Option({
  name: 'd',
  long: 'daemon',
  description: 'Run in the background; returns once every worker is ready and prints the pid',
  value: 'none',
})
export class DaemonOption implements CommandOption<{ background: boolean }> {
  impactAction(action: ParamTarget<{ background: boolean }>): void {
    action.setParam('background', true);
  }
}

@Option({
  name: 'name',
  description: "Group name (titles, pid file, socket, log); default: the script's file name",
  value: 'required',
  valueName: 'name',
})
export class NameOption implements CommandOption<{ name: string }> {
  impactAction(action: ParamTarget<{ name: string }>, value: string | undefined): void {
    action.setParam('name', parseGroupName('--name', value ?? ''));
  }
}

@Option({ name: 'json', description: 'Print the status as JSON', value: 'none' })
export class JsonOption implements CommandOption<{ json: boolean }> {
  impactAction(action: ParamTarget<{ json: boolean }>): void {
    action.setParam('json', true);
  }
}

@Option({ name: 'f', long: 'follow', description: 'Keep printing lines as they are written', value: 'none' })
export class FollowOption implements CommandOption<{ follow: boolean }> {
  impactAction(action: ParamTarget<{ follow: boolean }>): void {
    action.setParam('follow', true);
  }
}

@Option({
  name: 'n',
  long: 'lines',
  description: 'Number of last lines to print first; default 20',
  value: 'required',
  valueName: 'count',
})
export class LinesOption implements CommandOption<{ lines: number }> {
  impactAction(action: ParamTarget<{ lines: number }>, value: string | undefined): void {
    action.setParam('lines', parseCount('-n', value, 0, 1_000_000));
  }
}

/** A whole number from `min` to `max`, or a UsageError naming the flag, the value and the range. */
export function parseCount(
  flag: string,
  value: string | undefined,
  min: number,
  max = MAX_WORKERS,
  orElse = '',
): number {
  const count = /^\d+$/.test(value ?? '') ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(count) || count < min || count > max) {
    throw new UsageError(`${flag} is ${JSON.stringify(value ?? '')}`, {
      hint: `expected a whole number from ${min} to ${max}${orElse}`,
    });
  }
  return count;
}

/** A valid group name, or a UsageError naming where it came from and the rule. */
export function parseGroupName(what: string, value: string): string {
  if (!GROUP_NAME.test(value)) {
    throw new UsageError(`${what} is ${JSON.stringify(value)}`, {
      hint: `a group name is ${GROUP_NAME_RULE}`,
    });
  }
  return value;
}

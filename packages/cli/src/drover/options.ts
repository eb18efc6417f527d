import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { type CommandOption, Option, type ParamTarget, UsageError } from '@drover/command';
import {
  ConfigError,
  type ManageConfig,
  type ManageOptions,
  parseSize,
  resolveManageConfig,
} from '@drover/core';
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

/** The group options `drover start <script>` takes as flags, by their ManageOptions key. */
export type GroupFlagOptions = Pick<
  ManageOptions,
  'maxMemory' | 'readyWhen' | 'readyTimeout' | 'stopTimeout' | 'hangTimeout' | 'execArgv' | 'logDir'
>;

/** The flag of each group option: a config file entry sets the key, a command line the flag. */
export const GROUP_OPTION_FLAGS: Readonly<Record<keyof GroupFlagOptions, string>> = {
  maxMemory: '--max-memory',
  readyWhen: '--ready-when',
  readyTimeout: '--ready-timeout',
  stopTimeout: '--stop-timeout',
  hangTimeout: '--hang-timeout',
  execArgv: '--node-args',
  logDir: '--log-dir',
};

@Option({
  name: 'max-memory',
  description: 'Recycle a worker whose memory (RSS) exceeds this size: 300M, 1.5G, 800K; default 0: off',
  value: 'required',
  valueName: 'size',
})
export class MaxMemoryOption implements CommandOption<GroupFlagOptions> {
  impactAction(action: ParamTarget<GroupFlagOptions>, value: string | undefined): void {
    action.setParam('maxMemory', parseMaxMemory(value ?? ''));
  }
}

@Option({
  name: 'ready-when',
  description:
    "When a plain script's worker is ready: loaded (default), listening (a server of it listens) or message (it calls process.send('ready'))",
  value: 'required',
  valueName: 'when',
})
export class ReadyWhenOption implements CommandOption<GroupFlagOptions> {
  impactAction(action: ParamTarget<GroupFlagOptions>, value: string | undefined): void {
    action.setParam('readyWhen', checkFlag('readyWhen', value ?? '', value ?? '').readyWhen);
  }
}

@Option({
  name: 'ready-timeout',
  description: 'Time a starting worker gets to be ready: ms, or 30s, 2m; default 30s',
  value: 'required',
  valueName: 'time',
})
export class ReadyTimeoutOption implements CommandOption<GroupFlagOptions> {
  impactAction(action: ParamTarget<GroupFlagOptions>, value: string | undefined): void {
    action.setParam('readyTimeout', parseDuration('readyTimeout', value ?? ''));
  }
}

@Option({
  name: 'stop-timeout',
  description: 'Time a stopping worker gets to finish before SIGKILL: ms, or 10s, 1m; default 10s',
  value: 'required',
  valueName: 'time',
})
export class StopTimeoutOption implements CommandOption<GroupFlagOptions> {
  impactAction(action: ParamTarget<GroupFlagOptions>, value: string | undefined): void {
    action.setParam('stopTimeout', parseDuration('stopTimeout', value ?? ''));
  }
}

@Option({
  name: 'hang-timeout',
  description: 'Replace a worker whose event loop has not answered for this long: ms, or 5s; default 0: off',
  value: 'required',
  valueName: 'time',
})
export class HangTimeoutOption implements CommandOption<GroupFlagOptions> {
  impactAction(action: ParamTarget<GroupFlagOptions>, value: string | undefined): void {
    action.setParam('hangTimeout', parseDuration('hangTimeout', value ?? ''));
  }
}

@Option({
  name: 'node-args',
  description:
    "Node options for the workers, split at spaces: '--max-old-space-size=512 --enable-source-maps'",
  value: 'required',
  valueName: 'args',
})
export class NodeArgsOption implements CommandOption<GroupFlagOptions> {
  impactAction(action: ParamTarget<GroupFlagOptions>, value: string | undefined): void {
    action.setParam('execArgv', parseNodeArgs(value ?? ''));
  }
}

@Option({
  name: 'log-dir',
  description: 'Directory of the log file of a background group; default <run dir>/logs',
  value: 'required',
  valueName: 'dir',
})
export class LogDirOption implements CommandOption<GroupFlagOptions> {
  impactAction(action: ParamTarget<GroupFlagOptions>, value: string | undefined): void {
    const typed = value ?? '';
    // absolute now: the daemon has the same working directory, but the path printed is clearer
    action.setParam('logDir', checkFlag('logDir', typed, typed === '' ? '' : resolve(typed)).logDir);
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

/**
 * `value`, typed as `typed`, checked as the group option `key` by core's own rules (those of a
 * config file entry), and the group's config with it; otherwise a UsageError naming the flag, what
 * was typed and what is allowed.
 */
function checkFlag(key: keyof GroupFlagOptions, typed: string, value: unknown): ManageConfig {
  try {
    return resolveManageConfig({ baseTitle: 'flag', [key]: value });
  } catch (error) {
    if (!(error instanceof ConfigError) || error.key !== key) throw error;
    throw flagError(GROUP_OPTION_FLAGS[key], typed, error.hint ?? 'expected another value');
  }
}

function flagError(flag: string, typed: string, hint: string): UsageError {
  // `drover start --stop-timeout app.mjs`: the flag took the next word, the script
  const tookScript = isFile(typed)
    ? `; ${flag} took '${typed}', the word after it, as its value: write ${flag}=<value>`
    : '';
  return new UsageError(`${flag} is ${JSON.stringify(typed)}`, { action: 'start', hint: hint + tookScript });
}

function isFile(path: string): boolean {
  try {
    return path !== '' && statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Less than any Node process uses: a limit this low recycles every worker at every check. */
const MIN_MAX_MEMORY = 1024 ** 2;

/**
 * A size as the config key `maxMemory` takes it ('300M', '1.5G', bytes), kept as typed. A size
 * under 1M is refused: a bare `300` is 300 bytes, which PM2 users mean as 300M.
 */
function parseMaxMemory(typed: string): string {
  // a size under 1M gets the flag's own advice (core refuses it too, in a config file's words)
  let bytes: number | null = null;
  try {
    bytes = parseSize(typed, 'maxMemory');
  } catch {}
  if (bytes !== null && bytes > 0 && bytes < MIN_MAX_MEMORY) {
    throw flagError(
      '--max-memory',
      typed,
      `that is ${bytes} bytes, less than any Node process uses: give a unit (--max-memory=${/^[\d.]+$/.test(typed) && Number(typed) <= 65_536 ? `${typed}M` : '300M'}), or 0 for no limit`,
    );
  }
  checkFlag('maxMemory', typed, typed);
  return typed;
}

/** Milliseconds or a duration with a unit (`10s`), as the config keys take them; checked by core. */
function parseDuration(key: 'readyTimeout' | 'stopTimeout' | 'hangTimeout', typed: string): number {
  return checkFlag(key, typed, /^\d+$/.test(typed) ? Number(typed) : typed)[key];
}

/**
 * Node options, split at whitespace as PM2's `--node-args`. The first word must be an option:
 * Node would take any other word for the script to run.
 */
function parseNodeArgs(typed: string): string[] {
  const words = typed.split(/\s+/).filter((word) => word !== '');
  if (words.length > 0 && !words[0]!.startsWith('-')) {
    throw flagError(
      '--node-args',
      typed,
      `expected Node options, starting with '-': --node-args='--max-old-space-size=512'`,
    );
  }
  return checkFlag('execArgv', typed, words).execArgv;
}

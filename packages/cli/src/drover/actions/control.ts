import { statSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import {
  Action,
  CommandAction,
  type CommandOption,
  Option,
  type ParamTarget,
  UsageError,
} from '@drover/command';
import { type Manage, type ReloadOptions, stopKillsNote } from '@drover/core';
import {
  ControlClient,
  changedEntryKeys,
  type GroupEntry,
  type GroupSource,
  loadGroupEntry,
  parseGroupSource,
  type RunningGroup,
} from '@drover/core/control';
import { describeEnvChange, reloadOutcome, reloadStopped, shellEnv, withoutPrefix } from '../../messages.js';
import { describeFailure } from '../failure.js';
import { ALL, elsewhereNote, findRunning, type RunDirScan, scanRunDir } from '../groups.js';
import { GROUP_NAME, GROUP_NAME_RULE } from '../names.js';
import { parseCount } from '../options.js';
import { remote } from '../remote.js';

const NAME_ARG = { name: "Group name, or 'all' for every running group" };

interface UpdateEnvParams {
  updateEnv: boolean;
}

@Option({
  name: 'update-env',
  description:
    "New workers get this shell's environment (and, for a group of a config file, its entry's env read again) in place of the one the group has",
  value: 'none',
})
export class UpdateEnvOption implements CommandOption<UpdateEnvParams> {
  impactAction(action: ParamTarget<UpdateEnvParams>): void {
    action.setParam('updateEnv', true);
  }
}

/**
 * One remote operation on one running group or on all of them. A single named group that fails
 * fails the command with its error; with `all`, each failure is one stderr line and the exit
 * code is 1 once every group was tried.
 */
abstract class GroupControlAction<P extends object = Record<never, never>> extends CommandAction<
  P,
  { name: string }
> {
  protected abstract apply(manage: Manage, group: RunningGroup): Promise<string>;
  /**
   * What `all` does with no group running: a stop has nothing left to do (exit 0); a reload or
   * restart did not happen, which a deploy script or systemd's `ExecReload=` must hear (exit 1).
   */
  protected readonly verbWhenNoneRuns: string | null = null;
  /** what the request is called in a message: 'stop', 'reload', 'restart' */
  protected abstract readonly request: string;

  async handler(): Promise<number> {
    const name = this.args.name;
    if (name !== ALL && !GROUP_NAME.test(name)) {
      throw new UsageError(`group name ${JSON.stringify(name)} is not valid`, {
        hint: `a group name is ${GROUP_NAME_RULE}, or 'all'`,
      });
    }
    let groups: RunningGroup[];
    let scan: RunDirScan | null = null;
    try {
      if (name === ALL) {
        scan = await scanRunDir(this.io.stderr);
        groups = scan.running;
      } else groups = await findRunning(name, this.io.stderr);
    } catch (error) {
      throw withoutPrefix(error);
    }
    if (groups.length === 0 && scan !== null) {
      const note = elsewhereNote(scan);
      if (this.verbWhenNoneRuns === null) {
        this.io.stdout.write(`no drover group is running in ${scan.runDir}\n`);
        if (note !== null) this.io.stderr.write(`drover: but ${note}\n`);
        return 0;
      }
      this.io.stderr.write(
        `drover: no drover group is running in ${scan.runDir}, so none was ${this.verbWhenNoneRuns}; ${note === null ? 'start one first, or set DROVER_RUN_DIR to the run directory of the groups' : `but ${note}`}\n`,
      );
      return 1;
    }
    const outcomes = await this.whileWaiting(groups, () =>
      Promise.allSettled(groups.map((g) => this.apply(remote(g), g))),
    );
    if (name !== ALL && outcomes[0]?.status === 'rejected') throw failure(groups[0]!, outcomes[0].reason);
    let code = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') this.io.stdout.write(`${outcome.value}\n`);
      else {
        const message = describeFailure(groups[i]!, outcome.reason);
        const named = message.includes(`'${groups[i]!.baseTitle}'`);
        this.io.stderr.write(`drover: ${named ? '' : `${groups[i]!.baseTitle}: `}${message}\n`);
        code = 1;
      }
    });
    return code;
  }

  /**
   * Runs `wait`; Ctrl-C or SIGTERM (systemd's ExecReload timing out) ends the wait, not what the
   * masters do: they go on, and the command says so before it exits 1 instead of vanishing.
   */
  private async whileWaiting<T>(groups: RunningGroup[], wait: () => Promise<T>): Promise<T> {
    const names = groups.map((g) => `'${g.baseTitle}'`).join(', ');
    const interrupted = (signal: NodeJS.Signals) => {
      this.io.stderr.write(
        `drover: stopped waiting (${signal}): the ${this.request} of ${names} goes on in ${groups.length > 1 ? 'their masters' : 'its master'}; 'drover status${groups.length > 1 ? '' : ` ${groups[0]!.baseTitle}`}' shows how it does\n`,
      );
      process.exit(1);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    for (const signal of signals) process.once(signal, interrupted);
    try {
      return await wait();
    } finally {
      for (const signal of signals) process.off(signal, interrupted);
    }
  }
}

@Action({ name: 'stop', description: 'Stop a running group gracefully', args: NAME_ARG })
export class StopAction extends GroupControlAction {
  protected readonly request = 'stop';
  protected async apply(manage: Manage, group: RunningGroup): Promise<string> {
    const outcome = await manage.stop();
    return `stopped '${group.baseTitle}' (pid ${group.pid})${stopKillsNote(outcome)}`;
  }
}

/** A restart or reload, with `--update-env`: the environment update is prepared per group. */
abstract class RenewAction extends GroupControlAction<UpdateEnvParams> {
  /**
   * The update `--update-env` asks for, and how the output says it; null without the flag. For
   * a group of a config file, the file is read and validated first: an invalid one throws, and
   * the group is not touched.
   */
  protected async envUpdate(group: RunningGroup): Promise<EnvUpdatePlan | null> {
    if (!this.getParam('updateEnv', false)) {
      await this.warnUnapplied(group);
      return null;
    }
    const plan = await planEnvUpdate(group);
    if (plan.ignored.length > 0 && plan.file !== null) {
      this.io.stderr.write(
        `${unappliedWarning(group.baseTitle, plan.file, plan.ignored, true, plan.workers)}\n`,
      );
    }
    return plan;
  }

  /**
   * Without `--update-env`, a group of a config file is renewed as it was started: when its entry
   * in the file changed since, a warning says which keys and what applies them. The file is only
   * read for the warning: one that cannot be read (or a master that does not name it) says nothing.
   */
  private async warnUnapplied(group: RunningGroup): Promise<void> {
    const changed = await entryChanges(group).catch(() => null);
    if (changed === null || changed.keys.length === 0) return;
    this.io.stderr.write(
      `${unappliedWarning(group.baseTitle, changed.file, changed.keys, false, changed.workers)}\n`,
    );
  }
}

/**
 * The warning for keys of a group's entry that changed in its file and that this command does not
 * apply, with what does: `--update-env` for `env`, `scale` for `maxWorkerNum`, a stop and a start
 * for the rest.
 */
function unappliedWarning(
  name: string,
  file: string,
  keys: readonly string[],
  updateEnv: boolean,
  workers: number | undefined,
): string {
  const quoted = (list: readonly string[]) => list.map((k) => `'${k}'`).join(', ');
  const fixes: string[] = [];
  if (keys.includes('env')) fixes.push("--update-env applies 'env'");
  if (keys.includes('maxWorkerNum'))
    fixes.push(
      `drover scale ${name} ${workers ?? '<count>'} applies 'maxWorkerNum' (until the next start, the file's count then)`,
    );
  const rest = keys.filter((k) => k !== 'env' && k !== 'maxWorkerNum');
  if (rest.length > 0)
    fixes.push(
      `a stop and a start applies ${quoted(rest)} (drover stop ${name}, then drover start ${file} ${name})`,
    );
  const what = updateEnv
    ? "which --update-env does not apply (it takes the entry's env alone)"
    : 'which this command does not apply (it renews the workers as the group was started)';
  return `drover: warning: '${name}': its entry in ${file} ${updateEnv ? 'also ' : ''}changed ${quoted(keys)}, ${what}; ${fixes.join('; ')}`;
}

/**
 * The keys of `group`'s entry that changed in its JSON config file since its master started
 * (`env` aside: a master keeps none of its values), and the file's worker count; null for a group
 * not started from a JSON file.
 */
async function entryChanges(
  group: RunningGroup,
): Promise<{ file: string; keys: string[]; workers: number | undefined } | null> {
  const source = await sourceOf(group);
  // A JavaScript file is code: a plain reload or restart never ran it, and must not start to (a
  // file that waits on a network, or keeps a timer, would hold the command up or keep it alive).
  if (source === null || extname(source.file) !== '.json') return null;
  refuseForeignRunDir(group, source.file);
  const entry = await loadGroupEntry(source.file, group.baseTitle);
  return { file: source.file, keys: changedEntryKeys(source.entry, entry), workers: entry.maxWorkerNum };
}

@Action({
  name: 'restart',
  description: 'Stop every worker of a group, then start them all again',
  args: NAME_ARG,
})
export class RestartAction extends RenewAction {
  protected override readonly verbWhenNoneRuns = 'restarted';
  protected readonly request = 'restart';
  protected async apply(manage: Manage, group: RunningGroup): Promise<string> {
    const plan = await this.envUpdate(group);
    const outcome = await sent(group, () => manage.restart(plan?.options));
    return `restarted the workers of '${group.baseTitle}'${plan ? `, ${plan.said}${await changedVariables(manage)}` : ''}${stopKillsNote(outcome)}`;
  }
}

@Action({
  name: 'reload',
  description: 'Replace the workers one by one, each once its successor is ready',
  args: NAME_ARG,
})
export class ReloadAction extends RenewAction {
  protected override readonly verbWhenNoneRuns = 'reloaded';
  protected readonly request = 'reload';
  protected async apply(manage: Manage, group: RunningGroup): Promise<string> {
    const plan = await this.envUpdate(group);
    const result = await sent(group, () => manage.reload(plan?.options));
    if (result.aborted)
      throw reloadStopped(`'${group.baseTitle}'`, result.replaced, result.error, plan !== null);
    const said = plan ? `, ${plan.said}${await changedVariables(manage)}` : '';
    const outcome = reloadOutcome(`'${group.baseTitle}'`, [result], said);
    if (outcome.failure) throw outcome.failure;
    return outcome.line;
  }
}

/**
 * Which variables the update kept by the master added, changed and removed (names only, as it
 * records them): a variable this shell lacks is gone from the workers, which the line must say.
 * Empty for a master that does not record it.
 */
async function changedVariables(manage: Manage): Promise<string> {
  return describeEnvChange((await manage.status().catch(() => null))?.master.envUpdate);
}

/** What `--update-env` sends to one group, and what the output says of it. */
interface EnvUpdatePlan {
  options: ReloadOptions;
  /** `with the environment of this shell ...` */
  said: string;
  /** the config file read again, or null for a group that was not started from one */
  file: string | null;
  /** keys of its entry that changed besides env: not applied */
  ignored: string[];
  /** the worker count of its entry in the file */
  workers?: number;
}

/**
 * The environment update for `group`: this shell's environment, and for a group started from a
 * config file (its master names the file) the env of its entry, read and validated again.
 */
async function planEnvUpdate(group: RunningGroup): Promise<EnvUpdatePlan> {
  const source = await sourceOf(group);
  if (source === null)
    return {
      options: { env: shellEnv() },
      said: 'with the environment of this shell',
      file: null,
      ignored: [],
    };
  let entry: GroupEntry;
  try {
    refuseForeignRunDir(group, source.file);
    entry = await loadGroupEntry(source.file, group.baseTitle);
  } catch (error) {
    const message = (withoutPrefix(error) as Error).message;
    throw new Error(
      `cannot update the environment of '${group.baseTitle}': ${message}; nothing was done: its workers keep running as they are`,
      { cause: error },
    );
  }
  return {
    // taken after the file ran: what a JS config file puts in process.env (dotenv,
    // process.loadEnvFile) reached the workers at the start, and must again
    options: { env: shellEnv(), configEnv: entry.env ?? {} },
    said: `with the environment of this shell and the env of its entry in ${source.file}`,
    file: source.file,
    ignored: changedEntryKeys(source.entry, entry),
    workers: entry.maxWorkerNum,
  };
}

/**
 * A config file is code, and the master names it: only a master of this user's own run directory
 * (which nobody else can bind a socket in) gets its file run here. Root reloading another user's
 * group would otherwise run whatever file that user's process names.
 */
function refuseForeignRunDir(group: RunningGroup, file: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const dir = dirname(group.socket);
  const owner = statSync(dir).uid;
  if (owner !== uid)
    throw new Error(
      `drover: the run directory '${dir}' belongs to uid ${owner}, not to this user (uid ${uid}): its config file '${file}' is not run here; run the command as that user (sudo -u <user> env DROVER_RUN_DIR=${dir} drover ...)`,
    );
}

/** The config file entry the master of `group` was started from, or null (none, or an older master). */
async function sourceOf(group: RunningGroup): Promise<GroupSource | null> {
  const client = await ControlClient.connect(group.socket);
  try {
    return parseGroupSource(await client.request('ping'));
  } finally {
    client.close();
  }
}

/**
 * Runs a request that may carry an environment update: a master from before `--update-env`
 * refuses its arguments, which is said in words an operator can act on.
 */
async function sent<T>(group: RunningGroup, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (
      code === 'EPROTOCOL' &&
      typeof message === 'string' &&
      /unknown argument "(env|configEnv)"/.test(message)
    ) {
      throw new Error(
        `the master of '${group.baseTitle}' (pid ${group.pid}) runs an older drover that cannot update the environment; nothing was done: stop the group and start it again with this drover to use --update-env`,
        { cause: error },
      );
    }
    throw error;
  }
}

@Action({
  name: 'scale',
  description: 'Set the number of workers of a running group',
  args: { name: 'Group name', count: 'Number of workers, 0 to 1024' },
})
export class ScaleAction extends CommandAction<Record<never, never>, { name: string; count: string }> {
  async handler(): Promise<void> {
    const name = this.args.name;
    if (!GROUP_NAME.test(name) || name === ALL) {
      throw new UsageError(`group name ${JSON.stringify(name)} is not valid here`, {
        hint: `scale takes the name of one group (${GROUP_NAME_RULE})`,
      });
    }
    const count = parseCount('<count>', this.args.count, 0);
    let group: RunningGroup;
    try {
      [group] = (await findRunning(name, this.io.stderr)) as [RunningGroup];
    } catch (error) {
      throw withoutPrefix(error);
    }
    try {
      const result = await remote(group).scale(count);
      this.io.stdout.write(
        `scaled '${name}' from ${result.from} to ${result.to} worker(s)${stopKillsNote(result)}\n`,
      );
    } catch (error) {
      throw failure(group, error);
    }
  }
}

/** The error a failed request on `group` ends the command with (see describeFailure). */
function failure(group: RunningGroup, reason: unknown): Error {
  return new Error(describeFailure(group, reason), { cause: reason });
}

import { Action, CommandAction, UsageError } from '@drover/command';
import type { Manage } from '@drover/core';
import { defaultRunDir, type RunningGroup } from '@drover/core/control';
import { reloadStopped, withoutPrefix } from '../../messages.js';
import { describeFailure } from '../failure.js';
import { ALL, findRunning } from '../groups.js';
import { GROUP_NAME, GROUP_NAME_RULE } from '../names.js';
import { parseCount } from '../options.js';
import { remote } from '../remote.js';

const NAME_ARG = { name: "Group name, or 'all' for every running group" };

/**
 * One remote operation on one running group or on all of them. A single named group that fails
 * fails the command with its error; with `all`, each failure is one stderr line and the exit
 * code is 1 once every group was tried.
 */
abstract class GroupControlAction extends CommandAction<Record<never, never>, { name: string }> {
  protected abstract apply(manage: Manage, group: RunningGroup): Promise<string>;
  /**
   * What `all` does with no group running: a stop has nothing left to do (exit 0); a reload or
   * restart did not happen, which a deploy script or systemd's `ExecReload=` must hear (exit 1).
   */
  protected readonly verbWhenNoneRuns: string | null = null;

  async handler(): Promise<number> {
    const name = this.args.name;
    if (name !== ALL && !GROUP_NAME.test(name)) {
      throw new UsageError(`group name ${JSON.stringify(name)} is not valid`, {
        hint: `a group name is ${GROUP_NAME_RULE}, or 'all'`,
      });
    }
    let groups: RunningGroup[];
    try {
      groups = await findRunning(name);
    } catch (error) {
      throw withoutPrefix(error);
    }
    if (groups.length === 0) {
      if (this.verbWhenNoneRuns === null) {
        this.io.stdout.write('no drover group is running\n');
        return 0;
      }
      this.io.stderr.write(
        `drover: no drover group is running in ${defaultRunDir()}, so none was ${this.verbWhenNoneRuns}; start one first, or set DROVER_RUN_DIR to the run directory of the groups\n`,
      );
      return 1;
    }
    const outcomes = await Promise.allSettled(groups.map((g) => this.apply(remote(g), g)));
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
}

@Action({ name: 'stop', description: 'Stop a running group gracefully', args: NAME_ARG })
export class StopAction extends GroupControlAction {
  protected async apply(manage: Manage, group: RunningGroup): Promise<string> {
    await manage.stop();
    return `stopped '${group.baseTitle}' (pid ${group.pid})`;
  }
}

@Action({
  name: 'restart',
  description: 'Stop every worker of a group, then start them all again',
  args: NAME_ARG,
})
export class RestartAction extends GroupControlAction {
  protected override readonly verbWhenNoneRuns = 'restarted';
  protected async apply(manage: Manage, group: RunningGroup): Promise<string> {
    await manage.restart();
    return `restarted the workers of '${group.baseTitle}'`;
  }
}

@Action({
  name: 'reload',
  description: 'Replace the workers one by one, each once its successor is ready',
  args: NAME_ARG,
})
export class ReloadAction extends GroupControlAction {
  protected override readonly verbWhenNoneRuns = 'reloaded';
  protected async apply(manage: Manage, group: RunningGroup): Promise<string> {
    const result = await manage.reload();
    if (result.aborted) throw reloadStopped(`'${group.baseTitle}'`, result.replaced, result.error);
    return `reloaded '${group.baseTitle}': ${result.replaced} worker(s) replaced`;
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
      [group] = (await findRunning(name)) as [RunningGroup];
    } catch (error) {
      throw withoutPrefix(error);
    }
    try {
      const { from, to } = await remote(group).scale(count);
      this.io.stdout.write(`scaled '${name}' from ${from} to ${to} worker(s)\n`);
    } catch (error) {
      throw failure(group, error);
    }
  }
}

/** The error a failed request on `group` ends the command with (see describeFailure). */
function failure(group: RunningGroup, reason: unknown): Error {
  return new Error(describeFailure(group, reason), { cause: reason });
}

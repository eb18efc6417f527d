import { NotRunningError } from '@drover/core';
import { type RunningGroup, runningGroups } from '@drover/core/control';

/** The word `stop`, `restart` and `reload` take for every running group. */
export const ALL = 'all';

/** The running groups of this user's run directory (`$DROVER_RUN_DIR` or the default), by name. */
export async function listRunning(): Promise<RunningGroup[]> {
  const groups = await runningGroups();
  return [...groups].sort((a, b) => a.baseTitle.localeCompare(b.baseTitle));
}

/**
 * The running groups `name` designates: the one of that name, or every one for `all`.
 *
 * @throws NotRunningError naming the groups that do run, when `name` is not one of them.
 */
export async function findRunning(name: string): Promise<RunningGroup[]> {
  const running = await listRunning();
  if (name === ALL) return running;
  const group = running.find((g) => g.baseTitle === name);
  if (!group) {
    throw new NotRunningError(
      name,
      running.map((g) => g.baseTitle),
    );
  }
  return [group];
}

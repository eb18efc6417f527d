import { Manage } from '@drover/core';
import type { RunningGroup } from '@drover/core/control';

/** A handle that reaches the master of a running group through its control socket. */
export function remote(group: RunningGroup): Manage {
  return new Manage({ baseTitle: group.baseTitle, runDir: group.runDir });
}

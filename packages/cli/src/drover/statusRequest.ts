import type { GroupStatus } from '@drover/core';
import { ControlClient, type RunningGroup } from '@drover/core/control';

const TIMEOUT_MS = 5000;

/**
 * One `status` request on a master's control socket. `Manage.status()` does the same, but loading
 * `Manage` loads the whole master side with it; `drover status` is called often enough from
 * scripts and monitors that its start-up time matters, and the control client is small.
 */
export async function requestStatus(group: RunningGroup, timeoutMs = TIMEOUT_MS): Promise<GroupStatus> {
  // discovery found the group by a live pid file when its socket did not answer
  const client = await ControlClient.connectGroup(
    {
      baseTitle: group.baseTitle,
      socket: group.socket,
      livePid: () => (pidAlive(group.pid) ? group.pid : null),
    },
    { timeoutMs },
  );
  try {
    return await client.request<GroupStatus>('status', undefined, { timeoutMs });
  } finally {
    client.close();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { ControlClient, type GroupStatus, type RunningGroup } from '@drover/core';

const TIMEOUT_MS = 5000;

/**
 * One `status` request on a master's control socket. `Manage.status()` does the same, but loading
 * `Manage` loads the whole master side with it; `drover status` is called often enough from
 * scripts and monitors that its start-up time matters, and the control client is small.
 */
export async function requestStatus(group: RunningGroup, timeoutMs = TIMEOUT_MS): Promise<GroupStatus> {
  const client = await ControlClient.connect(group.socket, { timeoutMs });
  try {
    return await client.request<GroupStatus>('status', undefined, { timeoutMs });
  } finally {
    client.close();
  }
}

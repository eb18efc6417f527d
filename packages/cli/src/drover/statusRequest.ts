import { connect } from 'node:net';
import type { GroupStatus, RunningGroup } from '@drover/core';

const TIMEOUT_MS = 5000;
/** No status answer is this large; past it the peer is not a drover master. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * One `status` request on a master's control socket, in the socket's JSON-lines protocol
 * (`{"id":1,"cmd":"status"}` → `{"id":1,"ok":true,"result":{...}}`). `Manage.status()` does the
 * same, but loading `Manage` loads the whole master side with it; `drover status` is called
 * often enough from scripts and monitors that its start-up time matters.
 */
export function requestStatus(group: RunningGroup, timeoutMs = TIMEOUT_MS): Promise<GroupStatus> {
  return new Promise((resolve, reject) => {
    const socket = connect(group.socket);
    let answer = '';
    let settled = false;
    const finish = (error: Error | null, status?: GroupStatus) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(status as GroupStatus);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer to 'status' from '${group.socket}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ id: 1, cmd: 'status' })}\n`));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(new Error(`control connection to '${group.socket}' failed (${error.code ?? error.message})`)),
    );
    socket.on('close', () => finish(new Error(`the master closed the control connection '${group.socket}'`)));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const newline = answer.indexOf('\n');
      if (newline === -1) {
        if (answer.length > MAX_ANSWER_BYTES) finish(new Error(`'${group.socket}' sent an oversized answer`));
        return;
      }
      let response: { ok?: unknown; result?: unknown; error?: { message?: unknown } };
      try {
        response = JSON.parse(answer.slice(0, newline));
      } catch {
        finish(new Error(`'${group.socket}' answered 'status' with a line that is not JSON`));
        return;
      }
      if (response.ok === true && isGroupStatus(response.result)) finish(null, response.result);
      else if (response.ok === false) finish(new Error(String(response.error?.message ?? 'refused')));
      else finish(new Error(`'${group.socket}' answered 'status' with something that is not a status`));
    });
  });
}

function isGroupStatus(value: unknown): value is GroupStatus {
  const status = value as GroupStatus | null;
  return (
    typeof status === 'object' &&
    status !== null &&
    typeof status.master === 'object' &&
    status.master !== null &&
    Array.isArray(status.workers)
  );
}

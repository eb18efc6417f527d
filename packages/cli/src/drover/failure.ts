import type { RunningGroup } from '@drover/core/control';

/**
 * One line for a running group whose master failed to answer a request: the group, its pid,
 * what happened and what an operator can check or do. Other failures keep their own message.
 */
export function describeFailure(group: RunningGroup, reason: unknown): string {
  const error = reason as { code?: unknown; message?: unknown; hint?: unknown };
  const raw = typeof error?.message === 'string' ? error.message : String(reason);
  const message = raw.replace(/^drover: /, '');
  if (error?.code !== 'ETIMEDOUT') return message;
  const { baseTitle: name, pid } = group;
  // the client's own hint speaks of timeoutMs: here the operator gets the commands instead
  const plain =
    typeof error.hint === 'string' && message.endsWith(`; ${error.hint}`)
      ? message.slice(0, -error.hint.length - 2)
      : message;
  return (
    `group '${name}' (pid ${pid}) did not answer: ${plain}; had it not read the request yet, it refuses it when it does; had it read it, the request may still be carried out. ` +
    `Check its log (drover logs ${name}) and 'ps -o stat= -p ${pid}' (T: stopped, 'kill -CONT ${pid}' resumes it); ` +
    `'kill -TERM ${pid}' stops it gracefully, 'kill -KILL ${pid}' if it is hung`
  );
}

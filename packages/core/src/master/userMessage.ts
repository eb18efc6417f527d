import { DroverError, describeValue } from '../errors.js';

/**
 * Checks a message of `sendTo`/`broadcast` before it is queued: the IPC channel writes it as JSON
 * only later (once the worker is ready, or after a handle in flight), where a failure would be
 * silent. Throws `EPAYLOAD` for a value JSON cannot carry, naming the problem. Returns the length
 * of its JSON text: what the message weighs in the worker's backlog (WorkerHandle.send).
 */
export function checkUserMessage(data: unknown, what: string): number {
  let problem: string | null = null;
  try {
    // what JSON.stringify drops at the top (a function, a symbol) would arrive as nothing
    if (typeof data === 'function' || typeof data === 'symbol') problem = `it is ${describeValue(data)}`;
    else return (JSON.stringify(data) ?? '').length;
  } catch (error) {
    problem = (error as Error)?.message ?? String(error);
  }
  throw new DroverError('EPAYLOAD', `drover: ${what} cannot be sent as JSON (${problem})`, {
    hint: 'send plain data: objects, arrays, strings, numbers, booleans, null (a BigInt as a string, no cycles)',
  });
}

/** Checks the PIN of `sendTo`: an integer >= 0, not a string of one. */
export function checkPin(pin: unknown, baseTitle: string): void {
  if (Number.isInteger(pin) && (pin as number) >= 0) return;
  throw new DroverError('EINVAL', `drover: sendTo() of '${baseTitle}' got PIN ${describeValue(pin)}`, {
    hint: "a PIN is an integer >= 0 (a worker's pin in workerReady or status()); convert one read from text with Number()",
  });
}

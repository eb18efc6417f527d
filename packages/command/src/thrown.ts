import { inspect, types } from 'node:util';
import { CommandError, escapeControl, UsageError } from './errors.js';

const SHOWN_LENGTH = 200;

/** Whether `value` is an Error, from this realm or another (`vm`, a worker's structured clone). */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * A value thrown or rejected with, shown on one line: `{ code: 42 }`, `'text'`, `undefined`,
 * `[Object: null prototype] {}`. Control characters are escaped; long values are cut.
 */
export function showThrown(value: unknown): string {
  let shown: string;
  try {
    shown = inspect(value, {
      depth: 2,
      breakLength: Number.POSITIVE_INFINITY,
      maxArrayLength: 10,
      maxStringLength: SHOWN_LENGTH,
      colors: false,
    });
  } catch {
    shown = `a value that cannot be shown (${typeof value})`;
  }
  shown = escapeControl(shown);
  return shown.length > SHOWN_LENGTH ? `${shown.slice(0, SHOWN_LENGTH)}…` : shown;
}

/** `TypeError`, or the class of an Error whose name was left at `Error`: `DeployError`. */
function errorLabel(error: Error): string {
  const name = typeof error.name === 'string' && error.name !== '' ? error.name : 'Error';
  const cls = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return name === 'Error' && typeof cls === 'string' && cls !== '' ? cls : name;
}

/**
 * What `who` (`handler()`, `option -n`) of action `action` threw, as an error the router can
 * print on one line: an Error with a message is kept as it is; a non-Error value, or an Error
 * with an empty message, says which part of which action threw what. The thrown value is the
 * `cause`.
 */
export function explainThrown(thrown: unknown, action: string, who: string): unknown {
  if (isError(thrown)) {
    if (thrown instanceof UsageError || (typeof thrown.message === 'string' && thrown.message !== ''))
      return thrown;
    return new CommandError(
      'ETHROWN',
      `action '${action}' failed: ${who} threw ${errorLabel(thrown)} with no message`,
      { cause: thrown },
    );
  }
  return new CommandError(
    'ETHROWN',
    `action '${action}' failed: ${who} threw a non-Error value: ${showThrown(thrown)}`,
    { cause: thrown },
  );
}

/** The line the router prints for a failure that reached it: the message, or what was thrown. */
export function failureMessage(error: unknown): string {
  if (isError(error) && typeof error.message === 'string') {
    return error.message === '' ? `${errorLabel(error)} with no message` : escapeControl(error.message, true);
  }
  return `a non-Error value was thrown: ${showThrown(error)}`;
}

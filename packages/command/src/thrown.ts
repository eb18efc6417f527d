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
 * Errors of the framework whose message already tells what their `cause` holds (a thrown value,
 * inversify's account of a binding): the cause is shown only with DEBUG.
 */
const causeTold = new WeakSet<object>();

/** Marks `error` as telling its cause in its own message. */
export function tellsCause<T extends object>(error: T): T {
  causeTold.add(error);
  return error;
}

/** How many causes deep a chain is followed: a cause may point back at the error. */
const MAX_CAUSES = 10;

/**
 * The `cause` chain of `error`, first cause first, up to one the framework explained in the
 * message before it.
 */
export function causesOf(error: unknown, options: { told: boolean } = { told: false }): unknown[] {
  const causes: unknown[] = [];
  let current = error;
  while (
    isError(current) &&
    (options.told || !causeTold.has(current)) &&
    current.cause !== undefined &&
    !causes.includes(current.cause) &&
    current.cause !== error &&
    causes.length < MAX_CAUSES
  ) {
    current = current.cause;
    causes.push(current);
  }
  return causes;
}

/**
 * The `caused by: <message>` lines the router prints under a failure: one per cause whose
 * message says something the lines before it did not (a wrapper often quotes its cause), without
 * stacks.
 */
export function causeLines(error: unknown): string[] {
  const said = [failureMessage(error)];
  const lines: string[] = [];
  for (const cause of causesOf(error)) {
    const message = isError(cause)
      ? typeof cause.message === 'string'
        ? escapeControl(cause.message, true)
        : ''
      : showThrown(cause);
    // `drover: cannot …` quoted without its program's name is said already
    const unprefixed = message.replace(/^[a-z][\w-]*: /, '');
    if (unprefixed.trim() === '' || said.some((text) => text.includes(unprefixed))) continue;
    said.push(message);
    lines.push(`caused by: ${message}`);
  }
  return lines;
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
    return tellsCause(
      new CommandError(
        'ETHROWN',
        `action '${action}' failed: ${who} threw ${errorLabel(thrown)} with no message`,
        {
          cause: thrown,
        },
      ),
    );
  }
  return tellsCause(
    new CommandError(
      'ETHROWN',
      `action '${action}' failed: ${who} threw a non-Error value: ${showThrown(thrown)}`,
      {
        cause: thrown,
      },
    ),
  );
}

/** The line the router prints for a failure that reached it: the message, or what was thrown. */
export function failureMessage(error: unknown): string {
  if (isError(error) && typeof error.message === 'string') {
    return error.message === '' ? `${errorLabel(error)} with no message` : escapeControl(error.message, true);
  }
  return `a non-Error value was thrown: ${showThrown(error)}`;
}

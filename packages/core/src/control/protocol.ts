/**
 * The control socket protocol: one JSON object per line each way.
 *
 *   → {"id": 1, "cmd": "scale", "args": {"workers": 4}, "deadline": 1735689600000}
 *   ← {"id": 1, "ok": true, "result": ...}
 *   ← {"id": 1, "ok": false, "error": {"code": "EPROTOCOL", "message": "..."}}
 *
 * `deadline` (optional, epoch ms on the master's clock: the client is on the same host) is the
 * last moment the master may start the request; one it reads later is refused with `EDEADLINE`
 * and not run, so a request a client gave up on is never carried out afterwards.
 * Answers come in the order of the requests on a connection. Kept free of heavy imports: the CLI
 * client loads it on every `drover status`.
 */
import { DroverError, describeValue } from '../errors.js';

export const COMMANDS = ['ping', 'status', 'stop', 'restart', 'reload', 'scale', 'signal'] as const;
export type Command = (typeof COMMANDS)[number];

/** Signals a client may ask the master to deliver to itself. */
export const CONTROL_SIGNALS = [
  'SIGHUP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGTERM',
  'SIGINT',
  'SIGUSR2',
  'SIGQUIT',
] as const;
export type ControlSignal = (typeof CONTROL_SIGNALS)[number];

export type RequestId = number | string;

/** Longest accepted string id: ids are for matching answers, not for carrying data. */
export const MAX_ID_LENGTH = 128;

export interface TimeoutArgs {
  timeoutMs?: number;
}
export interface ScaleArgs {
  workers: number;
}
export interface SignalArgs {
  signal: ControlSignal;
}

export type Request = (
  | { id: RequestId; cmd: 'ping' | 'status'; args: Record<string, never> }
  | { id: RequestId; cmd: 'stop' | 'restart' | 'reload'; args: TimeoutArgs }
  | { id: RequestId; cmd: 'scale'; args: ScaleArgs }
  | { id: RequestId; cmd: 'signal'; args: SignalArgs }
) & {
  /** epoch ms after which the request must not be started */
  deadline?: number;
};

export interface ErrorBody {
  code: string;
  message: string;
}

/** `id` is null only when the request was too broken to carry one. */
export type Response =
  | { id: RequestId | null; ok: true; result: unknown }
  | { id: RequestId | null; ok: false; error: ErrorBody };

/** A request that breaks the protocol; `id` is the request's id when it had a usable one. */
export class ProtocolError extends DroverError {
  readonly id: RequestId | null;

  constructor(message: string, hint: string | undefined, id: RequestId | null = null) {
    super('EPROTOCOL', `drover: control request ${message}`, { hint });
    this.name = 'ProtocolError';
    this.id = id;
  }
}

const ARG_KEYS: Record<Command, readonly string[]> = {
  ping: [],
  status: [],
  stop: ['timeoutMs'],
  restart: ['timeoutMs'],
  reload: ['timeoutMs'],
  scale: ['workers'],
  signal: ['signal'],
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRequestId(value: unknown): value is RequestId {
  return (
    (typeof value === 'number' && Number.isFinite(value)) ||
    (typeof value === 'string' && value.length <= MAX_ID_LENGTH)
  );
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses and validates one request line. Throws only `ProtocolError`, whose message names the
 * field, the value and what is allowed.
 */
export function parseRequest(line: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new ProtocolError(`is not valid JSON (${(err as Error).message})`, 'send one JSON object per line');
  }
  if (!isPlainObject(value)) {
    throw new ProtocolError(
      `is ${describeValue(value)}`,
      'expected a JSON object like {"id":1,"cmd":"ping"}',
    );
  }
  if (!Object.hasOwn(value, 'id') || !isRequestId(value.id)) {
    throw new ProtocolError(
      `field 'id' is ${describeValue(value.id)}`,
      `expected a finite number or a string of at most ${MAX_ID_LENGTH} characters`,
    );
  }
  const id = value.id;
  for (const key of Object.keys(value)) {
    if (key !== 'id' && key !== 'cmd' && key !== 'args' && key !== 'deadline') {
      throw new ProtocolError(
        `has unknown field ${describeValue(key)}`,
        "allowed fields: 'id', 'cmd', 'args', 'deadline'",
        id,
      );
    }
  }
  const deadline = value.deadline;
  if (
    deadline !== undefined &&
    !(typeof deadline === 'number' && Number.isSafeInteger(deadline) && deadline > 0)
  ) {
    throw new ProtocolError(
      `field 'deadline' is ${describeValue(deadline)}`,
      'expected a time in epoch milliseconds (an integer > 0), or no deadline',
      id,
    );
  }
  const request = parseCommand(id, value);
  return deadline === undefined ? request : { ...request, deadline: deadline as number };
}

function parseCommand(id: RequestId, value: Record<string, unknown>): Request {
  const cmd = value.cmd;
  if (typeof cmd !== 'string' || !Object.hasOwn(ARG_KEYS, cmd)) {
    throw new ProtocolError(
      `field 'cmd' is ${describeValue(cmd)}`,
      `known commands: ${COMMANDS.join(', ')}`,
      id,
    );
  }
  const command = cmd as Command;
  const args = Object.hasOwn(value, 'args') ? value.args : {};
  if (!isPlainObject(args)) {
    throw new ProtocolError(
      `field 'args' is ${describeValue(args)}`,
      `expected an object (or no 'args')`,
      id,
    );
  }
  const allowed = ARG_KEYS[command];
  for (const key of Object.keys(args)) {
    if (!allowed.includes(key)) {
      throw new ProtocolError(
        `'${command}' has unknown argument ${describeValue(key)}`,
        allowed.length
          ? `allowed: ${allowed.map((k) => `'${k}'`).join(', ')}`
          : `'${command}' takes no arguments`,
        id,
      );
    }
  }

  switch (command) {
    case 'ping':
    case 'status':
      return { id, cmd: command, args: {} };
    case 'stop':
    case 'restart':
    case 'reload': {
      if (!Object.hasOwn(args, 'timeoutMs')) return { id, cmd: command, args: {} };
      if (!isCount(args.timeoutMs)) {
        throw new ProtocolError(
          `field 'args.timeoutMs' is ${describeValue(args.timeoutMs)}`,
          'expected an integer number of milliseconds >= 0, or no timeoutMs',
          id,
        );
      }
      return { id, cmd: command, args: { timeoutMs: args.timeoutMs } };
    }
    case 'scale':
      if (!isCount(args.workers)) {
        throw new ProtocolError(
          `field 'args.workers' is ${describeValue(args.workers)}`,
          'expected an integer >= 0',
          id,
        );
      }
      return { id, cmd: command, args: { workers: args.workers } };
    case 'signal': {
      const signal = args.signal;
      if (typeof signal !== 'string' || !(CONTROL_SIGNALS as readonly string[]).includes(signal)) {
        throw new ProtocolError(
          `field 'args.signal' is ${describeValue(signal)}`,
          `expected one of ${CONTROL_SIGNALS.join(', ')}`,
          id,
        );
      }
      return { id, cmd: command, args: { signal: signal as ControlSignal } };
    }
  }
}

/** One request line, newline included; `deadline` in epoch ms (see the protocol above). */
export function encodeRequest(id: RequestId, cmd: string, args?: object, deadline?: number): string {
  const request: Record<string, unknown> = { id, cmd };
  if (args !== undefined) request.args = args;
  if (deadline !== undefined) request.deadline = deadline;
  return `${JSON.stringify(request)}\n`;
}

/** One success line, newline included. Throws when `result` cannot be written as JSON. */
export function encodeResult(id: RequestId | null, result: unknown): string {
  return `${JSON.stringify({ id, ok: true, result: result === undefined ? null : result })}\n`;
}

/** One error line, newline included. */
export function encodeError(id: RequestId | null, code: string, message: string): string {
  return `${JSON.stringify({ id, ok: false, error: { code, message } })}\n`;
}

/** Validates one response line; null when it is not a response. */
export function parseResponse(line: string): Response | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isPlainObject(value) || !(value.id === null || isRequestId(value.id))) return null;
  if (value.ok === true) return { id: value.id, ok: true, result: value.result };
  if (value.ok === false && isPlainObject(value.error)) {
    const { code, message } = value.error;
    if (typeof code === 'string' && typeof message === 'string')
      return { id: value.id, ok: false, error: { code, message } };
  }
  return null;
}

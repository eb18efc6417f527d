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

/**
 * Longest request line a master reads: a reload or restart may carry a whole environment, which
 * Linux bounds to about 2 MiB for argv and environment together; 1 MiB holds any usual one.
 */
export const MASTER_MAX_LINE_BYTES = 1024 * 1024;

export interface TimeoutArgs {
  timeoutMs?: number;
}
/** Environment variables: names to values, every value a string. */
export type EnvRecord = Record<string, string>;
/**
 * The environment update a reload or a restart may carry (`--update-env`); without one the
 * workers keep the environment they have.
 */
export interface EnvUpdateArgs {
  /**
   * The environment new workers start from, in place of the one the group has (at first the
   * master's own): the environment of the shell that ran `--update-env`.
   */
  env?: EnvRecord;
  /**
   * The group's own `env`, applied on top, in place of the one it has (at first its `env`
   * option): a config file entry's `env`, read again.
   */
  configEnv?: EnvRecord;
}
export interface ReloadArgs extends TimeoutArgs, EnvUpdateArgs {}

/** The config file entry a group was started from. */
export interface GroupSource {
  /** the config file, absolute */
  file: string;
  /** the group's entry as validated at the start, without its `env` (JSON: Infinity reads null) */
  entry: Record<string, unknown>;
}

/** The answer to `ping`. */
export interface PingResult {
  pid: number;
  baseTitle: string;
  version: string;
  /** where the group came from, when it was started from a config file (masters since `--update-env`) */
  source?: GroupSource;
}
export interface ScaleArgs {
  workers: number;
}
export interface SignalArgs {
  signal: ControlSignal;
}

export type Request = (
  | { id: RequestId; cmd: 'ping' | 'status'; args: Record<string, never> }
  | { id: RequestId; cmd: 'stop'; args: TimeoutArgs }
  | { id: RequestId; cmd: 'restart' | 'reload'; args: ReloadArgs }
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
  restart: ['timeoutMs', 'env', 'configEnv'],
  reload: ['timeoutMs', 'env', 'configEnv'],
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
      const parsed: ReloadArgs = {};
      if (Object.hasOwn(args, 'timeoutMs')) {
        if (!isCount(args.timeoutMs)) {
          throw new ProtocolError(
            `field 'args.timeoutMs' is ${describeValue(args.timeoutMs)}`,
            'expected an integer number of milliseconds >= 0, or no timeoutMs',
            id,
          );
        }
        parsed.timeoutMs = args.timeoutMs;
      }
      for (const key of ['env', 'configEnv'] as const) {
        if (!Object.hasOwn(args, key)) continue;
        const problem = envProblem(args[key]);
        if (problem) {
          throw new ProtocolError(
            `field 'args.${key}${problem.name === null ? '' : `.${problem.name}`}' ${problem.found}`,
            problem.expected,
            id,
          );
        }
        parsed[key] = envRecord(args[key] as Record<string, unknown>);
      }
      return { id, cmd: command, args: parsed };
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

/** What is wrong with a value given as environment variables. */
export interface EnvProblem {
  /** the variable at fault, or null when the whole value is */
  name: string | null;
  /** what was found, after the field's name: `is 5`, `has the name "A=B"` */
  found: string;
  expected: string;
}

/**
 * Why `value` is not a set of environment variables (a plain object whose names are not empty
 * and hold no '=' nor NUL, and whose values are strings without NUL), or null when it is one.
 * An undefined value counts as an absent variable (as in `process.env`).
 */
export function envProblem(value: unknown): EnvProblem | null {
  if (!isPlainObject(value)) {
    return {
      name: null,
      found: `is ${describeValue(value)}`,
      expected: 'expected an object of environment variables, names to string values',
    };
  }
  for (const [name, v] of Object.entries(value)) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      return {
        name: null,
        found: `has the variable name ${describeValue(name)}`,
        expected: "expected names that are not empty and hold no '=' and no NUL character",
      };
    }
    if (v === undefined) continue;
    if (typeof v !== 'string') {
      return {
        name,
        found: `is ${describeValue(v)}`,
        expected: 'expected a string: environment values are strings (quote numbers, leave out unset ones)',
      };
    }
    if (v.includes('\0')) {
      return { name, found: 'holds a NUL character', expected: 'expected a value without one' };
    }
  }
  return null;
}

/** A copy of checked variables without prototype, so no name (not even `__proto__`) is special. */
export function envRecord(value: Readonly<Record<string, unknown>>): EnvRecord {
  const env: EnvRecord = Object.create(null);
  for (const [name, v] of Object.entries(value)) if (typeof v === 'string') env[name] = v;
  return env;
}

/** The `source` of a ping answer when it is a GroupSource, else null (an older master has none). */
export function parseGroupSource(ping: unknown): GroupSource | null {
  const source = isPlainObject(ping) ? ping.source : undefined;
  if (!isPlainObject(source) || typeof source.file !== 'string' || source.file === '') return null;
  return isPlainObject(source.entry) ? { file: source.file, entry: source.entry } : null;
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

import { lstatSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { DroverError } from '../errors.js';
import { encodeRequest, MASTER_MAX_LINE_BYTES, parseResponse } from './protocol.js';
import { SocketGoneError } from './SocketGoneError.js';
import { TIMER_MAX_MS } from '../timerLimit.js';

const DEFAULT_TIMEOUT_MS = 2000;
/** While a long request runs, the master is asked for a sign of life this often past the timeout. */
const ALIVE_CHECK_MS = 5000;
/** How much longer than its timeout a master whose socket is gone while it runs is waited for. */
const CLOSED_MARGIN_MS = 60_000;
/** A status of many workers is large, but no answer is this large: past it the peer is not a master. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Where a group's master listens, and how to tell whether it is alive without its socket. */
export interface MasterAddress {
  baseTitle: string;
  socket: string;
  /** the pid of the group's master when one is alive (by its pid file), else null */
  livePid: () => number | null;
}

interface Pending {
  cmd: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A connection to a master's control socket. Requests may overlap; each resolves with its own
 * answer. The socket only keeps the process alive while a request is waiting.
 */
export class ControlClient {
  /** what the master said before it closed this connection, when it said anything */
  private closeReason: DroverError | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = '';
  private closedError: DroverError | null = null;

  private constructor(
    private readonly socket: Socket,
    /** the socket path this client talks to */
    readonly path: string,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(
        new DroverError(
          'ECONTROL',
          `drover: control connection to '${path}' failed (${err.code ?? err.message})`,
          {
            cause: err,
          },
        ),
      );
    });
    socket.on('close', () => {
      this.fail(
        this.closeReason ??
          new DroverError('ECONNCLOSED', `drover: the master closed the control connection '${path}'`, {
            hint: 'it may be stopping; check with status',
          }),
      );
    });
    socket.unref();
  }

  /** Connects to `socketPath`. Nothing listening there is `ENOTRUNNING`. */
  static connect(socketPath: string, opts: { timeoutMs?: number } = {}): Promise<ControlClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(
        new DroverError('EINVAL', `drover: control client timeoutMs is ${timeoutMs}`, {
          hint: 'expected a number of milliseconds > 0',
        }),
      );
    }
    const foreign = foreignSocket(socketPath);
    if (foreign) return Promise.reject(foreign);
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new DroverError(
            'ETIMEDOUT',
            `drover: no connection to control socket '${socketPath}' within ${timeoutMs} ms`,
            {
              hint: 'the master may be overloaded or hung',
            },
          ),
        );
      }, timeoutMs);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(
            new DroverError('ENOTRUNNING', `drover: no master listens on '${socketPath}' (${err.code})`, {
              hint: "start it first ('start')",
              cause: err,
            }),
          );
        } else {
          reject(
            new DroverError(
              'ECONTROL',
              `drover: cannot connect to control socket '${socketPath}' (${err.code ?? err.message})`,
              {
                hint: 'check the path and its permissions',
                cause: err,
              },
            ),
          );
        }
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new ControlClient(socket, socketPath, timeoutMs));
      });
    });
  }

  /**
   * Connects to the master of a group. Nothing listening while the group's pid file names a live
   * master throws `SocketGoneError` (the socket file was deleted); otherwise as `connect`.
   */
  static async connectGroup(group: MasterAddress, opts: { timeoutMs?: number } = {}): Promise<ControlClient> {
    try {
      return await ControlClient.connect(group.socket, opts);
    } catch (err) {
      if ((err as DroverError).code !== 'ENOTRUNNING') throw err;
      const pid = group.livePid();
      if (pid !== null) throw new SocketGoneError(group.baseTitle, pid, group.socket, err);
      throw err;
    }
  }

  /**
   * Sends one command and resolves with its result. A refusal by the master rejects with a
   * DroverError carrying the master's code and message. The default timeout is the connect
   * timeout, plus `args.timeoutMs` when the command has one (a stop may take that long).
   *
   * The request carries a deadline (`timeoutMs` from now): a master that reads it later refuses
   * it, so a request this client gave up on is never carried out afterwards. With `whileAlive`,
   * the wait goes on past `timeoutMs` for as long as the master answers a `ping` on another
   * connection: a stop of workers with a long stopTimeout, or a rolling reload, takes its time.
   * A ping that finds no socket listening (a master exiting closes its socket before it answers
   * its stop, and its connections after) does not end the wait: it goes on while the process
   * `masterPid` runs (or, without a pid, for one more check) for the answer or the connection's
   * close, but for no longer than `timeoutMs` plus 60 s from the first such check: a master that
   * lost its socket and hangs in its last steps would keep the wait going for ever. A master that
   * accepts the ping and does not answer it (hung), or one stopped by a signal, ends it at once;
   * every end is `ETIMEDOUT`.
   */
  request<T = unknown>(
    cmd: string,
    args?: object,
    opts: {
      timeoutMs?: number;
      whileAlive?: boolean;
      /** the master's pid, when known: tells a master exiting from one that is gone or stopped */
      masterPid?: number | null;
      /** @internal how often the master is pinged past the timeout (default 5 s) */
      aliveCheckMs?: number;
      /**
       * @internal how long a master whose socket is gone while its process runs is waited for,
       * past `timeoutMs` (default 60 s)
       */
      closedLimitMs?: number;
    } = {},
  ): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const argTimeout = (args as { timeoutMs?: unknown } | undefined)?.timeoutMs;
    // a wait past the longest Node timer is a wait without end, not one that ends at once
    const timeoutMs = Math.min(
      TIMER_MAX_MS,
      opts.timeoutMs ?? this.timeoutMs + (typeof argTimeout === 'number' && argTimeout > 0 ? argTimeout : 0),
    );
    const id = this.nextId++;
    let line: string;
    try {
      line = encodeRequest(id, cmd, args, Date.now() + timeoutMs);
    } catch (err) {
      return Promise.reject(
        new DroverError(
          'EINVAL',
          `drover: the arguments of '${cmd}' cannot be sent as JSON (${(err as Error).message})`,
        ),
      );
    }
    const bytes = Buffer.byteLength(line);
    if (bytes > MASTER_MAX_LINE_BYTES) {
      // the master would refuse it and close the connection: say why here, before sending
      const env = (args as { env?: unknown; configEnv?: unknown } | undefined) ?? {};
      return Promise.reject(
        new DroverError(
          'E2BIG',
          `drover: the '${cmd}' request is ${bytes} bytes, over the ${MASTER_MAX_LINE_BYTES} bytes a master reads`,
          {
            hint:
              env.env !== undefined || env.configEnv !== undefined
                ? 'it carries the whole environment: unset the large variables first (env | sort shows them)'
                : 'send smaller arguments',
          },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const started = Date.now();
      const giveUp = (why = '') => {
        this.settle(id);
        reject(
          new DroverError(
            'ETIMEDOUT',
            `drover: no answer to '${cmd}' from '${this.path}' within ${Date.now() - started} ms${why}`,
            {
              hint: 'the master may be stopped or hung (check its log and its state in ps); had it not read the request yet, it refuses it when it does; had it read it, the request may still be carried out; try again, or wait longer (timeoutMs)',
            },
          ),
        );
      };
      const checkMs = opts.aliveCheckMs ?? ALIVE_CHECK_MS;
      /** checks in a row that found no socket listening */
      let socketClosed = 0;
      /** when the first of them ran */
      let closedSince = 0;
      const closedLimitMs = opts.closedLimitMs ?? timeoutMs + CLOSED_MARGIN_MS;
      const onTimeout = async () => {
        const pending = this.pending.get(id);
        if (!pending) return;
        if (!opts.whileAlive) return giveUp();
        const sign = await pingMaster(this.path, checkMs);
        // answered (or the connection closed) while the ping ran
        if (!this.pending.has(id)) return;
        if (sign === 'hung') return giveUp();
        if (sign === 'alive') socketClosed = 0;
        else {
          if (socketClosed === 0) closedSince = Date.now();
          if (!mayBeExiting(opts.masterPid, ++socketClosed)) return giveUp();
          const closedFor = Date.now() - closedSince;
          if (closedFor > closedLimitMs)
            return giveUp(
              `: its control socket has been gone for ${closedFor} ms while its process${opts.masterPid ? ` (pid ${opts.masterPid})` : ''} runs, past the ${closedLimitMs} ms a stop that ends takes`,
            );
        }
        pending.timer = setTimeout(() => void onTimeout(), checkMs);
      };
      const timer = setTimeout(() => void onTimeout(), timeoutMs);
      this.pending.set(id, { cmd, resolve: resolve as (value: unknown) => void, reject, timer });
      this.socket.ref();
      this.socket.write(line);
    });
  }

  /** Closes the connection; requests still waiting reject. */
  close(): void {
    this.fail(
      new DroverError('ECONNCLOSED', `drover: control connection to '${this.path}' was closed by the client`),
    );
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_RESPONSE_BYTES) {
      this.fail(
        new DroverError(
          'EPROTOCOL',
          `drover: '${this.path}' sent an answer over ${MAX_RESPONSE_BYTES} bytes`,
          {
            hint: 'is it a drover control socket?',
          },
        ),
      );
      this.socket.destroy();
      return;
    }
    let newline = this.buffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(line);
      newline = this.buffer.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    const response = parseResponse(line);
    let id: number | undefined;
    if (response && response.id !== null) {
      // an id no request waits for answers one that timed out: drop it
      if (typeof response.id !== 'number' || !this.pending.has(response.id)) return;
      id = response.id;
    } else {
      // answers come in request order, so one without a usable id belongs to the oldest request
      id = this.oldest();
    }
    if (id === undefined) {
      // the master says why it is about to close this connection (EIDLE): keep it for 'close'
      if (response && !response.ok)
        this.closeReason = new DroverError(response.error.code, response.error.message);
      return;
    }
    const pending = this.settle(id);
    if (!pending) return;
    if (!response) {
      pending.reject(
        new DroverError(
          'EPROTOCOL',
          `drover: '${this.path}' answered '${pending.cmd}' with a line that is not a response`,
        ),
      );
    } else if (response.ok && pending.cmd === 'status' && !looksLikeStatus(response.result)) {
      pending.reject(
        new DroverError(
          'EPROTOCOL',
          `drover: '${this.path}' answered 'status' with something that is not a group's status`,
          {
            hint: 'a process other than a drover master of the same version may listen there',
          },
        ),
      );
    } else if (response.ok) {
      pending.resolve(response.result);
    } else {
      pending.reject(new DroverError(response.error.code, response.error.message));
    }
  }

  private oldest(): number | undefined {
    return this.pending.keys().next().value;
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) this.socket.unref();
    return pending;
  }

  private fail(err: DroverError): void {
    this.closedError ??= err;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(err);
  }
}

/**
 * A socket file another user owns is not this user's master, whoever put it there (a run dir
 * opened for a moment is enough): a stop or a status sent to it would be answered by them.
 */
function foreignSocket(path: string): DroverError | null {
  const uid = process.geteuid?.();
  if (uid === undefined) return null;
  let owner: number;
  try {
    owner = lstatSync(path).uid;
  } catch {
    return null; // nothing there: the connect says so
  }
  if (owner === uid) return null;
  return new DroverError(
    'EUNSAFE_SOCKET',
    `drover: control socket '${path}' belongs to uid ${owner}, not to this user (uid ${uid})`,
    {
      hint: "it is not this user's master: run drover as the user that started the group, and check who can write its run directory",
    },
  );
}

/** The parts of a GroupStatus that readers of it (the status table, discovery) rely on. */
function looksLikeStatus(value: unknown): boolean {
  const status = value as { master?: { workerCount?: unknown }; workers?: unknown } | null;
  return (
    typeof status === 'object' &&
    status !== null &&
    typeof status.master === 'object' &&
    status.master !== null &&
    typeof status.master.workerCount === 'number' &&
    Array.isArray(status.workers)
  );
}

/**
 * What a `ping` on a new connection tells of the master at `path`: `alive` (any answer, a refusal
 * included, is a sign of life), `closed` (no socket listens there any more, or the connection was
 * closed before an answer: a master exiting has closed its control socket), or `hung` (it
 * accepted the connection, or the connect hangs, and nothing answers within `timeoutMs`; or the
 * socket cannot be used at all).
 */
async function pingMaster(path: string, timeoutMs: number): Promise<'alive' | 'hung' | 'closed'> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(path, { timeoutMs });
  } catch (err) {
    return (err as DroverError).code === 'ENOTRUNNING' ? 'closed' : 'hung';
  }
  try {
    await client.request('ping', undefined, { timeoutMs });
    return 'alive';
  } catch (err) {
    const code = (err as DroverError).code;
    if (code === 'ETIMEDOUT') return 'hung';
    return code === 'ECONTROL' || code === 'ECONNCLOSED' ? 'closed' : 'alive';
  } finally {
    client.close();
  }
}

/**
 * Whether a master whose control socket no longer listens (`checks` times in a row) may still
 * answer a request it holds: a master exiting closes its socket, then answers, then closes its
 * connections. One whose process runs may (a long stop whose socket file was removed answers once
 * the stop is done); one stopped by a signal does not until SIGCONT; one that is gone, or unknown,
 * gets one more check for its connection's close or its answer to arrive.
 */
function mayBeExiting(pid: number | null | undefined, checks: number): boolean {
  const state = pid === null || pid === undefined ? 'gone' : processState(pid);
  if (state === 'gone') return checks <= 1;
  return state === 'running';
}

/**
 * Whether process `pid` runs, is stopped by a signal (or a tracer), or is gone (a zombie too).
 * Read from `/proc` (this module keeps to node:fs and node:net); without it a live process counts
 * as running.
 */
function processState(pid: number): 'running' | 'stopped' | 'gone' {
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'gone';
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    try {
      process.kill(pid, 0);
      return 'running';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'running' : 'gone';
    }
  }
  // the state follows the command name, which may hold spaces and parentheses
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X' || state === 'x' || state === '') return 'gone';
  return state === 'T' || state === 't' ? 'stopped' : 'running';
}

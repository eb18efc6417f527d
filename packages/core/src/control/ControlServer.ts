import { chmodSync, lstatSync, renameSync, type Stats, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, DroverError } from '../errors.js';
import type { GroupStatus } from '../status.js';
import {
  type ControlSignal,
  encodeError,
  encodeResult,
  type PingResult,
  ProtocolError,
  parseRequest,
  type ReloadArgs,
  type Request,
  type RequestId,
} from './protocol.js';
import { randomName } from '../runtime/names.js';

/** What the master does for each control command. A rejection becomes an error response. */
export interface ControlHandler {
  ping(): Promise<PingResult>;
  status(): Promise<GroupStatus>;
  /** resolves when the stop is done: its response is written before the master goes away */
  stop(args: { timeoutMs?: number }): Promise<unknown>;
  /** `env` / `configEnv`: the environment update of `--update-env` (checked: string records) */
  restart(args: ReloadArgs): Promise<unknown>;
  reload(args: ReloadArgs): Promise<unknown>;
  scale(args: { workers: number }): Promise<unknown>;
  signal(args: { signal: ControlSignal }): Promise<unknown>;
}

export interface ControlServerOptions {
  /** longest request line in bytes; a longer one gets an error and its connection is closed (default 64 KiB) */
  maxLineBytes?: number;
  /** connections beyond this get an error and are closed (default 64) */
  maxConnections?: number;
  /**
   * A connection with no request in progress that received nothing for this long is closed, and
   * one whose client does not read its answers (none of them written for this long) is destroyed,
   * so forgotten or stuck clients cannot use up `maxConnections` (default 10000 ms)
   */
  idleTimeoutMs?: number;
  /**
   * Called with failures that are not the client's fault: a handler that throws something other
   * than a DroverError, a result that cannot be sent as JSON, an error of the listening socket.
   */
  onError?: (err: Error) => void;
}

/** `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
const DEFAULT_MAX_CONNECTIONS = 64;
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/**
 * Complete lines waiting on one connection before it stops reading: a flood waits in the kernel,
 * not here. Their bytes count too (at most one line's limit): lines of a mebibyte each (an
 * environment update) would otherwise hold 32 MiB per connection.
 */
const MAX_QUEUED_LINES = 32;
/** How long a connection told to close may linger before it is destroyed. */
const CLOSE_GRACE_MS = 1000;
const PROBE_TIMEOUT_MS = 1000;

interface Identity {
  dev: number;
  ino: number;
}

function socketError(code: string, message: string, hint: string, cause?: unknown): DroverError {
  return new DroverError(code, message, { hint, cause });
}

/**
 * The master's control socket: JSON lines over a unix socket (mode 0600). Hostile input never
 * takes it down: bad lines get error responses, an overlong line closes only its connection,
 * and a handler that throws becomes an error response.
 */
export class ControlServer {
  private readonly connections = new Set<Connection>();
  private closing: Promise<void> | null = null;

  private constructor(
    /** the socket path, absolute */
    readonly path: string,
    private readonly server: Server,
    private readonly identity: Identity,
    readonly handler: ControlHandler,
    readonly maxLineBytes: number,
    private readonly maxConnections: number,
    readonly idleTimeoutMs: number,
    readonly onError: (err: Error) => void,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (err) => onError(err));
  }

  /**
   * Listens on `socketPath`. An existing path must be a stale socket: a symbolic link or any
   * other file is refused, and a socket something still answers on means a master is running.
   * The socket is bound under a temporary name, narrowed to 0600, then renamed into place, so it
   * never appears with a wider mode and a stale file is replaced atomically.
   */
  /**
   * Throws unless a socket can be created at `socketPath`: short enough, and nothing there but a
   * socket (never a link). Synchronous, so a master checks before it forks; `listen` checks again.
   * Returns the absolute path.
   */
  static checkPath(socketPath: string): string {
    const path = resolve(socketPath);
    const bytes = Buffer.byteLength(path);
    if (bytes > MAX_SOCKET_PATH_BYTES) {
      throw socketError(
        'ESOCKPATH',
        `drover: control socket path '${path}' is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of unix socket paths`,
        'use a shorter runDir (for example DROVER_RUN_DIR=/tmp/drover) or a shorter baseTitle',
      );
    }
    const stats = lstatOrNull(path);
    if (stats) refuseUnsafeType(path, stats);
    return path;
  }

  static async listen(
    socketPath: string,
    handler: ControlHandler,
    opts: ControlServerOptions = {},
  ): Promise<ControlServer> {
    const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new ConfigError('maxLineBytes', maxLineBytes, 'an integer number of bytes >= 1');
    }
    if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
      throw new ConfigError('maxConnections', maxConnections, 'an integer >= 1');
    }
    const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (!Number.isSafeInteger(idleTimeoutMs) || idleTimeoutMs < 1) {
      throw new ConfigError('idleTimeoutMs', idleTimeoutMs, 'an integer number of milliseconds >= 1');
    }
    const path = ControlServer.checkPath(socketPath);
    await refuseLiveOrUnsafe(path);
    const { server, temp } = await bindTemporary(path);
    try {
      chmodSync(temp, 0o600);
      const stats = lstatSync(temp);
      // the path may have changed while we bound: check again right before taking it over
      const current = lstatOrNull(path);
      if (current) refuseUnsafeType(path, current);
      renameSync(temp, path);
      return new ControlServer(
        path,
        server,
        { dev: stats.dev, ino: stats.ino },
        handler,
        maxLineBytes,
        maxConnections,
        idleTimeoutMs,
        opts.onError ?? (() => {}),
      );
    } catch (err) {
      server.close();
      try {
        unlinkSync(temp);
      } catch {
        // renamed already, or gone
      }
      if (err instanceof DroverError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw socketError(
        'ESOCKET',
        `drover: cannot set up control socket '${path}' (${code})`,
        'check the run directory',
        err,
      );
    }
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops listening, removes the socket file (only while it is still the one this server bound),
   * and ends every connection. A connection with a request in flight gets that answer first, so a
   * `stop` handler may call `close()` itself; requests still queued behind it are refused.
   * Resolves once nothing new can arrive; it does not wait for in-flight handlers.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const current = lstatOrNull(this.path);
    if (current?.isSocket() && current.dev === this.identity.dev && current.ino === this.identity.ino) {
      try {
        unlinkSync(this.path);
      } catch {
        // removed meanwhile
      }
    }
    const listenerClosed = new Promise<void>((done) => {
      // close()'s own callback would wait for every connection, in-flight ones included; the
      // listening handle itself is closed by the next turn of the loop
      this.server.close();
      setImmediate(done);
    });
    for (const connection of this.connections) connection.shutdown();
    await listenerClosed;
  }

  /** Whether the socket's path still is the socket this server bound (not removed, not replaced). */
  holdsPath(): boolean {
    const current = lstatOrNull(this.path);
    return (
      current?.isSocket() === true && current.dev === this.identity.dev && current.ino === this.identity.ino
    );
  }

  /** Whether close() has been called. */
  get isClosing(): boolean {
    return this.closing !== null;
  }

  private accept(socket: Socket): void {
    if (this.closing || this.connections.size >= this.maxConnections) {
      const why = this.closing
        ? encodeError(null, 'ESHUTDOWN', 'drover: the master is stopping; no new control connections')
        : encodeError(
            null,
            'EBUSY',
            `drover: too many control connections to '${this.path}' (limit ${this.maxConnections}); idle ones, and ones whose client does not read its answers, are closed after ${Math.ceil(this.idleTimeoutMs / 1000)} s: try again then, and if it persists find the processes holding them ('ss -xp' lists them)`,
          );
      socket.on('error', () => {});
      socket.end(why);
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    const connection = new Connection(socket, this);
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }

  /** Runs one request line and returns the response line. Never throws. */
  async answer(line: string): Promise<string> {
    let request: Request;
    try {
      request = parseRequest(line);
    } catch (err) {
      if (err instanceof ProtocolError) return encodeError(err.id, err.code, err.message);
      return encodeError(null, 'EPROTOCOL', `drover: control request rejected (${(err as Error).message})`);
    }
    if (this.closing) {
      return encodeError(
        request.id,
        'ESHUTDOWN',
        `drover: the master is stopping; '${request.cmd}' was not run`,
      );
    }
    if (request.deadline !== undefined && Date.now() > request.deadline) {
      // the client gave up on it by now: running it late would surprise whoever sent it
      return encodeError(
        request.id,
        'EDEADLINE',
        `drover: '${request.cmd}' was read ${Date.now() - request.deadline} ms after its deadline; it was not run`,
      );
    }
    let result: unknown;
    try {
      result = await dispatch(this.handler, request);
    } catch (err) {
      return this.failure(request.id, request.cmd, err);
    }
    try {
      return encodeResult(request.id, result);
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
      return encodeError(
        request.id,
        'ERESULT',
        `drover: the result of '${request.cmd}' cannot be sent as JSON (${(err as Error).message})`,
      );
    }
  }

  private failure(id: RequestId, cmd: string, err: unknown): string {
    if (err instanceof DroverError) return encodeError(id, err.code, err.message);
    const error = err instanceof Error ? err : new Error(String(err));
    this.onError(error);
    return encodeError(id, 'EHANDLER', `drover: '${cmd}' failed: ${error.message || String(err)}`);
  }
}

function dispatch(handler: ControlHandler, request: Request): Promise<unknown> {
  // a handler that throws synchronously must become a rejection like any other
  return Promise.resolve().then(() => {
    switch (request.cmd) {
      case 'ping':
        return handler.ping();
      case 'status':
        return handler.status();
      case 'stop':
        return handler.stop(request.args);
      case 'restart':
        return handler.restart(request.args);
      case 'reload':
        return handler.reload(request.args);
      case 'scale':
        return handler.scale(request.args);
      case 'signal':
        return handler.signal(request.args);
    }
  });
}

/** One client connection: splits lines within the byte limit and answers them one at a time, in order. */
class Connection {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  private running = false;
  /** no more requests are read: the peer ended, the line limit was hit, or the server is closing */
  private stopped = false;
  private tooLong = false;
  private ended = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly server: ControlServer,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    // resets and broken pipes are a client's business; 'close' follows and cleans up
    socket.on('error', () => {});
    socket.once('close', () => this.clearIdle());
    this.armIdle();
  }

  /** Closes the connection once it has been idle (no request since the last answer, none running) for the limit. */
  private armIdle(): void {
    this.clearIdle();
    if (this.stopped || this.ended || this.socket.destroyed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.running || this.queue.length > 0) return;
      this.stopReading();
      this.ended = true;
      this.socket.end(
        encodeError(
          null,
          'EIDLE',
          `drover: control connection closed after ${this.server.idleTimeoutMs} ms without a request`,
        ),
      );
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    }, this.server.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Called by the server's close(): answer what is in flight, refuse what waits, then end. */
  shutdown(): void {
    this.stopReading();
    this.drive();
  }

  private onData(chunk: Buffer): void {
    // Bytes alone do not make a connection busy (blank lines, a line that never ends): only a
    // request answered re-arms the idle timer, so no client keeps a connection slot for nothing.
    if (this.stopped) return;
    const max = this.server.maxLineBytes;
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, newline);
      if (this.partialBytes + piece.length > max) {
        this.lineTooLong();
        return;
      }
      const line = this.partial.length ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      this.partialBytes = 0;
      this.enqueue(line.toString('utf8'));
      start = newline + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      if (this.partialBytes + rest > max) {
        this.lineTooLong();
        return;
      }
      this.partial.push(chunk.subarray(start));
      this.partialBytes += rest;
    }
    if (this.full()) this.socket.pause();
    this.drive();
  }

  private onEnd(): void {
    // a last request without its newline still counts
    if (!this.stopped && this.partialBytes > 0) this.enqueue(Buffer.concat(this.partial).toString('utf8'));
    this.stopReading();
    this.drive();
  }

  private lineTooLong(): void {
    this.tooLong = true;
    this.stopReading();
    this.drive();
  }

  private stopReading(): void {
    this.stopped = true;
    this.partial = [];
    this.partialBytes = 0;
    this.socket.pause();
  }

  private enqueue(line: string): void {
    // blank lines (a bare Enter in `nc`) are not requests
    if (line.trim() === '') return;
    this.queue.push(line);
    this.queuedBytes += line.length;
  }

  private full(): boolean {
    return this.queue.length >= MAX_QUEUED_LINES || this.queuedBytes >= this.server.maxLineBytes;
  }

  /** Answers queued lines one at a time; ends the connection once reading stopped and all is answered. */
  private drive(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    let answered = false;
    try {
      while (this.queue.length > 0 && !this.socket.destroyed) {
        const line = this.queue.shift() as string;
        this.queuedBytes -= line.length;
        const response = await this.server.answer(line);
        answered = true;
        if (this.socket.destroyed || this.ended) break;
        if (!this.socket.write(response)) await this.drained();
        if (!this.stopped && !this.full()) this.socket.resume();
      }
      if (this.stopped && !this.ended && !this.socket.destroyed) this.finish();
    } finally {
      this.running = false;
    }
    // lines may have arrived while the last write was draining
    if (this.queue.length > 0 && !this.socket.destroyed && !this.ended) this.drive();
    else if (answered) this.armIdle();
  }

  private finish(): void {
    this.ended = true;
    if (this.tooLong) {
      this.socket.end(
        encodeError(
          null,
          'ELINETOOLONG',
          `drover: control request line is over the limit of ${this.server.maxLineBytes} bytes; closing the connection`,
        ),
      );
    } else {
      this.socket.end();
    }
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /**
   * Waits until the client has taken what was written to it. One that does not read (a hung
   * agent that pipelines requests) would hold its connection slot, and the answers queued for it,
   * for good: when none of the pending bytes were written for `idleTimeoutMs`, the connection is
   * destroyed. A client that reads slowly makes progress and is waited for.
   */
  private drained(): Promise<void> {
    return new Promise((done) => {
      let pending = this.socket.writableLength;
      const deadline = setInterval(() => {
        const length = this.socket.writableLength;
        if (length < pending) {
          pending = length;
          return;
        }
        // 'close' follows, and settles this wait
        this.socket.destroy();
      }, this.server.idleTimeoutMs);
      deadline.unref();
      const settle = () => {
        clearInterval(deadline);
        this.socket.off('drain', settle);
        this.socket.off('close', settle);
        done();
      };
      this.socket.on('drain', settle);
      this.socket.on('close', settle);
    });
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function refuseUnsafeType(path: string, stats: Stats): void {
  if (stats.isSymbolicLink()) {
    throw socketError(
      'EUNSAFE_SOCKET',
      `drover: control socket path '${path}' is a symbolic link; it is never followed`,
      'remove the link',
    );
  }
  if (!stats.isSocket()) {
    throw socketError(
      'EUNSAFE_SOCKET',
      `drover: control socket path '${path}' exists and is not a socket`,
      'remove it, or choose another run directory',
    );
  }
}

/** Refuses a path that is not a socket, or a socket a live process answers on; a dead socket is fine. */
async function refuseLiveOrUnsafe(path: string): Promise<void> {
  const stats = lstatOrNull(path);
  if (!stats) return;
  refuseUnsafeType(path, stats);
  const outcome = await probe(path);
  if (outcome === 'live') {
    throw socketError(
      'EALREADYRUNNING',
      `drover: a master already listens on '${path}'`,
      'stop that group first, or give the new group another name (--name, baseTitle) or run dir',
    );
  }
  if (outcome !== 'stale') {
    throw socketError(
      'ESOCKET',
      `drover: cannot tell whether a master listens on '${path}' (${outcome})`,
      'check that no master of this group is running, then remove the file',
    );
  }
}

/** 'live' when something accepts on the socket, 'stale' when nothing listens, else the error code. */
function probe(path: string): Promise<string> {
  return new Promise((settle) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      settle('no answer within 1 s');
    }, PROBE_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      settle('live');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // EAGAIN: the listener's backlog is full, so it is alive
      if (err.code === 'ECONNREFUSED') settle('stale');
      else if (err.code === 'EAGAIN') settle('live');
      else settle(err.code ?? err.message);
    });
  });
}

/**
 * Binds a listening socket under a fresh name next to `path`, never longer than `path` itself.
 * libuv unlinks the name it bound when the server closes: after the rename that name is gone, so
 * closing can never remove a socket file that is not ours.
 */
async function bindTemporary(path: string): Promise<{ server: Server; temp: string }> {
  const dir = dirname(path);
  const length = Math.min(16, Math.max(1, Buffer.byteLength(basename(path)) - 1));
  for (let attempt = 0; ; attempt++) {
    const temp = join(dir, `.${randomName(length)}`);
    const server = createServer({ allowHalfOpen: true });
    try {
      await new Promise<void>((done, fail) => {
        server.once('error', fail);
        server.listen({ path: temp, exclusive: true }, () => {
          server.off('error', fail);
          done();
        });
      });
      return { server, temp };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && attempt < 16) continue;
      throw socketError(
        'ESOCKET',
        `drover: cannot listen on a control socket in '${dir}' (${code ?? (err as Error).message})`,
        'check that the run directory exists and is writable',
        err,
      );
    }
  }
}

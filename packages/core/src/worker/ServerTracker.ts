import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import net from 'node:net';

/** How long idle keep-alive connections may stay after a drain starts, before they are closed. */
const IDLE_GRACE_MS = 1000;

interface Tracked {
  server: net.Server;
  /** responses not finished yet (http servers only) */
  inFlight: Set<ServerResponse>;
  closed: Promise<void>;
}

/**
 * Knows every server this worker listens with, so that a stop or reload drains them without the
 * application's help: stop accepting (in a cluster worker the master then routes new connections
 * to the other workers), answer in-flight requests with `Connection: close`, close keep-alive
 * connections once idle, and report when all are done.
 */
export class ServerTracker {
  private readonly tracked = new Map<net.Server, Tracked>();
  private readonly pending = new Set<Promise<void>>();
  private draining = false;

  /** Wraps `net.Server.prototype.listen` once per process, so every server is seen. */
  install(): void {
    const tracker = this;
    const original = net.Server.prototype.listen;
    net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]) {
      tracker.track(this);
      return (original as (...a: unknown[]) => net.Server).apply(this, args);
    } as typeof original;
  }

  /**
   * Resolves once a server of this process listens and still does a moment later: a server that
   * listens only to find a free port (`listen(0)`, then `close()`) is not the one that serves.
   */
  serving(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if ([...this.tracked.keys()].some((s) => s.listening)) resolve();
        else this.onListening.add(() => setImmediate(check));
      };
      check();
    });
  }

  /** called at the next 'listening' of any tracked server, once each */
  private readonly onListening = new Set<() => void>();

  /** Resolves once every listen() started so far has succeeded or failed. */
  async listening(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  get size(): number {
    return this.tracked.size;
  }

  /** Whether this process has ever listened (or tried to). */
  get used(): boolean {
    return this.everTracked;
  }

  private everTracked = false;

  private track(server: net.Server): void {
    if (this.tracked.has(server)) return;
    this.everTracked = true;
    const inFlight = new Set<ServerResponse>();
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    this.tracked.set(server, { server, inFlight, closed });
    void closed.then(() => this.tracked.delete(server));

    server.on('listening', () => {
      const waiting = [...this.onListening];
      this.onListening.clear();
      for (const callback of waiting) callback();
    });
    const settled = new Promise<void>((resolve) => {
      const done = () => {
        server.off('listening', done);
        server.off('error', failed);
        resolve();
      };
      const failed = (error: Error) => {
        done();
        // Watching for the error must not handle it: a listen that fails (EADDRINUSE, EACCES)
        // with no 'error' listener of the application's throws, as it does under plain node, so
        // the worker crashes instead of running without its server.
        if (server.listenerCount('error') === 0) throw error;
      };
      server.once('listening', done);
      // first of the error listeners: one of the application's added with once() before this
      // listen() would remove itself before a later listener could count it
      server.prependOnceListener('error', failed);
    });
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));

    if (isHttpServer(server)) {
      // first of the 'request' listeners: a handler that answers at once (res.end() in the
      // handler itself) would send its headers, keep-alive, before a later listener could say
      // that the connection ends
      server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
        // A request that arrives while draining is still served, and ends its connection.
        if (this.draining) res.shouldKeepAlive = false;
        inFlight.add(res);
        res.once('close', () => inFlight.delete(res));
      });
    }
  }

  /** Stops accepting on every server and resolves when all their connections have ended. */
  async drain(): Promise<void> {
    this.draining = true;
    const waits: Promise<void>[] = [];
    for (const t of this.tracked.values()) {
      if (!t.server.listening) continue;
      for (const res of t.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      // net's close, not http's: http.Server.close() also drops idle keep-alive connections at
      // once, racing clients that are about to send on them.
      net.Server.prototype.close.call(t.server);
      if (isHttpServer(t.server)) {
        const server = t.server;
        const timer = setInterval(() => server.closeIdleConnections(), IDLE_GRACE_MS);
        timer.unref();
        void t.closed.then(() => clearInterval(timer));
      }
      waits.push(t.closed);
    }
    await Promise.all(waits);
  }
}

function isHttpServer(server: net.Server): server is HttpServer {
  return typeof (server as Partial<HttpServer>).closeIdleConnections === 'function';
}

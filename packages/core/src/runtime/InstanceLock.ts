import { createServer, type Server } from 'node:net';
import { DroverError, describeValue } from '../errors.js';

/** An abstract socket name shares `sun_path` with its leading NUL. */
const MAX_LOCK_NAME_BYTES = 107;

/**
 * Single instance per name: a listening abstract unix socket (Linux). Binding is atomic, and the
 * kernel frees the name the moment its holder dies, even by SIGKILL, so no stale lock is ever
 * left behind. Connections to it are closed at once. The lock does not keep the event loop alive.
 */
export class InstanceLock {
  private released: Promise<void> | null = null;

  private constructor(
    readonly name: string,
    private readonly server: Server,
  ) {}

  /** Takes the lock `name`, or resolves null when another process (or this one) holds it. */
  static acquire(name: string): Promise<InstanceLock | null> {
    try {
      validateLockName(name);
    } catch (err) {
      return Promise.reject(err);
    }
    if (process.platform !== 'linux') {
      return Promise.reject(
        new DroverError(
          'EUNSUPPORTED',
          `drover: the single-instance lock needs Linux abstract sockets; this is ${process.platform}`,
          {
            hint: 'run drover on Linux',
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const server = createServer((connection) => connection.destroy());
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') resolve(null);
        else
          reject(
            new DroverError('ELOCK', `drover: cannot take the lock '${name}' (${err.code ?? err.message})`, {
              cause: err,
            }),
          );
      });
      // exclusive: even in a cluster worker, bind here rather than asking the primary to
      server.listen({ path: `\0${name}`, exclusive: true }, () => {
        server.unref();
        resolve(new InstanceLock(name, server));
      });
    });
  }

  /** Frees the name. Safe to call more than once. */
  release(): Promise<void> {
    this.released ??= new Promise((resolve) => this.server.close(() => resolve()));
    return this.released;
  }
}

function validateLockName(name: unknown): asserts name is string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.includes('\0') ||
    Buffer.byteLength(name) > MAX_LOCK_NAME_BYTES
  ) {
    throw new DroverError('EINVAL', `drover: lock name ${describeValue(name)} is not usable`, {
      hint: `expected 1 to ${MAX_LOCK_NAME_BYTES} bytes without NUL characters`,
    });
  }
}

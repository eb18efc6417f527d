import { connect, type Socket } from 'node:net';
import type { ControlHandler } from '../../../packages/core/src/control/ControlServer.js';
import { ProtocolError, parseRequest } from '../../../packages/core/src/control/protocol.js';
import type { GroupStatus } from '../../../packages/core/src/status.js';
import { expect } from 'vitest';
import { DroverError } from '../../../packages/core/src/errors.js';
import { waitFor } from '../infra/support.js';

/** A handler whose every command records its call and answers plainly. */
export function stubHandler(overrides: Partial<ControlHandler> = {}): ControlHandler & { calls: string[] } {
  const calls: string[] = [];
  const record =
    <A>(cmd: string, answer: (args: A) => unknown) =>
    async (args: A) => {
      calls.push(cmd);
      return answer(args);
    };
  return {
    calls,
    ping: record('ping', () => ({
      pid: process.pid,
      baseTitle: 'test',
      version: '0.0.0',
    })) as ControlHandler['ping'],
    status: record('status', () => STATUS) as ControlHandler['status'],
    stop: record('stop', (args) => ({ stopped: true, args })),
    restart: record('restart', (args) => ({ restarted: true, args })),
    reload: record('reload', (args) => ({ reloaded: true, args })),
    scale: record('scale', (args) => ({ scaled: args })),
    signal: record('signal', (args) => ({ sent: args })),
    ...overrides,
  };
}

export const STATUS: GroupStatus = {
  master: {
    pid: 1,
    title: 'drover:Master:test',
    baseTitle: 'test',
    state: 'running',
    memory: 1,
    startedAt: 0,
    uptimeSeconds: 0,
    workerCount: 0,
    targetWorkers: 0,
    version: '0.0.0',
  },
  workers: [],
};

/** A raw connection that writes bytes and reads response lines, for protocol-level tests. */
export class RawConnection {
  readonly lines: string[] = [];
  private buffer = '';
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline = this.buffer.indexOf('\n');
      while (newline !== -1) {
        this.lines.push(this.buffer.slice(0, newline));
        this.buffer = this.buffer.slice(newline + 1);
        newline = this.buffer.indexOf('\n');
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static open(path: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Waits until `count` response lines arrived; returns them parsed. */
  async responses(
    count: number,
    timeoutMs = 10_000,
  ): Promise<
    Array<
      Record<string, unknown> & {
        id: unknown;
        ok: boolean;
        result?: unknown;
        error: { code: string; message: string };
      }
    >
  > {
    await waitFor(`${count} response line(s)`, () => this.lines.length >= count || this.closed, timeoutMs);
    if (this.lines.length < count)
      throw new Error(
        `connection closed after ${this.lines.length} of ${count} responses: ${this.lines.join(' | ')}`,
      );
    return this.lines.slice(0, count).map((line) => JSON.parse(line));
  }

  waitClosed(timeoutMs = 10_000): Promise<true> {
    return waitFor('the server to close the connection', () => this.closed, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The DroverError `promise` rejects with; fails the test when it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<DroverError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(DroverError);
    return err as DroverError;
  }
  throw new Error('expected a rejection');
}

/** The ProtocolError that parsing `line` as a request throws; fails the test if it is accepted. */
export function refusedRequest(line: string): ProtocolError {
  try {
    parseRequest(line);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error(`expected ${line} to be refused`);
}

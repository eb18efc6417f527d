import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../packages/core/src/control/ControlClient.js';
import { ControlServer } from '../../../packages/core/src/control/ControlServer.js';
import { parseResponse } from '../../../packages/core/src/control/protocol.js';
import { Process } from '../../../packages/core/src/process/Process.js';
import { Children, coreDist, type LineChild, removeDir, tempDir, waitFor } from '../infra/support.js';
import { RawConnection, stubHandler } from './support.js';

const children = new Children();
let dir: string;
let path: string;

beforeEach(() => {
  dir = tempDir('drover-hostile-');
  path = join(dir, 'test.sock');
});
afterEach(async () => {
  await children.killAll();
  removeDir(dir);
});

const MiB = 1024 * 1024;

const chunk = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => `${s}\n`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => `${JSON.stringify(v)}\n`),
  fc
    .record({
      id: fc.oneof(fc.integer(), fc.string()),
      cmd: fc.constantFrom('ping', 'status', 'scale', 'signal', 'nope'),
      args: fc.jsonValue(),
    })
    .map((r) => `${JSON.stringify(r)}\n`),
  fc.integer({ min: 3000, max: 9000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('{"id":1,"cmd":"ping"}\n', '{"id":2,"cmd":"status"}', '\r\n', '\n\n\n'),
);

describe('ControlServer under hostile input', () => {
  it('keeps answering ping after random bytes and lines, abrupt or not (property)', async () => {
    const errors: Error[] = [];
    const server = await ControlServer.listen(path, stubHandler(), {
      maxLineBytes: 4096,
      onError: (e) => errors.push(e),
    });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(chunk, { maxLength: 12 }), fc.boolean(), async (chunks, abrupt) => {
          const r = await RawConnection.open(path);
          for (const c of chunks) r.write(c);
          if (abrupt) r.destroy();
          else r.socket.end();
          const client = await ControlClient.connect(path);
          try {
            expect(await client.request('ping')).toMatchObject({ baseTitle: 'test' });
          } finally {
            client.close();
          }
          if (!abrupt) {
            await r.waitClosed();
            for (const line of r.lines) expect(parseResponse(line), line).not.toBeNull();
          }
        }),
        { numRuns: 150 },
      );
      expect(errors).toEqual([]);
      await waitFor('every connection to be gone', () => server.connectionCount === 0);
    } finally {
      await server.close();
    }
  });
});

describe('ControlServer in its own process', () => {
  async function startMaster(): Promise<LineChild> {
    const master = children.node(
      join(import.meta.dirname, 'fixtures/control-master.mjs'),
      [coreDist('control/ControlServer'), path],
      {
        file: true,
      },
    );
    await master.line(/^ready$/);
    return master;
  }

  it('writes the answer to stop before the master exits', async () => {
    const master = await startMaster();
    const client = await ControlClient.connect(path);
    try {
      expect(await client.request('stop')).toEqual({ stopped: true });
    } finally {
      client.close();
    }
    expect(await master.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(path)).toBe(false);
  });

  it('does not grow with huge lines or with a client that floods without reading', async () => {
    const master = await startMaster();
    const client = await ControlClient.connect(path);
    try {
      for (let i = 0; i < 20; i++) await client.request('status');
      const before = Process.rss(master.pid) as number;

      // four clients each try to send one 64 MiB line
      const huge = await Promise.all([0, 1, 2, 3].map(() => sendHugeLine(path, 64 * MiB)));
      for (const outcome of huge) {
        expect(outcome.answer).toMatch(/"code":"ELINETOOLONG"/);
        expect(outcome.sent).toBeLessThan(16 * MiB);
      }

      // one client writes 40 MiB of requests and never reads an answer
      const flood = await floodWithoutReading(path, 40 * MiB);
      try {
        expect(flood.sent).toBeLessThan(40 * MiB);
        expect(await client.request('ping')).toMatchObject({ baseTitle: 'fixture' });
        const after = Process.rss(master.pid) as number;
        expect(after - before).toBeLessThan(32 * MiB);
      } finally {
        flood.socket.destroy();
      }
      expect(await client.request('ping')).toMatchObject({ baseTitle: 'fixture' });
    } finally {
      client.close();
    }
  });
});

describe('ControlServer behind a long request', () => {
  it('queues at most about one line limit of requests per connection, however long the lines', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = await ControlServer.listen(
      path,
      stubHandler({
        reload: async () => {
          await held;
          return { replaced: 0 };
        },
      }),
      { maxLineBytes: MiB },
    );
    const socket = connect(path);
    socket.on('error', () => {});
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('{"id":0,"cmd":"reload"}\n');
      // requests of 900 kB each (leading blanks are JSON), queued behind the reload
      const line = Buffer.from(`${' '.repeat(900_000)}{"id":1,"cmd":"ping"}\n`);
      let sent = 0;
      for (let i = 0; i < 40; i++) {
        sent += line.length;
        if (socket.write(line)) continue;
        const drained = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 1000);
          socket.once('drain', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        if (!drained) break;
      }
      // 32 queued lines would be 28 MB; the bytes bound stops reading after about 1 MiB, and the
      // rest waits in the kernel's buffers and the client's
      expect(sent).toBeLessThan(12 * MiB);
    } finally {
      release();
      socket.destroy();
      await server.close();
    }
  });
});

/** Writes one line of `size` bytes (no newline) until the server hangs up; returns what it answered. */
function sendHugeLine(at: string, size: number): Promise<{ sent: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(at);
    let answer = '';
    let sent = 0;
    let open = true;
    const piece = Buffer.alloc(MiB, 'x');
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      answer += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      open = false;
      resolve({ sent, answer });
    });
    socket.once('connect', async () => {
      try {
        while (open && sent < size) {
          sent += piece.length;
          if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r).once('close', r));
        }
        socket.end();
      } catch (err) {
        reject(err);
      }
    });
  });
}

/**
 * Writes requests until `size` bytes went out or the server stopped taking them (no 'drain' for
 * 2 s while the answers pile up unread); leaves the connection open.
 */
function floodWithoutReading(at: string, size: number): Promise<{ sent: number; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(at);
    socket.on('error', () => {});
    socket.once('connect', async () => {
      socket.pause();
      const block = Buffer.from('{"id":1,"cmd":"status"}\n'.repeat(40_000));
      let sent = 0;
      while (sent < size && !socket.destroyed) {
        sent += block.length;
        if (!socket.write(block)) {
          const drained = await new Promise<boolean>((r) => {
            const timer = setTimeout(() => r(false), 2000);
            socket.once('drain', () => {
              clearTimeout(timer);
              r(true);
            });
          });
          if (!drained) break;
        }
      }
      resolve({ sent, socket });
    });
  });
}

import { chownSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../packages/core/src/control/ControlClient.js';
import { ControlServer } from '../../../packages/core/src/control/ControlServer.js';
import { Children, coreDist, removeDir, tempDir } from '../infra/support.js';
import { stubHandler, rejection } from './support.js';

const children = new Children();
let dir: string;
let path: string;
const servers: ControlServer[] = [];
const clients: ControlClient[] = [];

beforeEach(() => {
  dir = tempDir('drover-cli-');
  path = join(dir, 'test.sock');
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await children.killAll();
  removeDir(dir);
});

async function connect(): Promise<ControlClient> {
  const client = await ControlClient.connect(path);
  clients.push(client);
  return client;
}

describe('ControlClient', () => {
  it('reports ENOTRUNNING when there is no socket, or nothing listens on it', async () => {
    const missing = await rejection(ControlClient.connect(path));
    expect(missing.code).toBe('ENOTRUNNING');
    expect(missing.message).toContain(`no master listens on '${path}' (ENOENT)`);

    const stale = children.node(
      `require('node:net').createServer().listen(process.argv[1], () => console.log('ready'))`,
      [path],
    );
    await stale.line(/ready/);
    await stale.kill('SIGKILL');
    const refused = await rejection(ControlClient.connect(path));
    expect(refused.code).toBe('ENOTRUNNING');
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it('rejects with the code and message the master sent', async () => {
    servers.push(await ControlServer.listen(path, stubHandler()));
    const client = await connect();
    const err = await rejection(client.request('scale', { workers: -2 }));
    expect(err.code).toBe('EPROTOCOL');
    expect(err.message).toContain("'args.workers' is -2");
    const unknown = await rejection(client.request('dance'));
    expect(unknown.message).toContain('known commands: ping, status');
  });

  it("refuses a 'status' answer that is not a group's status, naming the socket", async () => {
    servers.push(
      await ControlServer.listen(path, stubHandler({ status: async () => ({ nonsense: true }) as never })),
    );
    const client = await connect();
    const err = await rejection(client.request('status'));
    expect(err.code).toBe('EPROTOCOL');
    expect(err.message).toBe(
      `drover: '${path}' answered 'status' with something that is not a group's status; a process other than a drover master of the same version may listen there`,
    );
  });

  it('matches overlapping requests to their answers', async () => {
    servers.push(
      await ControlServer.listen(path, stubHandler({ scale: async ({ workers }) => workers * 10 })),
    );
    const client = await connect();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => client.request('scale', { workers: n })));
    expect(results).toEqual([10, 20, 30, 40, 50]);
  });

  it('times out a request that gets no answer, then drops its late answer', async () => {
    let answerStatus: (value: unknown) => void = () => {};
    servers.push(
      await ControlServer.listen(
        path,
        stubHandler({
          status: () =>
            new Promise((resolve) => {
              answerStatus = resolve as (value: unknown) => void;
            }),
        }),
      ),
    );
    const client = await connect();
    const err = await rejection(client.request('status', undefined, { timeoutMs: 100 }));
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.message).toContain("no answer to 'status'");
    const ping = client.request('ping');
    answerStatus({ late: true });
    expect(await ping).toMatchObject({ baseTitle: 'test' });
  });

  it('rejects waiting requests when the connection drops', async () => {
    // a peer that hangs up on the first request, as a master killed mid-request would
    const peer = createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => peer.listen(path, resolve));
    try {
      const client = await connect();
      const err = await rejection(client.request('status'));
      expect(err.code).toBe('ECONNCLOSED');
      expect(err.message).toContain(path);
      expect((await rejection(client.request('ping'))).code).toBe('ECONNCLOSED');
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });

  it('rejects waiting requests when the client closes', async () => {
    servers.push(await ControlServer.listen(path, stubHandler({ stop: () => new Promise(() => {}) })));
    const client = await connect();
    const stop = client.request('stop');
    client.close();
    expect((await rejection(stop)).code).toBe('ECONNCLOSED');
  });

  it('does not keep its process alive once no request waits', async () => {
    servers.push(await ControlServer.listen(path, stubHandler()));
    const child = children.node(
      join(import.meta.dirname, 'fixtures/control-client.mjs'),
      [coreDist('control/ControlClient'), path],
      {
        file: true,
      },
    );
    expect(JSON.parse(await child.line(/^\{/))).toMatchObject({ baseTitle: 'test' });
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it.skipIf(process.getuid?.() !== 0)(
    "refuses a socket another user owns: it is not this user's master",
    async () => {
      let connections = 0;
      const server = createServer(() => connections++);
      await new Promise<void>((done) => server.listen(path, done));
      try {
        chownSync(path, 65534, 65534);
        const refused = await rejection(ControlClient.connect(path));
        expect(refused.code).toBe('EUNSAFE_SOCKET');
        expect(refused.message).toBe(
          `drover: control socket '${path}' belongs to uid 65534, not to this user (uid 0); it is not this user's master: ` +
            'run drover as the user that started the group, and check who can write its run directory',
        );
        expect(connections).toBe(0);
        // the same socket back in this user's hands is reached as before
        chownSync(path, 0, 0);
        (await ControlClient.connect(path)).close();
      } finally {
        await new Promise((done) => server.close(done));
      }
    },
  );

  it('imports nothing but node:net, node:fs, the protocol, the error types and the timer bound', () => {
    const importsOf = (module: string) =>
      [...readFileSync(coreDist(module), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(importsOf('control/ControlClient').sort()).toEqual([
      '../errors.js',
      '../timerLimit.js',
      './SocketGoneError.js',
      './protocol.js',
      'node:fs',
      'node:net',
    ]);
    expect(importsOf('control/SocketGoneError')).toEqual(['../errors.js']);
    expect(importsOf('control/protocol')).toEqual(['../errors.js']);
    expect(importsOf('errors')).toEqual([]);
    expect(importsOf('timerLimit')).toEqual([]);
  });
});

import { createServer } from 'node:net';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../packages/core/src/control/ControlClient.js';
import { type ControlHandler, ControlServer } from '../../../packages/core/src/control/ControlServer.js';
import { COMMANDS } from '../../../packages/core/src/control/protocol.js';
import { DroverError } from '../../../packages/core/src/errors.js';
import { Children, removeDir, tempDir, waitFor } from '../infra/support.js';
import { RawConnection, STATUS, stubHandler, rejection } from './support.js';

const children = new Children();
let dir: string;
let path: string;
const servers: ControlServer[] = [];
const clients: ControlClient[] = [];
const raws: RawConnection[] = [];

beforeEach(() => {
  dir = tempDir('drover-ctl-');
  path = join(dir, 'test.sock');
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of raws.splice(0)) r.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await children.killAll();
  removeDir(dir);
});

async function serve(handler: ControlHandler = stubHandler(), opts = {}): Promise<ControlServer> {
  const server = await ControlServer.listen(path, handler, opts);
  servers.push(server);
  return server;
}
async function client(): Promise<ControlClient> {
  const c = await ControlClient.connect(path);
  clients.push(c);
  return c;
}
async function raw(): Promise<RawConnection> {
  const r = await RawConnection.open(path);
  raws.push(r);
  return r;
}

/** A socket file nobody listens on: its server was SIGKILLed, so nothing unlinked it. */
async function staleSocket(at: string): Promise<void> {
  const child = children.node(
    `require('node:net').createServer().listen(process.argv[1], () => console.log('ready'))`,
    [at],
  );
  await child.line(/ready/);
  await child.kill('SIGKILL');
  expect(lstatSync(at).isSocket()).toBe(true);
}

describe('ControlServer: commands', () => {
  it('answers every command through the handler, over a 0600 socket', async () => {
    const handler = stubHandler();
    await serve(handler);
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const c = await client();
    expect(await c.request('ping')).toEqual({ pid: process.pid, baseTitle: 'test', version: '0.0.0' });
    expect(await c.request('status')).toEqual(STATUS);
    expect(await c.request('stop', { timeoutMs: 5 })).toEqual({ stopped: true, args: { timeoutMs: 5 } });
    expect(await c.request('restart')).toEqual({ restarted: true, args: {} });
    expect(await c.request('reload', { timeoutMs: 0 })).toEqual({ reloaded: true, args: { timeoutMs: 0 } });
    expect(await c.request('scale', { workers: 3 })).toEqual({ scaled: { workers: 3 } });
    expect(await c.request('signal', { signal: 'SIGTTIN' })).toEqual({ sent: { signal: 'SIGTTIN' } });
    expect(handler.calls).toEqual([...COMMANDS]);
  });

  it('answers requests on one connection in order, however long each takes', async () => {
    const order: number[] = [];
    await serve(
      stubHandler({
        scale: async ({ workers }) => {
          await new Promise((resolve) => setTimeout(resolve, workers));
          order.push(workers);
          return workers;
        },
      }),
    );
    const r = await raw();
    r.write(
      [
        '{"id":"a","cmd":"scale","args":{"workers":300}}',
        '{"id":"b","cmd":"scale","args":{"workers":1}}',
        '{"id":"c","cmd":"ping"}',
        '',
      ].join('\n'),
    );
    const answers = await r.responses(3);
    expect(answers.map((a) => a.id)).toEqual(['a', 'b', 'c']);
    expect(answers.map((a) => a.result)).toEqual([300, 1, expect.objectContaining({ baseTitle: 'test' })]);
    expect(order).toEqual([300, 1]);
  });

  it('keeps a connection usable after bad requests, answering each with an error that says why', async () => {
    const handler = stubHandler();
    await serve(handler);
    const r = await raw();
    r.write(
      'not json\n{"id":1,"cmd":"explode"}\n{"id":2,"cmd":"scale","args":{"workers":-1}}\n[1]\n\n{"id":3,"cmd":"ping"}\n',
    );
    const [notJson, unknown, badArg, array, ping] = await r.responses(5);
    expect(notJson).toMatchObject({ id: null, ok: false, error: { code: 'EPROTOCOL' } });
    expect(notJson?.error.message).toContain('not valid JSON');
    expect(unknown).toMatchObject({ id: 1, ok: false, error: { code: 'EPROTOCOL' } });
    expect(unknown?.error.message).toContain(`"explode"; known commands: ${COMMANDS.join(', ')}`);
    expect(badArg).toMatchObject({ id: 2, ok: false });
    expect(badArg?.error.message).toContain("'args.workers' is -1; expected an integer >= 0");
    expect(array).toMatchObject({ id: null, ok: false });
    expect(ping).toMatchObject({ id: 3, ok: true });
    expect(handler.calls).toEqual(['ping']);
    expect(r.closed).toBe(false);
  });

  it('turns a handler that throws or rejects into an error response, and reports non-drover errors', async () => {
    const reported: Error[] = [];
    await serve(
      stubHandler({
        stop: () => {
          throw new Error('sync boom');
        },
        reload: async () => {
          throw new Error('async boom');
        },
        scale: async () => {
          throw new DroverError('ECONFIG', 'drover: workers 9 is over maxWorkers 8');
        },
        status: async () => ({ big: 1n }) as never,
      }),
      { onError: (err: Error) => reported.push(err) },
    );
    const c = await client();
    const stop = await rejection(c.request('stop'));
    expect(stop.code).toBe('EHANDLER');
    expect(stop.message).toContain("'stop' failed: sync boom");
    expect((await rejection(c.request('reload'))).message).toContain('async boom');
    const scale = await rejection(c.request('scale', { workers: 9 }));
    expect(scale.code).toBe('ECONFIG');
    expect(scale.message).toBe('drover: workers 9 is over maxWorkers 8');
    const status = await rejection(c.request('status'));
    expect(status.code).toBe('ERESULT');
    expect(status.message).toContain("result of 'status' cannot be sent as JSON");
    expect(reported.map((e) => e.message)).toEqual([
      'sync boom',
      'async boom',
      expect.stringContaining('BigInt'),
    ]);
    expect(await c.request('ping')).toMatchObject({ baseTitle: 'test' });
  });
});

describe('ControlServer: hostile clients', () => {
  it('answers a line over the limit with an error, closes that connection, and serves others', async () => {
    await serve(stubHandler(), { maxLineBytes: 1024 });
    const r = await raw();
    r.write('{"id":1,"cmd":"ping"}\n');
    r.write(`{"id":2,"cmd":"ping","pad":"${'x'.repeat(5000)}"}\n`);
    const [first, tooLong] = await r.responses(2);
    expect(first).toMatchObject({ id: 1, ok: true });
    expect(tooLong).toMatchObject({ id: null, ok: false, error: { code: 'ELINETOOLONG' } });
    expect(tooLong?.error.message).toContain('1024 bytes');
    await r.waitClosed();
    expect(await (await client()).request('ping')).toMatchObject({ baseTitle: 'test' });
  });

  it('counts a line that arrives in pieces against the limit', async () => {
    await serve(stubHandler(), { maxLineBytes: 100 });
    const r = await raw();
    for (let i = 0; i < 20; i++) r.write('x'.repeat(10));
    const [tooLong] = await r.responses(1);
    expect(tooLong).toMatchObject({ ok: false, error: { code: 'ELINETOOLONG' } });
    await r.waitClosed();
  });

  it('survives binary garbage, half lines and abrupt disconnects', async () => {
    await serve();
    for (let i = 0; i < 5; i++) {
      const r = await raw();
      r.write(Buffer.from([0, 255, 10, 0xc3, 0x28, 10, 1, 2, 3]));
      r.write('{"id":1,"cmd":"pi');
      r.destroy();
    }
    const r = await raw();
    r.write(Buffer.from([0xff, 0xfe, 10]));
    r.write('{"id":7,"cmd":"ping"}\r\n');
    const [garbage, ping] = await r.responses(2);
    expect(garbage).toMatchObject({ ok: false, error: { code: 'EPROTOCOL' } });
    expect(ping).toMatchObject({ id: 7, ok: true });
  });

  it('answers a client that half-closes after its request, even without a final newline', async () => {
    await serve();
    const r = await raw();
    r.write('{"id":1,"cmd":"status"}\n{"id":2,"cmd":"ping"}');
    r.socket.end();
    const answers = await r.responses(2);
    expect(answers.map((a) => [a.id, a.ok])).toEqual([
      [1, true],
      [2, true],
    ]);
    await r.waitClosed();
  });

  it('refuses connections beyond maxConnections with an error', async () => {
    await serve(stubHandler(), { maxConnections: 2 });
    const a = await client();
    const b = await client();
    const extra = await raw();
    const [busy] = await extra.responses(1);
    expect(busy).toMatchObject({ id: null, ok: false, error: { code: 'EBUSY' } });
    expect(busy?.error.message).toContain('limit 2');
    await extra.waitClosed();
    expect(await a.request('ping')).toBeTruthy();
    b.close();
    await waitFor('a slot to free up', () => servers[0]?.connectionCount === 1);
    expect(await (await client()).request('ping')).toBeTruthy();
  });

  it('stops reading from a client that floods requests without reading answers', async () => {
    await serve();
    const r = await raw();
    r.socket.pause();
    const line = '{"id":1,"cmd":"status"}\n'.repeat(1000);
    for (let i = 0; i < 200; i++) r.write(line); // 200k requests, ~4.6 MiB
    // the server answers what it reads, then waits on the kernel's buffers: it stays responsive
    const other = await client();
    expect(await other.request('ping')).toBeTruthy();
    r.destroy();
  });

  it('destroys a connection whose client pipelines requests and never reads, once no answer was written for idleTimeoutMs; its slot frees up', async () => {
    // answers of 64 KiB fill the socket's buffers after a few requests
    const big = { ...STATUS, master: { ...STATUS.master, title: 'x'.repeat(64 * 1024) } };
    const server = await serve(stubHandler({ status: async () => big }), {
      idleTimeoutMs: 300,
      maxConnections: 2,
    });
    const hogs = [await raw(), await raw()];
    for (const hog of hogs) {
      hog.socket.pause();
      hog.write('{"id":1,"cmd":"status"}\n'.repeat(100));
    }
    // both slots are taken: the refusal says what frees them
    const [busy] = await (await raw()).responses(1);
    expect(busy?.error.code).toBe('EBUSY');
    expect(busy?.error.message).toContain(
      'ones whose client does not read its answers, are closed after 1 s',
    );
    await waitFor('the server to drop both connections', () => server.connectionCount === 0, 20_000);
    expect(await (await client()).request('ping')).toBeTruthy();
  });
});

describe('ControlServer: the socket file', () => {
  it('replaces a stale socket left by a killed master', async () => {
    await staleSocket(path);
    await serve();
    expect(await (await client()).request('ping')).toBeTruthy();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses to start while a master answers on the socket, and leaves it alone', async () => {
    await serve();
    const err = await rejection(ControlServer.listen(path, stubHandler()));
    expect(err.code).toBe('EALREADYRUNNING');
    expect(err.message).toContain(`a master already listens on '${path}'`);
    expect(await (await client()).request('ping')).toBeTruthy();
  });

  it('refuses a symbolic link at the socket path, never following it', async () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'precious');
    symlinkSync(target, path);
    const err = await rejection(ControlServer.listen(path, stubHandler()));
    expect(err.code).toBe('EUNSAFE_SOCKET');
    expect(err.message).toContain(`'${path}' is a symbolic link`);
    expect(readlinkSync(path)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('precious');

    // a link to a stale socket is refused as well, and the socket stays where it is
    const stale = join(dir, 'stale.sock');
    await staleSocket(stale);
    const link = join(dir, 'link.sock');
    symlinkSync(stale, link);
    expect((await rejection(ControlServer.listen(link, stubHandler()))).code).toBe('EUNSAFE_SOCKET');
    expect(lstatSync(stale).isSocket()).toBe(true);
  });

  it('refuses a regular file or a directory at the socket path', async () => {
    writeFileSync(path, 'data');
    const err = await rejection(ControlServer.listen(path, stubHandler()));
    expect(err.code).toBe('EUNSAFE_SOCKET');
    expect(err.message).toContain('is not a socket');
    expect(readFileSync(path, 'utf8')).toBe('data');
    const sub = join(dir, 'sub.sock');
    mkdirSync(sub);
    expect((await rejection(ControlServer.listen(sub, stubHandler()))).code).toBe('EUNSAFE_SOCKET');
  });

  it('refuses a socket path over 107 bytes, suggesting a shorter runDir', async () => {
    const long = join(dir, `${'s'.repeat(120)}.sock`);
    const err = await rejection(ControlServer.listen(long, stubHandler()));
    expect(err.code).toBe('ESOCKPATH');
    expect(err.message).toContain(long);
    expect(err.message).toContain('shorter runDir');
  });

  it('removes its socket file on close, but not one that replaced it', async () => {
    const first = await serve();
    await first.close();
    expect(existsSync(path)).toBe(false);
    await rejection(ControlClient.connect(path));

    const a = await serve();
    // someone removes a's file and another server takes the path
    const { unlinkSync } = await import('node:fs');
    unlinkSync(path);
    const b = await serve(stubHandler({ ping: async () => ({ pid: 2, baseTitle: 'b', version: '0' }) }));
    await a.close();
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(await (await client()).request('ping')).toMatchObject({ baseTitle: 'b' });
    await b.close();
    expect(existsSync(path)).toBe(false);
  });

  it('leaves nothing but the socket in its directory', async () => {
    await serve();
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual(['test.sock']);
  });

  it('keeps a plain unix listener of someone else alive when it refuses', async () => {
    const other = createServer((s) => {
      s.on('error', () => {});
      s.end('hello\n');
    });
    await new Promise<void>((resolve) => other.listen(path, resolve));
    try {
      expect((await rejection(ControlServer.listen(path, stubHandler()))).code).toBe('EALREADYRUNNING');
      expect(lstatSync(path).isSocket()).toBe(true);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

describe('ControlServer.close', () => {
  it('lets a stop handler close the server and still delivers its answer; queued requests are refused', async () => {
    let server: ControlServer | undefined;
    let finishStop: () => void = () => {};
    server = await serve(
      stubHandler({
        stop: async () => {
          await server?.close();
          await new Promise<void>((resolve) => {
            finishStop = resolve;
          });
          return { stopped: true };
        },
      }),
    );
    const idle = await raw();
    const r = await raw();
    await waitFor('both connections to be accepted', () => server?.connectionCount === 2);
    r.write('{"id":1,"cmd":"stop"}\n{"id":2,"cmd":"ping"}\n');
    await waitFor('the socket file to go', () => !existsSync(path));
    // the idle connection is ended at once; the one with a stop in flight waits for its answer
    await idle.waitClosed();
    expect(r.closed).toBe(false);
    finishStop();
    const [stop, ping] = await r.responses(2);
    expect(stop).toEqual({ id: 1, ok: true, result: { stopped: true } });
    expect(ping).toMatchObject({ id: 2, ok: false, error: { code: 'ESHUTDOWN' } });
    await r.waitClosed();
    expect((await rejection(ControlClient.connect(path))).code).toBe('ENOTRUNNING');
  });
});

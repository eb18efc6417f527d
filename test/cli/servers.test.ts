// A server group whose server cannot listen (a port taken, a start that fails before its listen)
// has not started: a start says so and a reload keeps the workers that serve.
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_FIXTURES } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();
const SERVER = join(CLI_FIXTURES, 'server.mjs');

const held: net.Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A port this process listens on, so that nobody else can. */
async function takenPort(): Promise<number> {
  const server = net.createServer();
  held.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port free now: listened on and closed. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function fetchPid(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      res.on('end', () => resolve(Number(/^pid (\d+)/.exec(body)?.[1])));
    }).on('error', reject);
  });
}

function serverGroup(
  box: Sandbox,
  config: object,
): { env: Record<string, string>; write: (c: object) => void } {
  const file = join(box.dir, 'server.json');
  const write = (c: object) => writeFileSync(file, JSON.stringify(c));
  write(config);
  return { env: { SERVER_CONFIG: file }, write };
}

describe('a server that cannot listen', () => {
  it('a port already taken: the start fails with exit 1 naming EADDRINUSE, nothing keeps running', async () => {
    const box = openSandbox();
    const port = await takenPort();
    const { env } = serverGroup(box, { port });
    const result = await box.drover(['start', SERVER, '-w', '2', '-d', '--name', 'api'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("drover: 'api' did not start in the background");
    expect(result.stderr).toContain('EADDRINUSE');
    expect(await box.status()).toEqual([]);
  });

  it('a script that handles its listen error itself (once before listen, as Fastify) keeps it', async () => {
    const box = openSandbox();
    const fallback = await freePort();
    const { env } = serverGroup(box, { port: await takenPort(), fallbackPort: fallback });
    const started = await box.drover(['start', SERVER, '-d', '--name', 'api'], { env });
    expect(started.code, started.stderr).toBe(0);
    const pids = (await box.status())[0]!.workers.map((w) => w.pid);
    expect(pids).toContain(await fetchPid(fallback));
  });

  it('a reload onto a port already taken keeps the old workers serving, and fails with exit 1', async () => {
    const box = openSandbox();
    const port = await freePort();
    const { env, write } = serverGroup(box, { port });
    const started = await box.drover(['start', SERVER, '-w', '2', '-d', '--name', 'api'], { env });
    expect(started.code, started.stderr).toBe(0);
    const before = (await box.waitWorkers('api', 2)).workers.map((w) => w.pid);
    expect(before).toContain(await fetchPid(port));

    write({ port: await takenPort() });
    const reload = await box.drover(['reload', 'api'], { env });
    expect(reload.code).toBe(1);
    expect(reload.stderr).toContain('EADDRINUSE');
    const after = (await box.status())[0]!.workers.map((w) => w.pid);
    expect(after).toEqual(before);
    expect(before).toContain(await fetchPid(port));
  });
});

/** A config file with one group, `api`, running the server fixture. */
function configGroup(box: Sandbox, entry: object): void {
  writeFileSync(
    join(box.dir, 'drover.config.json'),
    JSON.stringify({ groups: [{ baseTitle: 'api', script: SERVER, maxWorkerNum: 2, ...entry }] }),
  );
}

/** Starts `api` from a config file entry; it must serve as soon as the start returns. */
async function startsServing(server: object, entry: object): Promise<void> {
  const box = openSandbox();
  const port = await freePort();
  const { env } = serverGroup(box, { port, ...server });
  configGroup(box, { ...entry, env });
  const started = await box.drover(['start', '-d']);
  expect(started.code, started.stderr).toBe(0);
  // ready means serving: no connection refused right after the start
  const pids = (await box.status())[0]!.workers.map((w) => w.pid);
  expect(pids).toContain(await fetchPid(port));
}

describe('readyWhen: a server that prepares before it listens', () => {
  it("'listening': the start returns once the servers listen, late as they are", async () => {
    await startsServing({ delayMs: 1500 }, { readyWhen: 'listening' });
  });

  it("'listening': a port probe that listened and closed is not the server: ready once the real one listens", async () => {
    await startsServing({ delayMs: 1500, probeFirst: true }, { readyWhen: 'listening' });
  });

  it("'listening': a reload whose new script fails before it listens keeps the old workers, exit 1", async () => {
    const box = openSandbox();
    const port = await freePort();
    const { env, write } = serverGroup(box, { port, delayMs: 100 });
    configGroup(box, {
      readyWhen: 'listening',
      env,
      restart: { initialDelayMs: 30_000, maxDelayMs: 30_000 },
    });
    expect((await box.drover(['start', '-d'])).code).toBe(0);
    const before = (await box.waitWorkers('api', 2)).workers.map((w) => w.pid);

    write({ port, delayMs: 100, failBeforeListen: true });
    const reload = await box.drover(['reload', 'api']);
    expect(reload.code).toBe(1);
    expect(reload.stderr).toContain('cannot reach the database');
    expect((await box.status())[0]!.workers.map((w) => w.pid)).toEqual(before);
    expect(before).toContain(await fetchPid(port));
  });

  it("'loaded' (the default) calls such a worker ready before it serves: the reload goes through", async () => {
    // what readyWhen is for, shown the other way round
    const box = openSandbox();
    const port = await freePort();
    const { env, write } = serverGroup(box, { port, delayMs: 100 });
    configGroup(box, { env, restart: { initialDelayMs: 30_000, maxDelayMs: 30_000 } });
    expect((await box.drover(['start', '-d'])).code).toBe(0);
    await box.waitWorkers('api', 2);
    write({ port, delayMs: 100, failBeforeListen: true });
    expect((await box.drover(['reload', 'api'])).code).toBe(0);
  });

  it("'message': ready once the script sends 'ready', as PM2's wait_ready", async () => {
    await startsServing({ delayMs: 1500, announce: true }, { readyWhen: 'message' });
  });

  it("'message': a reload whose new script never sends it keeps the old workers; the error says what it waited for", async () => {
    const box = openSandbox();
    const port = await freePort();
    const { env, write } = serverGroup(box, { port, announce: true });
    configGroup(box, { readyWhen: 'message', readyTimeout: 1000, env });
    expect((await box.drover(['start', '-d'])).code).toBe(0);
    const before = (await box.waitWorkers('api', 2)).workers.map((w) => w.pid);
    write({ port });
    const reload = await box.drover(['reload', 'api']);
    expect(reload.code).toBe(1);
    expect(reload.stderr).toContain("never called process.send('ready') (readyWhen: 'message')");
    expect((await box.status())[0]!.workers.map((w) => w.pid)).toEqual(before);
  });

  it("'message': a script that never sends it is not ready; readyTimeout names what it waited for", async () => {
    const box = openSandbox();
    const port = await freePort();
    const { env } = serverGroup(box, { port });
    configGroup(box, { readyWhen: 'message', readyTimeout: 1000, maxWorkerNum: 1, env });
    const started = await box.drover(['start', '-d']);
    expect(started.code).toBe(1);
    expect(started.stderr).toContain("never called process.send('ready') (readyWhen: 'message')");
  });
});

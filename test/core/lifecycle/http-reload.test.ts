import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, tempDir } from '../../support/group.js';
import { startLoad } from '../../support/load.js';
import { is, readyPids } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function get(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return res.text();
}

/** Two workers of the HTTP fixture on one free port, each answer `delayMs` late; started. */
async function startWebGroup(delayMs: number) {
  const port = await freePort();
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const group = startFixture('core/script-master.mjs', {
    env: {
      SCRIPT: new URL('../../fixtures/scripts/http-server.mjs', import.meta.url).pathname,
      GROUP_CONFIG: JSON.stringify({ runDir: dir, maxWorkerNum: 2, baseTitle: 'web' }),
      PORT: String(port),
      DELAY_MS: String(delayMs),
    },
  });
  cleanups.push(() => group.kill());
  await group.waitEvent(is('started'), 'started');
  return { port, group };
}

describe('a server group on one shared port', () => {
  it.each([
    ['keep-alive', true, 20],
    ['one connection per request', false, 20],
    // the answer leaves before any later 'request' listener runs: drover's must come first
    ['keep-alive, answered synchronously', true, 0],
  ])(
    'workers share the port; a SIGHUP reload under load (%s) fails and hangs no request',
    async (_, keepAlive, delayMs) => {
      const { port, group } = await startWebGroup(delayMs);
      const before = new Set(readyPids(group).values());
      expect(before.size).toBe(2);

      // both workers answer on the one port
      const seen = new Set<string>();
      for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await get(port));
      expect(seen).toEqual(new Set([...before].map(String)));

      const load = startLoad(`http://127.0.0.1:${port}/`, { connections: 8, keepAlive });
      await group.waitFor('load running', () => load.result.ok > 100);
      group.signal('SIGHUP');
      const reload = await group.waitEvent(is('reload'), 'reload done', 1, 20_000);
      const servedBefore = load.result.ok;
      await group.waitFor('load after reload', () => load.result.ok > servedBefore + 100);
      const result = await load.stop();

      expect(reload).toMatchObject({ replaced: 2, aborted: false });
      expect(result.errors).toEqual([]);
      expect(result.failed).toBe(0);
      expect(result.hung).toBe(0);
      expect(result.ok).toBe(result.sent);

      // new workers serve now
      const after = new Set(readyPids(group).values());
      for (const pid of after) expect(before.has(pid)).toBe(false);
      expect(before.has(Number(await get(port)))).toBe(false);
    },
    60_000,
  );

  it('ten reloads in a row under load, one connection per request: no request hangs in the master', async () => {
    // node:cluster hands a connection to a worker that is closing its server; the worker must
    // live to send it back, or the master holds it unanswered
    const { port, group } = await startWebGroup(1);
    const load = startLoad(`http://127.0.0.1:${port}/`, {
      connections: 8,
      keepAlive: false,
      timeoutMs: 3000,
    });
    await group.waitFor('load running', () => load.result.ok > 100);
    for (let n = 1; n <= 10; n++) {
      group.signal('SIGHUP');
      expect(await group.waitEvent(is('reload'), `reload ${n} done`, n, 20_000)).toMatchObject({
        replaced: 2,
        aborted: false,
      });
    }
    const servedBefore = load.result.ok;
    await group.waitFor('load after the reloads', () => load.result.ok > servedBefore + 100);
    const result = await load.stop();
    expect(result.hung).toBe(0);
    expect(result.failed).toBe(0);
    expect(result.ok).toBe(result.sent);
  }, 120_000);
});

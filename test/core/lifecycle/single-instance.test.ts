import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningGroup, startFixture, tempDir } from '../../support/group.js';
import { is, pidFile } from './helpers.js';
import { readPidFile } from '../../../packages/core/src/runtime/PidFile.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startIn(runDir: string, config: Record<string, unknown> = {}): RunningGroup {
  const group = startFixture('core/loop.mjs', {
    env: { GROUP_CONFIG: JSON.stringify({ runDir, maxWorkerNum: 1, ...config }) },
  });
  cleanups.push(() => group.kill());
  return group;
}

describe('single instance per baseTitle', () => {
  it('a second start fails at once and names the running pid; the first keeps running', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const first = startIn(dir);
    await first.waitEvent(is('started'), 'first started');
    const second = startIn(dir);
    const failed = await second.waitEvent(is('startFailed'), 'second refused');
    expect(failed.message).toBe(
      `drover: 'loop' is already running (pid ${first.pid}); stop it first (drover stop loop, or stop() on its Manage), or give the new group another name (--name, baseTitle)`,
    );
    expect(failed.code).toBe('EALREADYRUNNING');
    expect((await second.waitExit()).code).toBe(1);
    expect(second.count(is('workerStart'))).toBe(0);
    expect(first.alive).toBe(true);
    expect(existsSync(pidFile(dir))).toBe(true);
  });

  it('a SIGKILLed master leaves nothing that blocks the next start', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const first = startIn(dir);
    await first.waitEvent(is('started'), 'first started');
    await first.kill();
    // its pid file and socket are still there, stale
    expect(existsSync(pidFile(dir))).toBe(true);
    const next = startIn(dir);
    await next.waitEvent(is('started'), 'next started');
    expect(readPidFile(pidFile(dir))?.pid).toBe(next.pid);
  });

  it('20 simultaneous starts yield exactly one master', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const groups = Array.from({ length: 20 }, () => startIn(dir));
    await Promise.all(
      groups.map((g) =>
        g.waitFor(
          'started or refused',
          () => g.events.some((e) => e.event === 'started' || e.event === 'startFailed'),
          60_000,
        ),
      ),
    );
    const winners = groups.filter((g) => g.events.some((e) => e.event === 'started'));
    const losers = groups.filter((g) => g.events.some((e) => e.event === 'startFailed'));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const l of losers) expect(l.events.find(is('startFailed'))!.code).toBe('EALREADYRUNNING');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, waitAllDead } from '../support/group.js';
import { is, startGroup, type TestGroup, until, wholeGroup, workerPids } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track(g: TestGroup): TestGroup {
  cleanups.push(() => g.cleanup());
  return g;
}

interface Kill {
  pid: number;
  pin: number;
}

describe('chaos: workers SIGKILLed at random by another process', () => {
  it('4 workers, one killed every 200 ms for 5 s: every PIN comes back, each kill is one restart, no orphan', async () => {
    const name = 'rel-chaos';
    // a bounded backoff ceiling keeps the test short; the default (30 s) only waits longer
    const g = track(startGroup({ name, config: { maxWorkerNum: 4, restart: { maxDelayMs: 1000 } } }));
    await g.group.waitEvent(is('started'), 'started');

    const killer = startFixture('reliability/killer.mjs', {
      env: {
        MASTER_PID: String(g.group.pid),
        PREFIX: `drover:Worker:${name}:`,
        EVERY_MS: '200',
        FOR_MS: '5000',
      },
    });
    cleanups.push(() => killer.kill());
    const done = await killer.waitEvent(is('done'), 'the killer to finish', 1, 20_000);
    const kills = done.kills as Kill[];
    // about 25 ticks; a tick finds no victim only while every worker is down at once
    expect(kills.length).toBeGreaterThanOrEqual(15);
    expect(new Set(kills.map((k) => k.pin))).toEqual(new Set([0, 1, 2, 3]));
    await waitAllDead(
      kills.map((k) => k.pid),
      3000,
    );

    const status = await until(
      'every PIN to be ready again',
      async () => wholeGroup(await g.status(), name, 4),
      20_000,
    );
    expect(g.group.alive).toBe(true);
    for (const kill of kills) {
      const exit = g.group.events.find(is('workerExit', (e) => e.pid === kill.pid));
      expect(exit, `exit of killed pid ${kill.pid}`).toMatchObject({
        pin: kill.pin,
        signal: 'SIGKILL',
        reason: 'crash',
      });
    }
    // every kill cost its PIN exactly one respawn, no more, no less
    for (const w of status.workers) {
      expect(w.restarts, `restarts of PIN ${w.pin}`).toBe(kills.filter((k) => k.pin === w.pin).length);
    }

    // and the group still stops cleanly, leaving nothing behind
    g.group.signal('SIGTERM');
    expect(await g.group.waitExit(20_000)).toEqual({ code: 0, signal: null });
    await waitAllDead(workerPids(g.group), 3000);
  }, 60_000);
});

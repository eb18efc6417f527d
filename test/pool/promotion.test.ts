// docs/pool.md, "Workers, permanent and temporary": a temporary worker on a PIN that a scale up
// makes permanent is promoted, not replaced.
import { Manage } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('a scale up over a temporary worker', () => {
  it('promotes it: kind permanent in status, the same process, no new one for its PIN', async () => {
    current = startPool({ minWorkers: 1, maxWorkers: 2, idleTimeout: 60_000, scaleInterval: 50 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    // PIN 0 takes one task; the other waits, so the autoscaler starts a temporary worker on PIN 1
    for (const x of [1, 2]) group.command('submit', { payload: { x, sleepMs: 3000 } });
    const temporary = await group.waitEvent(
      is('workerReady', (e) => e.pin === 1),
      'a worker on PIN 1',
    );
    const before = await group.status();
    expect(before.workers.map((w) => [w.pin, w.kind])).toEqual([
      [0, 'permanent'],
      [1, 'temporary'],
    ]);
    expect(before.pool).toMatchObject({ permanent: 1, temporary: 1 });

    expect(await new Manage({ baseTitle: 'pool', runDir }).scale(2)).toMatchObject({
      from: 1,
      to: 2,
      killed: 0,
    });

    const after = await group.status();
    expect(after.workers.map((w) => [w.pin, w.pid, w.kind])).toEqual([
      [0, before.workers[0]?.pid, 'permanent'],
      [1, temporary.pid, 'permanent'],
    ]);
    expect(after.pool).toMatchObject({ permanent: 2, temporary: 0 });
    expect(group.count(is('workerStart', (e) => e.pin === 1))).toBe(1);
    expect(group.count(is('workerStop'))).toBe(0);
  });
});

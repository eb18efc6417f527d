// A reload that meets the autoscaler: a temporary PIN that falls idle while its successor starts
// leaves, and the reload goes on without an error (nothing failed, no old worker was kept).
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('reload and idle temporary workers', () => {
  it('a temporary PIN retired while its successor starts: the reload completes, with no error logged', async () => {
    // a temporary worker takes 6 s to start: its reload successor is still starting when the
    // worker it replaces has been idle for idleTimeout
    current = startPool(
      { minWorkers: 1, maxWorkers: 2, concurrencyPerWorker: 1, idleTimeout: 2500, scaleInterval: 50 },
      { POOL_TEMP_INIT_MS: '6000' },
    );
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const refs = [0, 1, 2].map((x) => group.command('submit', { payload: { x, sleepMs: 1500 } }));
    // the backlog starts a temporary worker; its idle time counts from when it is ready
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 1),
      'the temporary worker',
      1,
      30_000,
    );
    const reload = group.command('reload');
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.pin === 1 && e.reason === 'idle'),
      'the temporary PIN to leave while its successor starts',
      1,
      30_000,
    );
    expect(exit.signal).toBeNull();
    expect((await group.answer(reload, 30_000)).result).toMatchObject({ aborted: false });
    expect(group.output).toMatch(/reload of worker 1 ended: the PIN left meanwhile/);
    expect(group.output).not.toMatch(/aborted, old worker kept/);
    for (const ref of refs) expect((await group.answer(ref, 30_000)).event).toBe('result');
  }, 90_000);
});

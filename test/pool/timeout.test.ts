import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool, startPoolScript } from './helpers.js';

const LOAD_POOL = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/load-pool.mjs');

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('task timeout', () => {
  it('aborts the attempt’s signal; a handler that stops fails that attempt and the task is retried; the worker stays', async () => {
    current = startPool({ minWorkers: 1, taskTimeout: 300, backoff: 20 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const answer = await group.submit({ x: 4, sleepMs: 5000, sleepAttempts: 1, honourAbort: true });
    expect(answer.value).toMatchObject({ doubled: 8, attempt: 2 });
    const [retry] = group.events.filter(is('taskRetry'));
    expect(retry).toMatchObject({ attempt: 1, error: { code: 'ETASKTIMEOUT' } });
    expect((retry!.error as { message: string }).message).toMatch(
      /attempt 1 ran past taskTimeout \(300 ms\)/,
    );
    // both attempts ran on the same worker: nothing was recycled
    const pids = new Set(group.events.filter(is('taskStart')).map((e) => e.pid));
    expect(pids.size).toBe(1);
    expect(group.count(is('workerExit'))).toBe(0);
  });

  it.each([
    ['blocked in synchronous code', { block: 1 }],
    ['awaiting forever and ignoring its signal', { hang: 1 }],
  ])(
    'a worker stuck in a task (%s) is recycled and the task runs again on its successor',
    async (_, behaviour) => {
      current = startPool({
        minWorkers: 1,
        taskTimeout: 300,
        taskTimeoutGrace: 300,
        stopTimeout: 1000,
        backoff: 20,
      });
      const { group } = current;
      await group.waitEvent(is('started'), 'started');
      const stuckPid = group.events.find(is('workerReady'))!.pid;
      const answer = await group.submit({ x: 6, ...behaviour }, {}, 20_000);
      expect(answer.value).toMatchObject({ doubled: 12, attempt: 2 });
      expect((answer.value as { pid: number }).pid).not.toBe(stuckPid);
      expect(group.events.find(is('taskRetry'))).toMatchObject({
        attempt: 1,
        pid: stuckPid,
        error: { code: 'ETASKSTUCK' },
      });
      const exit = await group.waitEvent(
        is('workerExit', (e) => e.pid === stuckPid),
        'the stuck worker exits',
      );
      // it could not finish its task: killed after stopTimeout
      expect(exit).toMatchObject({ reason: 'recycle', signal: 'SIGKILL' });
    },
  );

  it('a large result still crossing to the master is not a stuck task: its worker stays, the result arrives', async () => {
    // 250 MB takes more than a second to serialise, cross the channel and parse
    current = startPool({ minWorkers: 1, taskTimeout: 1_000, taskTimeoutGrace: 0, maxAttempts: 1 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const answer = await group.submit({ x: 1, padResult: 250_000_000 }, {}, 60_000);
    // before: ETASKFAILED (ETASKSTUCK) and a healthy worker recycled, the result dropped
    expect(answer).toMatchObject({ event: 'result', value: { x: 1, attempt: 1, pad: 250_000_000 } });
    expect(group.count(is('workerExit'))).toBe(0);
    expect(group.output).not.toContain('did not settle after taskTimeout');
  }, 90_000);

  it('a stall of the master’s own event loop longer than taskTimeout + grace fails no attempt its workers answered meanwhile; a stuck one is still found', async () => {
    current = startPoolScript(LOAD_POOL, {
      minWorkers: 2,
      concurrencyPerWorker: 4,
      taskTimeout: 300,
      taskTimeoutGrace: 300,
      maxAttempts: 1,
      stopTimeout: 1000,
    });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    await group.waitEvent(is('workerReady'), 'both workers ready', 2);
    // 7 tasks of 50 ms are sent; then the master blocks its loop for 1.5 s in synchronous code,
    // from each phase of its event loop in turn, while the workers answer the 7; the last time, a
    // task that never settles is sent with them
    for (const phase of ['check', 'timers', 'poll']) {
      const hang = phase === 'poll' ? 1 : 0;
      const stall = await group.answer(
        group.command('stall', { n: 7, sleepMs: 50, hang, blockMs: 1500, phase }),
        30_000,
      );
      expect(stall.blockedMs as number).toBeGreaterThanOrEqual(1500);
      // before: from the check phase, all 7 failed as ETASKSTUCK and both workers were recycled
      expect({ phase, ...stall }).toMatchObject({ phase, ok: 7, failed: [] });
      if (!hang) expect(group.count(is('workerStop'))).toBe(0);
    }
    const hung = await group.waitEvent(is('hungFailed'), 'the task that never settles fails');
    expect(hung).toMatchObject({ code: 'ETASKFAILED', lastCode: 'ETASKSTUCK' });
    const fails = group.events.filter(is('taskFail'));
    expect(fails).toHaveLength(1);
    // only the worker of the stuck task is recycled
    const exit = await group.waitEvent(is('workerExit'), 'the stuck worker is recycled');
    expect(exit).toMatchObject({ reason: 'recycle' });
    expect(group.output.match(/did not settle after taskTimeout: recycling its worker/g)).toHaveLength(1);
    expect(group.count(is('workerExit'))).toBe(1);
  }, 60_000);

  it('a master whose loop lags on every turn (busy, not stalled) still finds a stuck task while it lags, and fails none of the others', async () => {
    current = startPoolScript(LOAD_POOL, {
      minWorkers: 2,
      concurrencyPerWorker: 2,
      taskTimeout: 1000,
      taskTimeoutGrace: 500,
      maxAttempts: 1,
      stopTimeout: 1000,
    });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    await group.waitEvent(is('workerReady'), 'both workers ready', 2);
    // Each turn of the master's loop takes 300 ms: more than the stuck clock's 250 ms allowance,
    // much less than taskTimeout. The lag lasts until the task that never settles fails, or 20 s.
    const lag = await group.answer(
      group.command('lag', { blockMs: 300, sleepMs: 20, maxMs: 20_000 }),
      60_000,
    );
    // before: every look was put off and all the time forgiven: the task failed only once the lag
    // had ended, 20 s later
    expect(lag).toMatchObject({
      foundWhileLagging: true,
      hung: { code: 'ETASKFAILED', lastCode: 'ETASKSTUCK' },
      failed: [],
    });
    expect(lag.ok as number).toBeGreaterThan(0);
    const exit = await group.waitEvent(is('workerExit'), 'the stuck worker is recycled');
    expect(exit).toMatchObject({ reason: 'recycle' });
    expect(group.count(is('taskFail'))).toBe(1);
  }, 90_000);
});

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool, startPoolScript } from './helpers.js';

const LOAD_POOL = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/load-pool.mjs');

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('autoscaling', () => {
  it('a backlog starts temporary workers up to maxWorkers; idle for idleTimeout, they exit; the permanent one stays', async () => {
    current = startPool({ minWorkers: 1, maxWorkers: 3, idleTimeout: 1000, scaleInterval: 100 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const permanentPid = group.events.find(is('workerReady'))!.pid;
    const refs = Array.from({ length: 12 }, (_, x) =>
      group.command('submit', { payload: { x, sleepMs: 300 } }),
    );

    await group.waitEvent(is('scaleUp'), 'scale up');
    await group.waitEvent(
      is('taskStart', (e) => e.kind === 'temporary'),
      'a task on a temporary worker',
    );
    const during = await group.status();
    expect(during.workers.map((w) => w.kind)).toEqual(['permanent', 'temporary', 'temporary']);
    expect(during.pool).toMatchObject({ permanent: 1, temporary: 2 });
    // from another process, through the control socket: the kinds, without the master-only figures
    const remote = await new Pool({ baseTitle: 'pool', runDir: current.runDir }).status();
    expect(remote.workers.map((w) => w.kind)).toEqual(['permanent', 'temporary', 'temporary']);
    expect(remote.pool).toBeUndefined();

    for (const ref of refs) expect((await group.answer(ref)).event).toBe('result');
    const kinds = new Set(group.events.filter(is('taskStart')).map((e) => e.kind));
    expect(kinds).toEqual(new Set(['permanent', 'temporary']));
    // never more than maxWorkers
    expect(group.count(is('workerStart'))).toBe(3);

    // the two temporary workers go idle and leave with reason 'idle'
    await group.waitEvent(
      is('workerExit', (e) => e.reason === 'idle'),
      'idle exits',
      2,
    );
    const exits = group.events.filter(is('workerExit'));
    expect(exits.every((e) => e.reason === 'idle' && e.pid !== permanentPid)).toBe(true);
    const after = await group.status();
    expect(after.workers).toEqual([
      expect.objectContaining({ pin: 0, pid: permanentPid, kind: 'permanent' }),
    ]);
    expect(after.pool).toMatchObject({ permanent: 1, temporary: 0 });

    // a new backlog brings temporary workers back
    const more = Array.from({ length: 8 }, (_, x) =>
      group.command('submit', { payload: { x, sleepMs: 300 } }),
    );
    await group.waitEvent(is('scaleUp'), 'second scale up', 2);
    for (const ref of more) expect((await group.answer(ref)).event).toBe('result');
  });

  it('with minWorkers 0, workers start only for tasks and all leave when idle', async () => {
    current = startPool({ minWorkers: 0, maxWorkers: 2, idleTimeout: 500, scaleInterval: 100 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    expect(group.count(is('workerStart'))).toBe(0);
    const answer = await group.submit({ x: 3 });
    expect(answer.value).toMatchObject({ doubled: 6, kind: 'temporary' });
    await group.waitEvent(
      is('workerExit', (e) => e.reason === 'idle'),
      'idle exit',
    );
    expect((await group.status()).workers).toEqual([]);
  });

  it('a temporary worker that is busy is never stopped for idleness', async () => {
    current = startPool({ minWorkers: 1, maxWorkers: 2, idleTimeout: 300, scaleInterval: 50 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    // two long tasks: one runs on the temporary worker for much longer than idleTimeout
    const refs = [0, 1].map((x) => group.command('submit', { payload: { x, sleepMs: 1500 } }));
    for (const ref of refs) expect((await group.answer(ref)).event).toBe('result');
    const temporary = group.events.find(is('taskStart', (e) => e.kind === 'temporary'));
    expect(temporary).toBeDefined();
    const exit = await group.waitEvent(is('workerExit'), 'the temporary worker leaves afterwards');
    expect(exit).toMatchObject({ pid: temporary!.pid, reason: 'idle' });
    // it was asked to stop only after its task was done, not while the task ran
    const stop = group.events.find(is('workerStop', (e) => e.pid === temporary!.pid))!;
    const done = group.events.find(is('taskDone', (e) => e.taskId === temporary!.taskId))!;
    expect(stop.reason).toBe('idle');
    expect(stop.t as number).toBeGreaterThanOrEqual(done.t as number);
  });

  it('with concurrencyPerWorker > 1, temporary workers leave under a light steady load that the permanent worker holds, and none starts again', async () => {
    current = startPoolScript(LOAD_POOL, {
      minWorkers: 1,
      maxWorkers: 3,
      concurrencyPerWorker: 4,
      idleTimeout: 1500,
      scaleInterval: 100,
    });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    // a light steady load (3 tasks in flight, one worker's window is 4), and a burst that needs all 3
    await group.answer(group.command('steady', { inFlight: 3, sleepMs: 50 }));
    const burst = group.command('burst', { n: 40, sleepMs: 300 });
    await group.waitEvent(
      is('workerReady', (e) => e.kind === 'temporary'),
      'both temporary workers ready',
      2,
    );
    expect((await group.answer(burst, 30_000)).ok).toBe(40);
    // Least-loaded dispatch spreads the 3 tasks over the 3 workers, so neither temporary worker is
    // ever idle; they leave anyway, as the load's peak fits in the permanent worker's window.
    // Before: they stayed as long as the steady load lasted.
    const exits = await group.waitEvent(
      is('workerExit', (e) => e.kind === 'temporary'),
      'both temporary workers leave while the steady load goes on',
      2,
      30_000,
    );
    expect(exits.reason).toBe('idle');
    const left = group.events.filter(is('workerExit'));
    expect(left.map((e) => e.reason)).toEqual(['idle', 'idle']);
    expect(left.map((e) => e.pin).sort()).toEqual([1, 2]);
    const startsBefore = group.count(is('workerStart'));
    // the steady load goes on with the permanent worker alone: no temporary worker starts again
    await group.answer(group.command('steadyProgress', { tasks: 100 }), 30_000);
    const status = await group.status();
    expect(status.pool).toMatchObject({ permanent: 1, temporary: 0 });
    const stopped = await group.answer(group.command('stopSteady'));
    // the retired workers finished what they ran: every task succeeded on its first attempt
    expect(stopped).toMatchObject({ failed: [] });
    expect(stopped.ok as number).toBeGreaterThan(0);
    expect(group.count(is('taskRetry'))).toBe(0);
    expect(group.count(is('workerStart'))).toBe(startsBefore);
    expect(group.count(is('scaleUp'))).toBe(1);
  }, 60_000);
});

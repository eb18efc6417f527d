import { Manage, Pool } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { within } from '../queue/contract.js';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('pool bounds: stop time, maxWorkers, who can submit', () => {
  it('a stop takes one stopTimeout in all, and reports no retry for a task it gave up', async () => {
    const stopTimeout = 4_000;
    current = startPool({ minWorkers: 1, stopTimeout });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const ref = group.command('submit', { payload: { x: 1, sleepMs: 120_000 } });
    await group.waitEvent(is('taskStart'), 'the task running');
    const stopAt = Date.now();
    group.command('stop');
    expect(await group.waitExit(30_000)).toEqual({ code: 0, signal: null });
    // two stopTimeouts (8 s) before: the queue's, then the workers'
    expect(Date.now() - stopAt).toBeLessThan(stopTimeout + 3_000);
    expect((await group.answer(ref)).code).toBe('ECLOSED');
    expect(group.events_('taskRetry')).toEqual([]);
  }, 40_000);

  it('a task the stop gave up on while it ran gets its own ECLOSED: named, running, may have partly run', async () => {
    current = startPool({ minWorkers: 1, stopTimeout: 1_000 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const running = group.command('submit', { payload: { x: 1, hang: 1 }, opts: { id: 'hangs' } });
    await group.waitEvent(is('taskStart'), 'the task running');
    const queued = group.command('submit', { payload: { x: 2 }, opts: { id: 'waits' } });
    group.command('stop');
    const [ran, waited] = [await group.answer(running, 20_000), await group.answer(queued, 20_000)];
    // before: both "the memory queue 'pool' is closed; a stopped pool ... takes no more tasks"
    expect(ran.code).toBe('ECLOSED');
    expect(ran.message).toBe(
      "drover: task 'hangs' was running (attempt 1) when the memory queue 'pool' closed: the stop gave up on it before it finished (a pool kills the worker still running it at stopTimeout), so it may have partly run; the in-memory queue keeps nothing once its pool stops: check what the task did before you submit it again; a longer stopTimeout lets running tasks finish",
    );
    expect(waited.code).toBe('ECLOSED');
    expect(waited.message).toContain('takes no more tasks');
    expect(await group.waitExit(20_000)).toEqual({ code: 0, signal: null });
  }, 40_000);

  it('SIGTTIN stops at maxWorkers with a warning naming it; scale() past it is refused', async () => {
    current = startPool({ minWorkers: 1, maxWorkers: 2, idleTimeout: 60_000 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGTTIN');
    await group.waitEvent(is('workerReady'), 'a second worker', 2);
    for (let i = 0; i < 3; i++) {
      group.signal('SIGTTIN');
      await group.waitFor(
        'the maxWorkers warning',
        () => group.output.split('stays at maxWorkers (2)').length > i + 1,
      );
    }
    const status = await group.status();
    expect(status.pool).toMatchObject({ permanent: 2, maxWorkers: 2 });
    expect(status.workers).toHaveLength(2);
    const manage = new Manage({ baseTitle: 'pool', runDir });
    await expect(manage.scale(5)).rejects.toThrow(
      /cannot scale pool 'pool' to 5 workers: its maxWorkers is 2/,
    );
    expect(group.count(is('workerStart'))).toBe(2);
  }, 60_000);

  it('a process that neither runs nor started an in-memory pool gets ENOTMASTER from submit, stats and deadLetters at once', async () => {
    const pool = new Pool({ baseTitle: 'elsewhere' });
    const outcome = await within(
      pool.submit(1).catch((error: unknown) => error),
      5_000,
      'the submit to settle',
    );
    expect(outcome).toMatchObject({ code: 'ENOTMASTER' });
    expect((outcome as Error).message).toMatch(/from a process that did not start it/);
    expect((outcome as Error).message).toMatch(/use a shared queue \(bullmqBackend\)/);
    await expect(pool.submitBulk([1])).rejects.toMatchObject({ code: 'ENOTMASTER' });
    // before: an empty, healthy queue of this process's own ({ ready: 0, ..., dead: 0 } and [])
    await expect(pool.stats()).rejects.toMatchObject({
      code: 'ENOTMASTER',
      message: expect.stringMatching(
        /^drover: stats\(\) of pool 'elsewhere' from a process that did not start it: its in-memory queue lives in the master.*use a shared queue \(bullmqBackend\) to read from any process$/,
      ),
    });
    await expect(pool.deadLetters()).rejects.toMatchObject({
      code: 'ENOTMASTER',
      message: expect.stringContaining(
        "drover: deadLetters() of pool 'elsewhere' from a process that did not start it",
      ),
    });
  });

  it('a worker retiring with its task still running counts against maxWorkers: processes never exceed it', async () => {
    current = startPool({ minWorkers: 2, maxWorkers: 3, idleTimeout: 60_000, scaleInterval: 50 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    // both permanent workers busy for 3 s, then PIN 1 is scaled away: it drains its task
    const long = [0, 1].map((x) => group.command('submit', { payload: { x, sleepMs: 3000 } }));
    await group.waitEvent(is('taskStart'), 'both long tasks running', 2);
    // (the scale answers once PIN 1 has exited)
    const scaled = new Manage({ baseTitle: 'pool', runDir }).scale(1);
    const retiring = await group.waitEvent(
      is('workerStop', (e) => e.pin === 1),
      'PIN 1 asked to stop',
    );
    // a backlog while it drains: room for one temporary worker, not two
    const more = Array.from({ length: 6 }, (_, x) =>
      group.command('submit', { payload: { x: 10 + x, sleepMs: 200 } }),
    );
    await group.waitEvent(is('scaleUp'), 'a scale up');
    // the backlog was met while PIN 1 still drained
    expect(group.count(is('workerExit', (e) => e.pid === retiring.pid))).toBe(0);
    expect(await scaled).toMatchObject({ from: 2, to: 1 });
    for (const ref of [...long, ...more]) expect((await group.answer(ref)).event).toBe('result');
    // the most processes alive at once, from the start and exit events in order
    let alive = 0;
    let most = 0;
    for (const e of group.events) {
      if (e.event === 'workerStart') most = Math.max(most, ++alive);
      if (e.event === 'workerExit') alive--;
    }
    expect(most).toBe(3);
  }, 40_000);

  it('a retired temporary worker leaves status with its process, not as a pid-less starting worker', async () => {
    current = startPool({ minWorkers: 1, maxWorkers: 3, idleTimeout: 300, scaleInterval: 50 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    for (let x = 0; x < 9; x++) group.command('submit', { payload: { x, sleepMs: 300 } });
    await group.waitEvent(is('workerReady'), 'temporary workers ready', 3);
    const seen: string[] = [];
    const deadline = Date.now() + 20_000;
    while (group.count(is('workerExit')) < 2 && Date.now() < deadline) {
      const status = await group.status();
      for (const w of status.workers)
        if (w.kind === 'temporary' && w.pid === null) seen.push(`${w.pin}:${w.state}`);
    }
    for (let i = 0; i < 20; i++) {
      const status = await group.status();
      for (const w of status.workers)
        if (w.kind === 'temporary' && w.pid === null) seen.push(`${w.pin}:${w.state}`);
    }
    expect(group.count(is('workerExit'))).toBe(2);
    expect(seen).toEqual([]);
  }, 40_000);
});

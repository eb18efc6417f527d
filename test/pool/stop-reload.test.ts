import { afterEach, describe, expect, it } from 'vitest';
import type { FixtureEvent } from '../support/group.js';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

const resultOf = (events: FixtureEvent[], ref: number) => events.find((e) => e.ref === ref);

describe('graceful stop and reload', () => {
  it('stop: running tasks finish and their results arrive; no new task starts; queued ones are refused, not lost', async () => {
    current = startPool({ minWorkers: 2, concurrencyPerWorker: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const refs = Array.from({ length: 8 }, (_, x) =>
      group.command('submit', { payload: { x, sleepMs: 800 } }),
    );
    await group.waitEvent(is('taskStart'), 'four running', 4);
    const running = new Set(group.events.filter(is('taskStart')).map((e) => e.taskId));
    group.command('stop');
    await group.waitEvent(is('stopped'), 'stopped');
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    const stoppedAt = group.events.find(is('stopped'))!.t as number;
    expect(group.count(is('taskStart'))).toBe(4);
    let finished = 0;
    for (const ref of refs) {
      const answer = resultOf(group.events, ref);
      expect(answer).toBeDefined();
      if (answer!.event === 'result') {
        finished++;
        expect(running.has((answer!.value as { taskId: string }).taskId)).toBe(true);
        expect(answer!.t as number).toBeLessThanOrEqual(stoppedAt);
      } else {
        expect(answer).toMatchObject({ event: 'rejected', code: 'ECLOSED' });
      }
    }
    expect(finished).toBe(4);
    expect(group.events.filter(is('workerExit')).every((e) => e.reason === 'stop' && e.signal === null)).toBe(
      true,
    );
  });

  it('SIGTERM to the master: the same graceful stop, exit code 0', async () => {
    current = startPool({ minWorkers: 1, concurrencyPerWorker: 3 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const refs = Array.from({ length: 3 }, (_, x) =>
      group.command('submit', { payload: { x, sleepMs: 700 } }),
    );
    await group.waitEvent(is('taskStart'), 'three running', 3);
    group.signal('SIGTERM');
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    for (const ref of refs) expect(resultOf(group.events, ref)).toMatchObject({ event: 'result' });
  });

  it('reload: every worker is replaced; tasks running on an old worker finish there; none fails or is lost', async () => {
    current = startPool({ minWorkers: 2, concurrencyPerWorker: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const oldPids = new Set(group.events.filter(is('workerReady')).map((e) => e.pid));
    const refs = Array.from({ length: 16 }, (_, x) =>
      group.command('submit', { payload: { x, sleepMs: 400 } }),
    );
    await group.waitEvent(is('taskStart'), 'four running', 4);
    const startedOnOld = group.events.filter(is('taskStart')).map((e) => [e.taskId, e.pid]);
    const reload = group.command('reload');
    expect((await group.answer(reload)).result).toMatchObject({ replaced: 2, aborted: false });
    for (const ref of refs) {
      const answer = await group.answer(ref);
      expect(answer.event).toBe('result');
      expect((answer.value as { attempt: number }).attempt).toBe(1);
    }
    for (const [taskId, pid] of startedOnOld) {
      const done = group.events.find(is('taskDone', (e) => e.taskId === taskId));
      expect(done?.pid).toBe(pid);
    }
    const exits = group.events.filter(is('workerExit'));
    expect(exits).toHaveLength(2);
    expect(exits.every((e) => oldPids.has(e.pid) && e.reason === 'reload' && e.signal === null)).toBe(true);
    // the new workers took tasks too
    expect(group.events.some(is('taskStart', (e) => !oldPids.has(e.pid)))).toBe(true);
    expect(group.count(is('taskRetry'))).toBe(0);
  });
});

describe('recycling', () => {
  it('executeTimes counts tasks: a worker that ran its share is replaced, its last tasks finish, none is lost', async () => {
    current = startPool({ minWorkers: 1, concurrencyPerWorker: 2, executeTimes: 5, recycleJitter: 0 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const first = group.events.find(is('workerReady'))!.pid;
    const refs = Array.from({ length: 14 }, (_, x) =>
      group.command('submit', { payload: { x, sleepMs: 50 } }),
    );
    for (const ref of refs) expect((await group.answer(ref)).event).toBe('result');
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.pid === first),
      'the first worker recycled',
    );
    expect(exit).toMatchObject({ reason: 'recycle', signal: null });
    expect(group.count(is('taskRetry'))).toBe(0);
    // after its fifth task a worker takes nothing new: at most the one still running with it
    // finishes, so 14 tasks need at least three workers
    const perWorker = new Map<unknown, number>();
    for (const e of group.events.filter(is('taskDone')))
      perWorker.set(e.pid, (perWorker.get(e.pid) ?? 0) + 1);
    expect(perWorker.size).toBeGreaterThanOrEqual(3);
    for (const n of perWorker.values()) expect(n).toBeLessThanOrEqual(6);
  });
});

describe('back-pressure', () => {
  it("maxQueued with whenFull 'reject': a submit beyond the bound is refused with EQUEUEFULL", async () => {
    current = startPool({ minWorkers: 1, maxQueued: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const first = group.command('submit', { payload: { x: 0, sleepMs: 1500 } });
    await group.waitEvent(is('taskStart'), 'first running');
    const queued = [1, 2].map((x) => group.command('submit', { payload: { x } }));
    // both are in the queue (the worker is busy) before the next submit
    const deadline = Date.now() + 10_000;
    while (((await group.status()).pool.queue as { ready: number }).ready < 2)
      if (Date.now() > deadline) throw new Error('the two tasks never showed in the queue');
    const refused = await group.submit({ x: 3 });
    expect(refused).toMatchObject({ event: 'rejected', code: 'EQUEUEFULL' });
    expect(refused.message).toMatch(
      /queue 'pool' is full: 2 task\(s\) waiting, 1 more would pass maxQueued 2/,
    );
    for (const ref of [first, ...queued]) expect((await group.answer(ref)).event).toBe('result');
  });

  it("maxQueued with whenFull 'wait': a submit beyond the bound waits for room, then runs", async () => {
    current = startPool({ minWorkers: 1, maxQueued: 1, whenFull: 'wait' });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const first = group.command('submit', { payload: { x: 0, sleepMs: 800 } });
    await group.waitEvent(is('taskStart'), 'first running');
    const second = group.command('submit', { payload: { x: 1, sleepMs: 800 } });
    const third = group.command('submit', { payload: { x: 2 } });
    const answers = [await group.answer(first), await group.answer(second), await group.answer(third)];
    expect(answers.map((a) => a.event)).toEqual(['result', 'result', 'result']);
    // the third could enter the queue only when the second left it: it started after the first finished
    const start3 = group.events.find(is('taskStart', (e) => e.taskId === '3'))!.t as number;
    const done1 = group.events.find(is('taskDone', (e) => e.taskId === '1'))!.t as number;
    expect(start3).toBeGreaterThanOrEqual(done1);
    expect(group.count(is('rejected'))).toBe(0);
  });
});

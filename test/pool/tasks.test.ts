import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('pool tasks', () => {
  it('results come back to each submitter, computed in the workers with their init resources', async () => {
    current = startPool({ minWorkers: 2, concurrencyPerWorker: 1 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const refs = Array.from({ length: 8 }, (_, x) => ({
      x,
      ref: group.command('submit', { payload: { x, sleepMs: 50 } }),
    }));
    const workerPids = new Set(group.events.filter(is('workerReady')).map((e) => e.pid));
    for (const { x, ref } of refs) {
      const answer = await group.answer(ref);
      expect(answer.event).toBe('result');
      const value = answer.value as Record<string, unknown>;
      expect(value).toMatchObject({ x, doubled: 2 * x, attempt: 1, resources: true, kind: 'permanent' });
      expect(workerPids.has(value.pid)).toBe(true);
    }
    // one task per worker at a time: both workers took some
    const pids = new Set(group.events.filter(is('taskStart')).map((e) => e.pid));
    expect(pids.size).toBe(2);
  });

  it("a worker recycled after each task (executeTimes 1) delivers its last task's large result before it exits", async () => {
    current = startPool({ minWorkers: 2, maxWorkers: 2, executeTimes: 1, recycleJitter: 0, maxAttempts: 3 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const refs = Array.from({ length: 6 }, (_, x) =>
      group.command('submit', { payload: { x, padResult: 500_000 } }),
    );
    for (const [x, ref] of refs.entries()) {
      const answer = await group.answer(ref, 60_000);
      expect(answer.event, JSON.stringify(answer)).toBe('result');
      // the first attempt's result, whole: not lost with the recycled worker and run again
      expect(answer.value).toEqual({ x, attempt: 1, pad: 500_000 });
    }
    expect(group.events.filter(is('taskRetry'))).toEqual([]);
  }, 90_000);

  it('a taskDone listener that throws is logged; every submitter still gets its result', async () => {
    current = startPool({ minWorkers: 1 }, { POOL_LISTENER_THROWS: 'taskDone' });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const refs = [1, 2, 3].map((x) => group.command('submit', { payload: { x } }));
    for (const [i, ref] of refs.entries()) {
      expect(await group.answer(ref)).toMatchObject({ event: 'result', value: { doubled: 2 * (i + 1) } });
    }
    await group.waitFor('the throw logged', () =>
      group.output.includes("a 'taskDone' listener threw; the pool goes on"),
    );
  });

  it('a worker that exits by itself, even with 0, is lost, not finished: its task runs again on a worker in its place', async () => {
    current = startPool({ minWorkers: 1, backoff: 0 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const [first] = group.events.filter(is('workerReady')).map((e) => e.pid);
    const answer = await group.submit({ x: 3, exitZero: 1 });
    expect(answer.value).toMatchObject({ doubled: 6, attempt: 2 });
    expect((answer.value as { pid: number }).pid).not.toBe(first);
    expect(group.events.find(is('workerExit', (e) => e.pid === first))).toMatchObject({
      code: 0,
      reason: 'crash',
    });
  });

  it('the bulk form enqueues all at once and resolves with every result in order', async () => {
    current = startPool({ minWorkers: 2, concurrencyPerWorker: 16 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const payloads = Array.from({ length: 500 }, (_, x) => ({ x }));
    const answer = await group.answer(group.command('bulk', { payloads }));
    expect(answer.event).toBe('bulkResult');
    const values = answer.values as Array<Record<string, unknown>>;
    expect(values).toHaveLength(500);
    values.forEach((v, x) => {
      expect(v).toMatchObject({ x, doubled: 2 * x });
    });
    // a window of 16 per worker: tasks travelled many per message, and both workers ran some
    expect(new Set(values.map((v) => v.pid)).size).toBe(2);
  });

  it('bulk in chunks: one queue task per chunk, each item runs with its own id, results in order', async () => {
    current = startPool({ minWorkers: 2, concurrencyPerWorker: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const payloads = Array.from({ length: 95 }, (_, x) => ({ x }));
    const answer = await group.answer(group.command('bulk', { payloads, opts: { chunkSize: 10 } }));
    const values = answer.values as Array<Record<string, unknown>>;
    expect(values).toHaveLength(95);
    values.forEach((v, x) => {
      expect(v).toMatchObject({ x, doubled: 2 * x, attempt: 1 });
      // item ids: <chunk task id>.<index in the chunk>
      expect(v.taskId).toBe(`${Math.floor(x / 10) + 1}.${x % 10}`);
    });
    expect(group.count(is('taskStart'))).toBe(10);
  });

  it('a chunk with a failing item runs again as a whole; after the last attempt each item is reported', async () => {
    current = startPool({ minWorkers: 1, maxAttempts: 2, backoff: 20 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const payloads = [{ x: 0 }, { x: 1, failTimes: 99 }, { x: 2 }];
    const answer = await group.answer(group.command('bulk', { payloads, opts: { chunkSize: 3 } }));
    expect(answer).toMatchObject({ event: 'rejected', code: 'ETASKFAILED' });
    expect(group.events.filter(is('taskStart')).map((e) => e.attempt)).toEqual([1, 2]);
    await group.waitEvent(is('onError'), 'onError per item', 3);
    expect(group.events.filter(is('onError')).map((e) => e.taskId)).toEqual(['1.0', '1.1', '1.2']);
    const letters = (await group.answer(group.command('deadLetters'))).letters as Array<
      Record<string, unknown>
    >;
    expect(letters.map((l) => [l.taskId, l.payload, l.attempts])).toEqual([
      ['1.0', { x: 0 }, 2],
      ['1.1', { x: 1, failTimes: 99 }, 2],
      ['1.2', { x: 2 }, 2],
    ]);
    const bad = await group.answer(group.command('bulk', { payloads, opts: { chunkSize: 0 } }));
    expect(bad).toMatchObject({ event: 'rejected', code: 'ECONFIG' });
    expect(bad.message).toMatch(/'chunkSize' is 0; expected an integer from 1/);
  });

  it('a handler that throws is retried with backoff; attempts count up; the result is the last attempt’s', async () => {
    current = startPool({ minWorkers: 1, maxAttempts: 3, backoff: 200 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const answer = await group.submit({ x: 5, failTimes: 2 });
    expect(answer.value).toMatchObject({ doubled: 10, attempt: 3 });
    const retries = group.events.filter(is('taskRetry'));
    expect(retries.map((e) => e.attempt)).toEqual([1, 2]);
    expect(retries[0]!.error).toMatchObject({ message: 'planned failure on attempt 1' });
    // the backoff separates the attempts
    const starts = group.events.filter(is('taskStart')).map((e) => e.t as number);
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(150);
    expect(group.count(is('taskFail')) + group.count(is('onError'))).toBe(0);
  });

  it('after the last attempt: onError once, taskFail once, a dead letter, and the submitter gets ETASKFAILED', async () => {
    current = startPool({ minWorkers: 2, maxAttempts: 2, backoff: 20 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const answer = await group.submit({ x: 1, failTimes: 99 });
    expect(answer).toMatchObject({ event: 'rejected', code: 'ETASKFAILED' });
    expect(answer.message).toMatch(/failed after 2 attempt\(s\): planned failure on attempt 2/);
    await group.waitEvent(is('onError'), 'onError');
    expect(group.events.filter(is('onError'))).toEqual([
      expect.objectContaining({ attempts: 2, message: 'planned failure on attempt 2' }),
    ]);
    expect(group.events.filter(is('taskFail'))).toEqual([
      expect.objectContaining({ attempts: 2, payload: { x: 1, failTimes: 99 } }),
    ]);
    expect(group.count(is('taskStart'))).toBe(2);
    const letters = (await group.answer(group.command('deadLetters'))).letters as Array<
      Record<string, unknown>
    >;
    expect(letters).toEqual([
      expect.objectContaining({
        attempts: 2,
        error: 'planned failure on attempt 2',
        payload: { x: 1, failTimes: 99 },
      }),
    ]);
  });

  it('a result JSON cannot carry fails that attempt with a message naming the task', async () => {
    current = startPool({ minWorkers: 1, maxAttempts: 1 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const answer = await group.submit({ bigint: true });
    expect(answer).toMatchObject({ event: 'rejected', code: 'ETASKFAILED' });
    expect(answer.message).toMatch(/the result of task '1' cannot be sent as JSON/);
    // the worker is fine afterwards
    expect((await group.submit({ x: 2 })).value).toMatchObject({ doubled: 4 });
  });

  it('status shows every worker as permanent, and the pool figures', async () => {
    current = startPool({ minWorkers: 2, maxWorkers: 4, concurrencyPerWorker: 3 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const status = await group.status();
    expect(status.workers.map((w) => w.kind)).toEqual(['permanent', 'permanent']);
    expect(status.pool).toMatchObject({
      minWorkers: 2,
      maxWorkers: 4,
      permanent: 2,
      temporary: 0,
      capacity: 6,
      inFlight: 0,
      queue: { ready: 0, delayed: 0, inFlight: 0, dead: 0 },
    });
  });
});

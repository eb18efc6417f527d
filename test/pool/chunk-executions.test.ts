// docs/pool.md: `executeTimes` is the number of tasks per worker before it is recycled, and the
// items of a submitBulk chunk (`chunkSize`) are tasks with ids of their own, carried in one queue
// task. Each item counts toward executeTimes, not the chunk once: chunking does not make a worker
// live chunkSize times longer.
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('executeTimes with chunks', () => {
  it('counts every item of a chunk: 4 items in one chunk are 4 executions; the 5th task recycles the worker', async () => {
    // one permanent worker and room for its successor beside it; no jitter on executeTimes
    current = startPool({ minWorkers: 1, maxWorkers: 2, executeTimes: 5, recycleJitter: 0 });
    const { group } = current;
    await group.waitEvent(is('started'), 'the pool to start');
    const first = (await group.status()).workers[0]!;

    const bulk = await group.answer(
      group.command('bulk', { payloads: [1, 2, 3, 4].map((x) => ({ x })), opts: { chunkSize: 4 } }),
    );
    expect(bulk.event, JSON.stringify(bulk)).toBe('bulkResult');
    expect((bulk.values as Array<{ x: number; pid: number }>).map((v) => [v.x, v.pid])).toEqual(
      [1, 2, 3, 4].map((x) => [x, first.pid]),
    );
    // one queue task ran (the chunk), and the worker counts its four items
    expect(group.count(is('taskDone'))).toBe(1);
    const after = (await group.status()).workers.find((w) => w.pid === first.pid);
    expect(after).toMatchObject({ pin: 0, executions: 4 });

    // the fifth task reaches executeTimes: the worker is replaced once it is done
    const fifth = await group.submit({ x: 5 });
    expect(fifth).toMatchObject({ event: 'result', value: { x: 5, pid: first.pid } });
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.pid === first.pid),
      'the worker to be recycled',
    );
    expect(exit.reason).toBe('recycle');
    const sixth = await group.submit({ x: 6 });
    expect(sixth).toMatchObject({ event: 'result', value: { x: 6, pin: 0 } });
    expect((sixth.value as { pid: number }).pid).not.toBe(first.pid);
  });
});

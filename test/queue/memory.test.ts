import { describe, expect, it } from 'vitest';
import { createMemoryBackend, type MemoryQueue } from '../../packages/core/src/queue/MemoryQueue.js';
import type { Delivery } from '../../packages/core/src/queue/QueueBackend.js';
import {
  type AnyBackend,
  type ContractHarness,
  deferred,
  queueContract,
  RETRY,
  type StalledConsumer,
  type TakenTask,
  within,
} from './contract.js';

const LEASE_MS = 1_500;

/** One MemoryQueue per queue name: "two backends on one queue" are one object in one process. */
const byQueue = new Map<string, MemoryQueue>();

function backendOf(queue: string): MemoryQueue {
  const found = byQueue.get(queue);
  if (!found) throw new Error(`no memory backend for queue ${queue}`);
  return found;
}

const harness: ContractHarness = {
  name: 'memory',
  leaseMs: LEASE_MS,
  async create(options) {
    const existing = byQueue.get(options.queue);
    if (existing) return existing as AnyBackend;
    const created = createMemoryBackend({ retry: RETRY, leaseMs: LEASE_MS, ...options });
    byQueue.set(options.queue, created);
    return created as AnyBackend;
  },
  async crash(queue): Promise<TakenTask> {
    const taken = deferred<Delivery>();
    const consumer = backendOf(queue).consume(
      (d) => {
        taken.resolve(d);
        return new Promise(() => {});
      },
      { concurrency: 1 },
    );
    const d = await taken.promise;
    await consumer.close({ abandon: true });
    return { taskId: d.taskId, attempt: d.attempt };
  },
  async stall(queue, late): Promise<StalledConsumer> {
    const taken = deferred<Delivery>();
    const release = deferred();
    const errors: Error[] = [];
    let acknowledged = false;
    const consumer = backendOf(queue).consume(
      async (d) => {
        taken.resolve(d);
        await release.promise;
        return late;
      },
      {
        concurrency: 1,
        onError: (error) => errors.push(error),
        onAcknowledged: () => {
          acknowledged = true;
        },
      },
    );
    const d = await taken.promise;
    // In one process a consumer only loses its lease by being given up; it keeps running.
    await consumer.close({ abandon: true });
    return {
      taskId: d.taskId,
      attempt: d.attempt,
      async finish() {
        release.resolve();
        await new Promise((resolve) => setImmediate(resolve));
        const refusals = errors.filter((e) => (e as { code?: string }).code === 'ELATEACK').length;
        return { ackRefused: refusals > 0, signalAborted: d.signal.aborted, refusals, acknowledged };
      },
    };
  },
  async cleanup() {
    byQueue.clear();
  },
};

queueContract(harness);

describe('memory queue specifics', () => {
  it('delivers priority 0 first, then 1, 2, ... and FIFO within one', async () => {
    const q = createMemoryBackend<string, string>({ queue: 'prio', retry: RETRY });
    await q.enqueue([
      { payload: 'p2', priority: 2 },
      { payload: 'p1-a', priority: 1 },
      { payload: 'none-a' },
      { payload: 'p1-b', priority: 1 },
      { payload: 'none-b' },
    ]);
    const order: string[] = [];
    q.consume(
      async (d) => {
        order.push(d.payload);
        return d.payload;
      },
      { concurrency: 1 },
    );
    await q.waitForResult('1');
    await Promise.all(['1', '2', '3', '4', '5'].map((id) => q.waitForResult(id)));
    expect(order).toEqual(['none-a', 'none-b', 'p1-a', 'p1-b', 'p2']);
    await q.close();
  });

  it('names the option, the value and the fix for bad options', () => {
    expect(() => createMemoryBackend({ queue: 'bad name', retry: RETRY })).toThrow(
      `drover: config 'queue' is "bad name"; expected a name of 1-128 letters, digits, "-", "_" or "."`,
    );
    expect(() => createMemoryBackend({ queue: 'q', retry: { maxAttempts: 0, backoffMs: () => 0 } })).toThrow(
      "drover: config 'retry.maxAttempts' is 0; expected an integer >= 1",
    );
    expect(() => createMemoryBackend({ queue: 'q', retry: RETRY, maxQueued: 0 })).toThrow(
      "drover: config 'maxQueued' is 0; expected an integer >= 1, or undefined for no bound",
    );
  });

  it('a lease lost on the last attempt fails the task for good, reported by a live consumer', async () => {
    const q = createMemoryBackend({
      queue: 'lastlease',
      retry: { maxAttempts: 1, backoffMs: () => 0 },
      leaseMs: 200,
    });
    const [id] = await q.enqueue([{ payload: 1 }]);
    const taken = deferred();
    const doomed = q.consume(
      () => {
        taken.resolve();
        return new Promise(() => {});
      },
      { concurrency: 1 },
    );
    await taken.promise;
    await doomed.close({ abandon: true });
    const finals: string[] = [];
    let ran = false;
    q.consume(
      async () => {
        ran = true;
        return null;
      },
      { concurrency: 1, onFinalFailure: (_d, error) => finals.push(error.message) },
    );
    await expect(q.waitForResult(id!)).rejects.toMatchObject({ code: 'ETASKFAILED' });
    expect(ran).toBe(false);
    expect(finals).toEqual([expect.stringContaining(`task '${id}' lost its lease on attempt 1 of 1`)]);
    await q.close();
  });

  it('keeps the newest results within keepResults, then forgets the older ones', async () => {
    const q = createMemoryBackend<string, string>({ queue: 'keep', retry: RETRY, keepResults: { count: 2 } });
    q.consume(async (d) => d.payload.toUpperCase(), { concurrency: 1 });
    const ids = await q.enqueue([
      { id: 'a', payload: 'a' },
      { id: 'b', payload: 'b' },
      { id: 'c', payload: 'c' },
    ]);
    expect(await q.waitForResult('c')).toBe('C');
    await expect(q.waitForResult('a')).rejects.toThrow(
      "drover: queue 'keep' does not know task 'a'; check the id; results are kept for 300000 ms (keepResults)",
    );
    expect(await Promise.all(ids.slice(1).map((id) => q.waitForResult(id)))).toEqual(['B', 'C']);
    // A forgotten id is new again.
    await q.enqueue([{ id: 'a', payload: 'again' }]);
    expect(await q.waitForResult('a')).toBe('AGAIN');
    await q.close();
  });

  it('close rejects pending waits and later calls', async () => {
    const q = createMemoryBackend({ queue: 'closing', retry: RETRY });
    const [id] = await q.enqueue([{ payload: 1 }]);
    const waiting = q.waitForResult(id!);
    await q.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ECLOSED' });
    await expect(q.enqueue([{ payload: 2 }])).rejects.toThrow("drover: the memory queue 'closing' is closed");
  });
});

describe('memory queue: enqueueAndWait in a bounded queue', () => {
  for (const maxQueued of [undefined, 10]) {
    it(`keeps no result of a task without an id (maxQueued ${maxQueued}), and keeps one with an id`, async () => {
      const q = createMemoryBackend<number, number>({ queue: 'unlisted', retry: RETRY, maxQueued });
      q.consume(async (d) => d.payload * 2, { concurrency: 2 });
      expect(await q.enqueueAndWait({ payload: 21 })).toBe(42);
      expect(await q.enqueueAndWaitAll([{ payload: 1 }, { payload: 2 }])).toEqual([2, 4]);
      // generated ids are 1, 2, 3, never returned: no one can read those results, so none is kept
      // (before, a bounded queue kept each, up to keepResults: 10 000 results no one could read)
      for (const id of ['1', '2', '3'])
        await expect(q.waitForResult(id)).rejects.toMatchObject({ code: 'ETASKUNKNOWN' });
      expect(await q.enqueueAndWait({ id: 'mine', payload: 5 })).toBe(10);
      expect(await q.waitForResult('mine')).toBe(10);
      // a known id runs nothing new: its kept result answers
      expect(await q.enqueueAndWaitAll([{ id: 'mine', payload: 6 }])).toEqual([10]);
      await q.close();
    });
  }

  it('rejects when full, and counts the submits of one tick, as enqueue does', async () => {
    const q = createMemoryBackend<number, number>({ queue: 'full', retry: RETRY, maxQueued: 3 });
    const outcomes = Array.from({ length: 20 }, (_, n) => q.enqueueAndWait({ payload: n }));
    const settled = await within(Promise.allSettled(outcomes.slice(3)), 15_000, 'the refused submits');
    expect(settled).toHaveLength(17);
    for (const o of settled) {
      const { reason } = o as PromiseRejectedResult;
      expect(reason).toMatchObject({ code: 'EQUEUEFULL' });
      expect(reason.message).toMatch(
        /^drover: queue 'full' is full: 3 task\(s\) waiting, 1 more would pass maxQueued 3;/,
      );
    }
    expect((await q.stats()).ready).toBe(3);
    await expect(
      q.enqueueAndWaitAll([{ payload: 1 }, { payload: 2 }, { payload: 3 }, { payload: 4 }]),
    ).rejects.toThrow("drover: an enqueue of 4 tasks can never fit queue 'full' (maxQueued 3)");
    q.consume(async (d) => d.payload, { concurrency: 3 });
    expect(await within(Promise.all(outcomes.slice(0, 3)), 15_000, 'the admitted results')).toEqual([
      0, 1, 2,
    ]);
    await q.close();
  });

  it("whenFull 'wait': signal and timeoutMs bound the wait for room (nothing queued) and then the wait for the result", async () => {
    const q = createMemoryBackend<string, string>({
      queue: 'roomy',
      retry: RETRY,
      maxQueued: 1,
      whenFull: 'wait',
    });
    await q.enqueue([{ payload: 'first' }]);
    const late = await q.enqueueAndWait({ payload: 'late' }, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'ETIMEOUT' });
    expect((late as Error).message).toBe(
      "drover: the enqueue of a task to queue 'roomy' got no room (maxQueued 1) within 200 ms; nothing was queued; submit it again later; raise timeoutMs or maxQueued, or add consumers",
    );
    const aborted = new AbortController();
    const cancelled = q.enqueueAndWait({ payload: 'cancelled' }, { signal: aborted.signal });
    aborted.abort(new Error('gave up'));
    await expect(cancelled).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await q.stats()).ready).toBe(1);
    // waits for room, then for a result that never comes: the ETIMEOUT names the whole timeoutMs
    const timeoutMs = 1_500;
    const hangs = q.enqueueAndWait({ payload: 'hang' }, { timeoutMs }).catch((e: unknown) => e);
    const waits = q.enqueueAndWaitAll([{ payload: 'after' }], { timeoutMs: 15_000 });
    // time passes while they wait for room: what is left of timeoutMs is less than it
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ran: string[] = [];
    q.consume(
      (d) => {
        ran.push(d.payload);
        return d.payload === 'hang'
          ? new Promise<string>(() => {})
          : Promise.resolve(d.payload.toUpperCase());
      },
      { concurrency: 3 },
    );
    expect(await within(waits, 15_000, 'the waiting submit')).toEqual(['AFTER']);
    const timedOut = (await within(hangs, 15_000, 'the timeout')) as Error;
    expect(timedOut).toMatchObject({ code: 'ETIMEOUT' });
    expect(timedOut.message).toMatch(
      new RegExp(`^drover: no result for task '\\d+' within ${timeoutMs} ms;`),
    );
    // in order, and what gave up waiting for room never ran
    expect(ran).toEqual(['first', 'hang', 'after']);
    await q.close();
  });
});

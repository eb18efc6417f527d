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

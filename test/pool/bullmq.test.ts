import { bullmqBackend } from '@drover/core/bullmq';
import { Pool } from '@drover/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DroverError } from '../../packages/core/src/errors.js';
import { waitFor } from '../queue/contract.js';
import { is, type StartedPool, startPool } from './helpers.js';
import { poolRedis, redisUnavailableReason } from './redis.js';

const shared = await poolRedis();
afterAll(async () => {
  await shared?.cleanup();
});

const started: StartedPool[] = [];
const producers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.close()));
  await Promise.all(started.splice(0).map((s) => s.cleanup()));
});

/** A master on the shared queue, in its own process and run dir. */
function master(name: string, queueName: string, config: Record<string, unknown> = {}): StartedPool {
  const s = startPool(
    { baseTitle: name, queueName, ...config },
    { QUEUE_URL: shared!.redis.url, QUEUE_PREFIX: shared!.prefix },
  );
  started.push(s);
  return s;
}

/** A producer in this process: a Pool that only submits (no workers here). */
function producer(queueName: string): Pool<Record<string, unknown>, Record<string, unknown>> {
  const pool = new Pool<Record<string, unknown>, Record<string, unknown>>({
    baseTitle: 'producer',
    queueName,
    backoff: 50,
    queue: bullmqBackend({ connection: shared!.redis.url, prefix: shared!.prefix }),
  });
  producers.push(pool);
  return pool;
}

describe.skipIf(!shared)('pool on a shared BullMQ queue', () => {
  if (!shared) console.warn(`pool BullMQ tests skipped: ${redisUnavailableReason}`);

  it('a producer in another process submits; two masters consume; each task runs once; results come back', async () => {
    const a = master('pool-a', 'shared-1', { minWorkers: 1, concurrencyPerWorker: 4 });
    const b = master('pool-b', 'shared-1', { minWorkers: 1, concurrencyPerWorker: 4 });
    await Promise.all([
      a.group.waitEvent(is('started'), 'a started'),
      b.group.waitEvent(is('started'), 'b started'),
    ]);
    const submit = producer('shared-1');
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, x) => submit.submit({ x, sleepMs: 50 })),
    );
    results.forEach((value, x) => {
      expect(value).toMatchObject({ x, doubled: 2 * x, attempt: 1 });
    });
    const starts = [...a.group.events, ...b.group.events].filter(is('taskStart'));
    expect(starts).toHaveLength(40);
    expect(new Set(starts.map((e) => e.taskId)).size).toBe(40);
    // both masters took a share
    expect(a.group.count(is('taskStart'))).toBeGreaterThan(0);
    expect(b.group.count(is('taskStart'))).toBeGreaterThan(0);
  });

  it('a stopped master leaves the tasks it had not started in the queue; another master runs them', async () => {
    const a = master('pool-c', 'shared-2', { minWorkers: 1 });
    await a.group.waitEvent(is('started'), 'a started');
    const submit = producer('shared-2');
    const pending = Array.from({ length: 5 }, (_, x) => submit.submit({ x, sleepMs: 500 }));
    await a.group.waitEvent(is('taskStart'), 'a runs the first task');
    a.group.command('stop');
    expect(await a.group.waitExit()).toEqual({ code: 0, signal: null });
    expect(a.group.count(is('taskDone'))).toBe(1);
    expect(await submit.stats()).toMatchObject({ ready: 4, delayed: 0, inFlight: 0, dead: 0 });

    const b = master('pool-d', 'shared-2', { minWorkers: 1, concurrencyPerWorker: 4 });
    await b.group.waitEvent(is('started'), 'b started');
    const results = await Promise.all(pending);
    results.forEach((value, x) => {
      expect(value).toMatchObject({ x, doubled: 2 * x, attempt: 1 });
    });
    expect(b.group.count(is('taskStart'))).toBe(4);
  });

  it('a submit cut short by close names the way back: the same id again waits for the task, it does not run twice', async () => {
    const first = producer('shared-4');
    const pending = first.submit({ x: 4 }, { id: 'resubmit-4' }).then(
      () => null,
      (error: DroverError) => error,
    );
    await waitFor('the task queued', async () => (await first.stats()).ready === 1);
    await first.close();
    const error = await pending;
    expect(error?.code).toBe('ECLOSED');
    // before: "wait for it with waitForResult(taskId) from a running pool", which Pool does not have
    expect(error?.hint).toBe(
      "submit it again with the same id ({ id: 'resubmit-4' }) from a running pool or a producer: the id makes that submit wait for this task instead of running it twice",
    );
    const again = producer('shared-4').submit({ x: 4 }, { id: 'resubmit-4' });
    const a = master('pool-f', 'shared-4', { minWorkers: 1 });
    await a.group.waitEvent(is('started'), 'a started');
    expect(await again).toMatchObject({ x: 4, doubled: 8, taskId: 'resubmit-4', attempt: 1 });
    expect(a.group.count(is('taskStart'))).toBe(1);
  });

  it('the autoscaler reads the shared backlog: tasks enqueued elsewhere start temporary workers', async () => {
    const a = master('pool-e', 'shared-3', {
      minWorkers: 1,
      maxWorkers: 3,
      idleTimeout: 800,
      scaleInterval: 100,
    });
    await a.group.waitEvent(is('started'), 'a started');
    const submit = producer('shared-3');
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, x) => submit.submit({ x, sleepMs: 300 })),
    );
    expect(results.map((r) => r.doubled)).toEqual(Array.from({ length: 15 }, (_, x) => 2 * x));
    expect(a.group.count(is('scaleUp'))).toBeGreaterThan(0);
    expect(a.group.events.some(is('taskStart', (e) => e.kind === 'temporary'))).toBe(true);
    await a.group.waitEvent(
      is('workerExit', (e) => e.reason === 'idle'),
      'temporary workers leave',
      2,
    );
  });
});

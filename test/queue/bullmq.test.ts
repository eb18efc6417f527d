import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { DroverError } from '../../packages/core/src/errors.js';
import { bullmqBackend, createBullMQBackend } from '../../packages/core/src/queue/bullmq.js';
import { resolveRedisConnection } from '../../packages/core/src/queue/redisConnection.js';
import { dropKeysAndStop, redisOrFailInCI, redisUnavailableReason } from '../support/redis.js';
import {
  type ContractHarness,
  deferred,
  queueContract,
  RETRY,
  type StalledConsumer,
  type TakenTask,
  uniqueQueue,
  waitFor,
  within,
} from './contract.js';

const LEASE_MS = 1_500;
const STALLED_INTERVAL_MS = 500;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const fixture = join(here, 'fixtures', 'bullmq-consumer.mjs');

const redis = await redisOrFailInCI('the BullMQ tests');
/** This file's keys, so runs and files never share a queue. */
const prefix = `drover-test-${process.pid}-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  if (redis) await dropKeysAndStop(redis, prefix);
});

/** Child consumers import the built package: refuse a dist older than the queue sources. */
async function assertFreshBuild(): Promise<void> {
  const built = join(root, 'packages/core/dist/queue/bullmq.js');
  let builtAt = 0;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    // missing: reported below
  }
  const sources = join(root, 'packages/core/src/queue');
  const files = (await readdir(sources, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const newest = Math.max(...files.map((f) => statSync(join(sources, f)).mtimeMs));
  if (builtAt < newest)
    throw new Error(
      `${built} is missing or older than src/queue: run npx tsc -p packages/core/tsconfig.json`,
    );
}

const children = new Set<ChildProcess>();

/** Deletes every key of `queue`, as a Redis restarted without persistence (or flushed) would have. */
async function dropQueueKeys(queue: string): Promise<number> {
  const client = new Redis(resolveRedisConnection(redis!.url) as RedisOptions);
  let dropped = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:${queue}:*`, 'COUNT', 1000);
      if (keys.length > 0) dropped += await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return dropped;
}

/**
 * Waits until `backend` has registered `n` waits and read their jobs' state once (a read after
 * them on the same connection answers after them).
 */
async function waitsRegistered(backend: { stats(): Promise<unknown> }, n: number): Promise<void> {
  const internals = backend as unknown as { waiters: { size: number }; events?: Promise<unknown> };
  await waitFor(`${n} waits registered`, () => internals.waiters.size === n);
  // a wait reads its job's state once the events reader runs: by the time a first read answers,
  // those reads are sent, and a second read answers after them
  await internals.events;
  await backend.stats();
  await backend.stats();
}

/** A backend on `queue` with the short lease of these tests, its errors collected in `errors`. */
function leasedBackend(queue: string, errors: Error[]) {
  return createBullMQBackend({
    connection: redis!.url,
    prefix,
    queue,
    retry: RETRY,
    leaseMs: LEASE_MS,
    stalledIntervalMs: STALLED_INTERVAL_MS,
    onError: (error) => errors.push(error),
  });
}

/** What a promise settled with: its value, or the error it rejected with. */
function outcomeOf<T>(promise: Promise<T>): Promise<T | DroverError> {
  return promise.then(
    (value) => value,
    (error: DroverError) => error,
  );
}

interface ChildLine {
  event: string;
  taskId?: string;
  attempt?: number;
  ackRefused?: boolean;
  signalAborted?: boolean;
  refusals?: number;
  acknowledged?: boolean;
}

/** Starts a fixture consumer; `next(event)` resolves with its next line of that event. */
async function startChild(queue: string, mode: 'crash' | 'stall', extra: object = {}) {
  await assertFreshBuild();
  const child = spawn(
    process.execPath,
    [
      fixture,
      JSON.stringify({
        url: redis!.url,
        prefix,
        queue,
        mode,
        leaseMs: LEASE_MS,
        stalledIntervalMs: STALLED_INTERVAL_MS,
        ...extra,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: ChildLine[] = [];
  const waiting: { event: string; resolve(line: ChildLine): void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as ChildLine;
    const i = waiting.findIndex((w) => w.event === line.event);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
    else lines.push(line);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`consumer child exited (${code ?? signal})`))),
  );
  exited.catch(() => {});
  const next = (event: string): Promise<ChildLine> => {
    const i = lines.findIndex((l) => l.event === event);
    if (i >= 0) return Promise.resolve(lines.splice(i, 1)[0]!);
    const line = deferred<ChildLine>();
    waiting.push({ event, resolve: line.resolve });
    return within(Promise.race([line.promise, exited]), 20_000, `'${event}' from the consumer child`);
  };
  return { child, next };
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return gone;
}

const harness: ContractHarness = {
  name: 'bullmq',
  leaseMs: LEASE_MS,
  async create(options) {
    return createBullMQBackend({
      connection: redis!.url,
      prefix,
      leaseMs: LEASE_MS,
      stalledIntervalMs: STALLED_INTERVAL_MS,
      retry: RETRY,
      ...options,
    });
  },
  async crash(queue): Promise<TakenTask> {
    const { child, next } = await startChild(queue, 'crash');
    const took = await next('took');
    await killAndWait(child);
    return { taskId: took.taskId!, attempt: took.attempt! };
  },
  async stall(queue, late): Promise<StalledConsumer> {
    const { child, next } = await startChild(queue, 'stall', { late, stallMs: 5_000 });
    const took = await next('took');
    return {
      taskId: took.taskId!,
      attempt: took.attempt!,
      async finish() {
        const outcome = await next('outcome');
        await killAndWait(child);
        return {
          ackRefused: outcome.ackRefused!,
          signalAborted: outcome.signalAborted!,
          refusals: outcome.refusals!,
          acknowledged: outcome.acknowledged!,
        };
      },
    };
  },
  async cleanup() {
    await Promise.all([...children].map(killAndWait));
  },
};

if (redis) {
  queueContract(harness);

  describe('bullmq backend specifics', () => {
    it('builds from the core options through its factory, over a unix-socket URL', async () => {
      const factory = bullmqBackend({ connection: redis.url, prefix, stalledIntervalMs: 500 });
      const backend = await factory({
        queue: `factory-${randomUUID().slice(0, 8)}`,
        retry: RETRY,
        leaseMs: 2_000,
      });
      try {
        expect(backend.kind).toBe('bullmq');
        expect(backend.capabilities).toMatchObject({ durable: true, shared: true });
        const [id] = await backend.enqueue([{ payload: 'hello' }]);
        const consumer = backend.consume(async (d) => `${d.payload} back`, { concurrency: 1 });
        expect(await within(backend.waitForResult(id!), 15_000, 'result')).toBe('hello back');
        await consumer.close();
      } finally {
        await backend.close();
      }
    });

    it('names the socket and the fix when Redis cannot be reached', async () => {
      const missing = join(here, 'no-such-redis.sock');
      await expect(
        createBullMQBackend({
          connection: `unix://${missing}`,
          queue: 'unreachable',
          retry: RETRY,
          connectTimeoutMs: 1_000,
        }),
      ).rejects.toThrow(
        `drover: queue 'unreachable' cannot reach Redis at unix socket ${missing} within 1000 ms; check that redis-server runs`,
      );
    });

    it('after terminate() its connections stay ended, and what the end itself failed is not reported', async () => {
      const errors: Error[] = [];
      const consumerErrors: Error[] = [];
      const backend = await leasedBackend(uniqueQueue('ended'), errors);
      const consumer = backend.consume(async (d) => d.payload, {
        concurrency: 1,
        onError: (error) => consumerErrors.push(error),
      });
      const worker = (consumer as unknown as { worker: Worker }).worker;
      const bullBackend = (
        worker as unknown as {
          backend: { reconnectBlocking(): Promise<void>; blockingConnection: { _client: Redis } };
        }
      ).backend;
      await worker.waitUntilReady();
      await waitFor(
        'the blocking connection ready',
        () => bullBackend.blockingConnection._client.status === 'ready',
      );
      backend.terminate();
      // what BullMQ's fetch watchdog does once its blocking wait timed out, closing or not:
      // before, it connected again, and that connection held the process
      await expect(bullBackend.reconnectBlocking()).rejects.toThrow('Connection is closed.');
      // (ioredis's connect goes on after that rejection: a reconnect would be under way by now)
      await delay(300);
      expect(bullBackend.blockingConnection._client.status).toBe('end');
      // commands the end rejected, as BullMQ reports them: before, each a bare warning
      worker.emit('error', new Error('Connection is closed.'));
      (backend as unknown as { producer: Queue }).producer.emit('error', new Error('Connection is closed.'));
      expect(consumerErrors).toEqual([]);
      expect(errors).toEqual([]);
      // (its close waits out BullMQ's fetch loop, which retries only after 15 s: not awaited here)
      void backend.close();
    });

    it('a wait whose job is gone from Redis (a restart without persistence, a flush) rejects with ETASKLOST, said once', async () => {
      const errors: Error[] = [];
      const queue = uniqueQueue('lost');
      const backend = await leasedBackend(queue, errors);
      try {
        const ids = await backend.enqueue([{ id: 'order-1', payload: 1 }, { payload: 2 }]);
        // nothing consumes them: before, these waits never settled
        const waits = ids.map((id) => outcomeOf(backend.waitForResult(id)));
        await waitsRegistered(backend, 2);
        expect(await dropQueueKeys(queue)).toBeGreaterThan(0);
        const [own, generated] = (await within(
          Promise.all(waits),
          15_000,
          'the lost waits',
        )) as DroverError[];
        expect(own).toMatchObject({ code: 'ETASKLOST' });
        expect(own!.message).toContain(
          `task 'order-1' is lost: its job is gone from queue '${queue}' on Redis`,
        );
        expect(own!.hint).toContain(
          "Redis restarted without persistence or was flushed: keep the queue's data with 'appendonly yes'",
        );
        expect(own!.hint).toContain("submit it again with the same id ({ id: 'order-1' })");
        expect(generated).toMatchObject({ code: 'ETASKLOST' });
        expect(generated!.message).toContain(`task '${ids[1]}' is lost`);
        expect(generated!.hint).toContain('submit it again to run it');
        expect(errors.map((e) => (e as DroverError).code)).toEqual(['ETASKLOST']);
        expect(errors[0]!.message).toContain(`queue '${queue}' lost 2 task(s) ('order-1', '${ids[1]}')`);
      } finally {
        await backend.close();
      }
    });

    it('a job hash missing while the queue keeps its keys is no loss: a result removed once stored still comes', async () => {
      const errors: Error[] = [];
      const queue = uniqueQueue('kept');
      const backend = await leasedBackend(queue, errors);
      const client = new Redis(resolveRedisConnection(redis!.url) as RedisOptions);
      try {
        const [id] = await backend.enqueue([{ id: 'removed-on-completion', payload: 1 }]);
        const wait = outcomeOf(backend.waitForResult(id!));
        await waitsRegistered(backend, 1);
        // as removeOnComplete does, before the events reader has passed the result on
        expect(await client.del(backend.jobKey(id!))).toBe(1);
        // what a reconnect of Redis runs: before, this rejected the wait with ETASKLOST
        await (backend as unknown as { lost: { check(): Promise<void> } }).lost.check();
        expect(await Promise.race([wait, delay(200).then(() => 'still waiting')])).toBe('still waiting');
        expect(errors).toEqual([]);
      } finally {
        client.disconnect();
        await backend.close();
      }
    });

    it('after a loss was said, an id the queue never had is unknown again, not lost', async () => {
      const errors: Error[] = [];
      const queue = uniqueQueue('after-loss');
      const backend = await leasedBackend(queue, errors);
      try {
        const [id] = await backend.enqueue([{ payload: 1 }]);
        const wait = outcomeOf(backend.waitForResult(id!));
        await waitsRegistered(backend, 1);
        await dropQueueKeys(queue);
        expect(await within(wait, 15_000, 'the lost wait')).toMatchObject({ code: 'ETASKLOST' });
        await waitFor('the loss said', () => errors.length === 1);
        // before: the queue's meta hash stayed missing, and every unknown id was 'lost' for good
        const unknown = await within(outcomeOf(backend.waitForResult('never-was')), 15_000, 'the unknown id');
        expect(unknown).toMatchObject({ code: 'ETASKUNKNOWN' });
        expect(errors.map((e) => (e as DroverError).code)).toEqual(['ETASKLOST']);
      } finally {
        await backend.close();
      }
    });

    it('a consumer whose running job vanished acknowledges nothing and says it once, in drover words', async () => {
      const errors: Error[] = [];
      const acknowledged: string[] = [];
      const queue = uniqueQueue('vanished');
      const backend = await createBullMQBackend({
        connection: redis.url,
        prefix,
        queue,
        retry: RETRY,
        leaseMs: LEASE_MS,
        stalledIntervalMs: STALLED_INTERVAL_MS,
      });
      try {
        const gate = deferred();
        const running = deferred<string>();
        const consumer = backend.consume(
          async (d) => {
            if (d.payload === 'gated') {
              running.resolve(d.taskId);
              await gate.promise;
            }
            return `${d.payload} done`;
          },
          {
            concurrency: 1,
            onError: (error) => errors.push(error),
            onAcknowledged: (d) => acknowledged.push(d.taskId),
          },
        );
        const [gone] = await backend.enqueue([{ id: 'vanishing', payload: 'gated' }]);
        await within(running.promise, 15_000, 'the gated task running');
        await dropQueueKeys(queue);
        gate.resolve();
        await waitFor('the lost task reported', () => errors.length > 0);
        // one consumer, one slot: once a later task is done, BullMQ is through with the lost one
        const [next] = await backend.enqueue([{ payload: 'next' }]);
        expect(await within(backend.waitForResult(next!), 15_000, 'the next result')).toBe('next done');
        // before: "Missing key for job vanishing. moveToFinished", then the same for moveToDelayed
        expect(errors.map((e) => e.message).filter((m) => m.includes('Missing key'))).toEqual([]);
        expect(errors.map((e) => (e as DroverError).code)).toEqual(['ETASKLOST']);
        expect(errors[0]!.message).toContain(`queue '${queue}' lost 1 task(s) ('${gone}')`);
        expect(acknowledged).toEqual([next]);
        await consumer.close();
      } finally {
        await backend.close();
      }
    });

    it('a wait cut short by close says how to get the result: the same id again, or waitForResult of a backend', async () => {
      const queue = uniqueQueue('closed-wait');
      const backend = await createBullMQBackend({ connection: redis.url, prefix, queue, retry: RETRY });
      const [own, generated] = await backend.enqueue([{ id: 'invoice-9', payload: 1 }, { payload: 2 }]);
      const waits = [own!, generated!].map((id) => outcomeOf(backend.waitForResult(id)));
      await waitsRegistered(backend, 2);
      await backend.close();
      const [ownError, generatedError] = (await within(
        Promise.all(waits),
        15_000,
        'the closed waits',
      )) as DroverError[];
      expect(ownError).toMatchObject({ code: 'ECLOSED' });
      expect(ownError!.message).toContain(
        `stopped waiting for the result of task 'invoice-9': the bullmq queue '${queue}' was closed in this process`,
      );
      expect(ownError!.hint).toBe(
        "submit it again with the same id ({ id: 'invoice-9' }) from a running pool or a producer: the id makes that submit wait for this task instead of running it twice",
      );
      expect(generatedError!.hint).toContain(
        `read its result with waitForResult('${generated}') of a backend on queue '${queue}' (createBullMQBackend() from '@drover/core/bullmq')`,
      );
      // what the hint says works: another backend gets the result by that id
      const other = await createBullMQBackend({ connection: redis.url, prefix, queue, retry: RETRY });
      try {
        const consumer = other.consume(async (d) => (d.payload as number) * 10, { concurrency: 1 });
        expect(await within(other.waitForResult(generated!), 15_000, 'the result by id')).toBe(20);
        await consumer.close();
      } finally {
        await other.close();
      }
      await expect(backend.stats()).rejects.toMatchObject({ code: 'ECLOSED' });
    });

    it('rejects connection strings it cannot read', async () => {
      await expect(
        createBullMQBackend({ connection: 'http://localhost', queue: 'q', retry: RETRY }),
      ).rejects.toThrow(/config 'connection' is "http:\/\/localhost"; expected a Redis URL/);
    });
  });
} else {
  console.warn(
    `BullMQ queue tests skipped: ${redisUnavailableReason} (install redis-server, or set DROVER_REDIS_URL)`,
  );
  describe.skip(`queue contract: bullmq (skipped: ${redisUnavailableReason})`, () => {
    it('needs Redis', () => {});
  });
}

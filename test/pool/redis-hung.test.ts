// docs/pool.md, "Submitting": signal and timeoutMs bound the whole submit, the enqueue included; a
// Redis that hangs or is down does not hold it, and what it says names the queue and Redis.
import { spawnSync } from 'node:child_process';
import { Pool } from '@drover/core';
import { bullmqBackend, createBullMQBackend } from '@drover/core/bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { within } from '../queue/contract.js';
import { is, type StartedPool, startPool } from './helpers.js';
import { PrivateRedis } from './redis.js';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const servers: PrivateRedis[] = [];
const closers: Array<() => Promise<void>> = [];
const started: StartedPool[] = [];
afterEach(async () => {
  // a frozen server must answer again before the connections to it can close cleanly
  for (const server of servers) server.resume();
  await Promise.all(started.splice(0).map((s) => s.cleanup()));
  await Promise.all(closers.splice(0).map((close) => close().catch(() => {})));
  await Promise.all(servers.splice(0).map((server) => server.dispose()));
});

async function redis(): Promise<PrivateRedis> {
  const server = new PrivateRedis();
  servers.push(server);
  await server.start();
  return server;
}

/** A producer Pool (this process neither runs nor started it) on the server's queue. */
function producer(server: PrivateRedis, connection: Record<string, unknown> = {}): Pool<unknown, unknown> {
  const pool = new Pool<unknown, unknown>({
    baseTitle: 'hung',
    queueName: 'hung',
    queue: bullmqBackend({ connection: { path: server.socket, ...connection }, prefix: 'hung' }),
  });
  closers.push(() => pool.close());
  return pool;
}

/** A pool master (the fixture) on the server's queue. */
function master(server: PrivateRedis, config: Record<string, unknown>): StartedPool {
  const s = startPool(
    { baseTitle: 'hung', queueName: 'hung', ...config },
    { QUEUE_URL: server.url, QUEUE_PREFIX: 'hung' },
  );
  started.push(s);
  return s;
}

/** How a submit settled. */
function outcome(promise: Promise<unknown>): Promise<{ code?: string; name?: string; message?: string }> {
  return promise.then(
    () => ({ code: 'resolved' }),
    (error: { code?: string; name?: string; message?: string }) => ({
      code: error.code,
      name: error.name,
      message: error.message,
    }),
  );
}

describe.skipIf(!hasRedis)('a submit while Redis hangs or is down', () => {
  it('timeoutMs and signal bound the enqueue: ETIMEOUT / ABORTED say Redis did not confirm it', async () => {
    const server = await redis();
    const pool = producer(server);
    // connected (the first use opens the queue)
    expect(await pool.stats()).toMatchObject({ ready: 0 });
    const backend = await createBullMQBackend({
      connection: server.url,
      prefix: 'hung',
      queue: 'hung',
      retry: { maxAttempts: 1, backoffMs: () => 0 },
    });
    closers.push(() => backend.close());
    server.pause();
    // before: each waited for the whole outage; the submits then blamed the consumers ('check
    // that a consumer is running'), and the wait sat in the start of its events reader
    const [late, aborted, wait] = await within(
      Promise.all([
        outcome(pool.submit({ n: 1 }, { id: 'hung-1', timeoutMs: 500 })),
        outcome(pool.submit({ n: 2 }, { id: 'hung-2', signal: AbortSignal.timeout(500) })),
        outcome(backend.waitForResult('hung-0', { timeoutMs: 500 })),
      ]),
      10_000,
      'the submits to settle while Redis is frozen',
    );
    expect(wait).toMatchObject({
      code: 'ETIMEOUT',
      message: expect.stringMatching(/^drover: no result for task 'hung-0' within 500 ms/),
    });
    const where = `unix socket ${server.socket}`;
    expect(late.code).toBe('ETIMEOUT');
    expect(late.message).toBe(
      `drover: Redis at ${where} did not confirm the enqueue of task 'hung-1' to queue 'hung' within 500 ms; it may or may not be queued; check that Redis answers; submit it again with the same id ({ id: 'hung-1' }): if it was queued, that submit waits for it instead of running it twice`,
    );
    expect(aborted).toMatchObject({ code: 'ABORTED', name: 'AbortError' });
    expect(aborted.message).toContain(
      `drover: the enqueue of task 'hung-2' to queue 'hung' was aborted by its signal (The operation was aborted due to timeout) before Redis at ${where} confirmed it; it may or may not be queued`,
    );
    server.resume();
    // the commands reached Redis once it answered: both tasks are queued, once each
    await within(
      (async () => {
        while ((await backend.stats()).ready < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      })(),
      10_000,
      'both tasks queued',
    );
    // the same id again waits for the queued task (no consumer here: the wait's own ETIMEOUT)
    const again = await outcome(pool.submit({ n: 1 }, { id: 'hung-1', timeoutMs: 300 }));
    expect(again.message).toMatch(/^drover: no result for task 'hung-1' within 300 ms/);
    expect(await backend.stats()).toMatchObject({ ready: 2 });
  }, 40_000);

  it("a Redis that is down fails the enqueue with EREDIS naming the queue and Redis, not ioredis's bare error", async () => {
    const server = await redis();
    // ioredis gives up a command after this many reconnects (20 by default: minutes)
    const pool = producer(server, { maxRetriesPerRequest: 1 });
    expect(await pool.stats()).toMatchObject({ ready: 0 });
    await server.kill();
    const failed = await within(
      outcome(pool.submit({ n: 1 }, { id: 'down-1' })),
      20_000,
      'the submit to fail',
    );
    // before: code undefined, 'Reached the max retries per request limit (which is 1). ...'
    expect(failed.code).toBe('EREDIS');
    expect(failed.message).toContain(
      `drover: queue 'hung' could not enqueue task 'down-1' on Redis at unix socket ${server.socket} (Reached the max retries per request limit`,
    );
    expect(failed.message).toContain('it may or may not be queued; check that redis-server runs and answers');
    expect(failed.message).toContain("submit it again with the same id ({ id: 'down-1' })");
  }, 40_000);

  it('a master whose Redis hangs: status() answers without the queue, idle temporaries retire, the log says so', async () => {
    const server = await redis();
    const { group } = master(server, {
      minWorkers: 1,
      maxWorkers: 2,
      idleTimeout: 1_000,
      scaleInterval: 100,
      // the warning comes after half a lease
      leaseMs: 2_000,
    });
    await group.waitEvent(is('started'), 'started');
    const refs = [0, 1, 2, 3].map((x) => group.command('submit', { payload: { x, sleepMs: 500 } }));
    await group.waitEvent(is('scaleUp'), 'a temporary worker');
    for (const ref of refs) expect((await group.answer(ref, 20_000)).event).toBe('result');
    expect(group.count(is('workerReady'))).toBe(2);
    server.pause();
    try {
      // before: the autoscaler's look waited for Redis, and no later look retired anything
      const retired = await group.waitEvent(
        is('workerExit', (e) => e.reason === 'idle'),
        'the idle temporary worker to retire while Redis is frozen',
        1,
        15_000,
      );
      expect(retired.pin).toBe(1);
      // before: status() waited for the whole outage
      const status = await group.status();
      expect(status.workers.map((w) => w.pin)).toEqual([0]);
      expect(status.pool.queue).toBeNull();
      expect(status.pool.queueError).toBe(
        `queue 'hung' on Redis at unix socket ${server.socket} did not answer within 1000 ms`,
      );
      await group.waitFor('the warning that the queue does not answer', () =>
        group.output.includes(`queue 'hung' on Redis at unix socket ${server.socket} has not answered for`),
      );
    } finally {
      server.resume();
    }
    await group.waitFor('the line saying the queue answers again', () =>
      group.output.includes(`queue 'hung' on Redis at unix socket ${server.socket} answers again`),
    );
    const warnings = group.output.split('\n').filter((line) => line.includes('has not answered for'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'no task is taken or acknowledged meanwhile; temporary workers still retire',
    );
    expect((await group.status()).pool.queue).toMatchObject({ ready: 0 });
  }, 60_000);

  it('a stop while an enqueue waits on a hung Redis: the submit gets ECLOSED (may or may not be queued), and the process ends', async () => {
    const server = await redis();
    const { group } = master(server, { minWorkers: 1, stopTimeout: 500 });
    await group.waitEvent(is('started'), 'started');
    const warm = await group.submit({ x: 1 }, {}, 20_000);
    expect(warm.event).toBe('result');
    // The worker's blocking fetch (5 s) went out as that task ended; BullMQ's watchdog gives up
    // on it a second later and reconnects. A stop half a second before that (its close gives
    // the queue stopTimeout, then ends the connections) meets the reconnect.
    server.pause();
    try {
      const ref = group.command('submit', { payload: { x: 2 }, opts: { id: 'x-1' } });
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, (warm.t as number) + 5_500 - Date.now())),
      );
      group.command('stop', { stay: true });
      const answer = await group.answer(ref, 20_000);
      // before: code undefined, ioredis's "Connection is closed."
      expect(answer.code).toBe('ECLOSED');
      expect(answer.message).toBe(
        "drover: the bullmq queue 'hung' was closed in this process (its pool stopped, or close() was called) before Redis confirmed the enqueue of task 'x-1'; it may or may not be queued; submit it again with the same id ({ id: 'x-1' }) from a running pool or a producer: if it was queued, that submit waits for it instead of running it twice",
      );
      await group.waitEvent(is('stopped'), 'the stop', 1, 20_000);
      group.proc.stdin?.end();
      // before: the blocking connection BullMQ's watchdog reconnected after the stop had ended it
      // held the process while Redis stayed frozen
      expect(await group.waitExit(15_000)).toEqual({ code: 0, signal: null });
    } finally {
      server.resume();
    }
    expect(group.output).not.toContain('Connection is closed.');
  }, 90_000);
});

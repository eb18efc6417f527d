#!/usr/bin/env node
import { cpus, loadavg } from 'node:os';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createBullMQBackend } from '@drover/core/bullmq';
import { createMemoryBackend } from '../../packages/core/dist/queue/MemoryQueue.js';
import { resolveRedisConnection } from '../../packages/core/dist/queue/redisConnection.js';
import { startPrivateRedis } from '../lib/redis.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [key, value = 'true'] = a.replace(/^--/, '').split('=');
    return [key, value];
  }),
);
const N = Number(args.n ?? 10_000);
const RUNS = Number(args.runs ?? 5);
const CONCURRENCIES = String(args.concurrency ?? '1,64')
  .split(',')
  .map(Number);
const BATCH = 1_000;
const RETRY = { maxAttempts: 3, backoffMs: () => 100 };
if (!Number.isInteger(N) || N < 1000 || !Number.isInteger(RUNS) || RUNS < 1) {
  process.stderr.write(`bench: --n is ${args.n}, --runs is ${args.runs}; use n >= 1000 and runs >= 1\n`);
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) =>
  `${Math.round(median(xs)).toLocaleString('en')} (${Math.round(Math.min(...xs)).toLocaleString('en')}–${Math.round(Math.max(...xs)).toLocaleString('en')})`;

const specs = (n, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({ payload: { i: i + offset, fn: 'noop' } }));

async function until(check) {
  while (!(await check())) await sleep(5);
}

/** Enqueue N (batches of 1000), then consume them all; returns tasks/s of each phase. */
async function runBackend(backend, concurrency) {
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) await backend.enqueue(specs(Math.min(BATCH, N - i), i));
  const t1 = performance.now();
  let handled = 0;
  const consumer = backend.consume(
    async () => {
      handled++;
      return null;
    },
    { concurrency },
  );
  await until(async () => {
    if (handled < N) return false;
    const s = await backend.stats();
    return s.ready === 0 && s.inFlight === 0;
  });
  const t2 = performance.now();
  await consumer.close();
  return { enqueue: (N * 1000) / (t1 - t0), consume: (N * 1000) / (t2 - t1), total: (N * 1000) / (t2 - t0) };
}

/** The same jobs and options through BullMQ's own Queue.addBulk and Worker. */
async function runRawBullMQ(connection, prefix, queue, concurrency) {
  const q = new Queue(queue, { connection, prefix });
  const opts = {
    attempts: 3,
    backoff: { type: 'fixed', delay: 100 },
    removeOnComplete: { age: 300, count: 10_000 },
  };
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH)
    await q.addBulk(specs(Math.min(BATCH, N - i), i).map((s) => ({ name: 'task', data: s.payload, opts })));
  const t1 = performance.now();
  let completed = 0;
  const worker = new Worker(queue, async () => null, {
    connection: { ...connection, maxRetriesPerRequest: null },
    prefix,
    concurrency,
    lockDuration: 30_000,
    stalledInterval: 30_000,
  });
  worker.on('completed', () => {
    completed++;
  });
  await until(() => completed >= N);
  const t2 = performance.now();
  await worker.close();
  await q.close();
  return { enqueue: (N * 1000) / (t1 - t0), consume: (N * 1000) / (t2 - t1), total: (N * 1000) / (t2 - t0) };
}

async function redisCpuSeconds(admin) {
  const info = await admin.info('cpu');
  const read = (key) => Number(info.match(new RegExp(`${key}:([\\d.]+)`))?.[1] ?? 0);
  return read('used_cpu_sys') + read('used_cpu_user');
}

const results = [];
const record = (label, concurrency, runs, redisUs) =>
  results.push({
    label,
    concurrency,
    enqueue: fmt(runs.map((r) => r.enqueue)),
    consume: fmt(runs.map((r) => r.consume)),
    total: fmt(runs.map((r) => r.total)),
    redisUs: redisUs === undefined ? '' : `${Math.round(median(redisUs))}`,
  });

process.stderr.write(
  `bench: n=${N} runs=${RUNS} concurrency=${CONCURRENCIES.join(',')} on ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}\n`,
);

for (const concurrency of CONCURRENCIES) {
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const backend = createMemoryBackend({ queue: `bench-${r}`, retry: RETRY });
    runs.push(await runBackend(backend, concurrency));
    await backend.close();
  }
  record('memory', concurrency, runs);
}

const redis = await startPrivateRedis(args.redis ?? process.env.DROVER_REDIS_URL);
const connection = resolveRedisConnection(redis.url);
const admin = new Redis(connection);
try {
  const version = (await admin.info('server')).match(/redis_version:(\S+)/)?.[1];
  for (const concurrency of CONCURRENCIES) {
    const ours = [];
    const raw = [];
    const oursCpu = [];
    const rawCpu = [];
    for (let r = 0; r < RUNS; r++) {
      const prefix = `bench-${process.pid}-${r}`;
      const order = r % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours'];
      for (const which of order) {
        const cpu0 = await redisCpuSeconds(admin);
        if (which === 'ours') {
          const backend = await createBullMQBackend({
            connection: redis.url,
            prefix,
            queue: `ours-${concurrency}`,
            retry: RETRY,
          });
          ours.push(await runBackend(backend, concurrency));
          await backend.close();
          oursCpu.push((((await redisCpuSeconds(admin)) - cpu0) * 1e6) / N);
        } else {
          raw.push(await runRawBullMQ(connection, prefix, `raw-${concurrency}`, concurrency));
          rawCpu.push((((await redisCpuSeconds(admin)) - cpu0) * 1e6) / N);
        }
      }
      for (let cursor = '0'; ; ) {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await admin.del(...keys);
        cursor = next;
        if (cursor === '0') break;
      }
    }
    record('BullMQ backend (drover)', concurrency, ours, oursCpu);
    record('BullMQ Worker (raw)', concurrency, raw, rawCpu);
  }
  process.stdout.write(
    `\nRedis ${version} on a unix socket; tasks/s, median (min–max) of ${RUNS} runs, n=${N}\n\n`,
  );
} finally {
  admin.disconnect();
  await redis.stop();
}

process.stdout.write(
  '| backend | concurrency | enqueue/s | consume/s | enqueue+consume/s | Redis CPU µs/task |\n',
);
process.stdout.write('| --- | --- | --- | --- | --- | --- |\n');
for (const r of results)
  process.stdout.write(
    `| ${r.label} | ${r.concurrency} | ${r.enqueue} | ${r.consume} | ${r.total} | ${r.redisUs} |\n`,
  );

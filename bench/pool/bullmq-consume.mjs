// No-op jobs consumed from one Redis: through the Pool's BullMQ backend (a master and its worker
// processes, tasks over IPC), or by BullMQ's own Worker (the anchors): in as many processes as the
// pool has workers, each with its share of the concurrency ('procs'), or in one process with all
// of it ('raw'). The queue is filled first; the clock runs from the start of consumption (every
// consumer process ready) until the last job completed.
// argv: <mode: pool|procs|raw> <jobs> <concurrency> <workers>; env REDIS_URL, BENCH_PREFIX.
// Prints one JSON line {mode, jobs, concurrency, ms, perSec}. Pool mode runs as master and worker;
// procs mode runs as parent and as 'procs-child' (forked).
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from '@drover/core';
import { bullmqBackend, createBullMQBackend } from '@drover/core/bullmq';
import { Queue, Worker } from 'bullmq';
import { resolveRedisConnection } from '../../packages/core/dist/queue/redisConnection.js';
import { task } from './payload.mjs';

const [mode = 'pool', jobsArg = '5000', concurrencyArg = '64', workersArg = '2'] = process.argv.slice(2);
const jobs = Number(jobsArg);
const concurrency = Number(concurrencyArg);
const workers = Number(workersArg);
const url = process.env.REDIS_URL;
const prefix = process.env.BENCH_PREFIX ?? `bench-pool-${process.pid}`;
const queue = `noop-${mode === 'procs-child' ? 'procs' : mode}`;
const retry = { maxAttempts: 3, backoffMs: () => 100 };
// The same job options for both: what the drover backend sets on every job.
const jobOptions = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 100 },
  removeOnComplete: { age: 300, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

async function fill() {
  const producer = await createBullMQBackend({ connection: url, prefix, queue, retry });
  for (let i = 0; i < jobs; i += 1000) {
    const n = Math.min(1000, jobs - i);
    await producer.enqueue(Array.from({ length: n }, (_, k) => ({ payload: task(i + k) })));
  }
  await producer.close();
}

/** CPU seconds (user + system) a process used so far, from /proc (10 ms resolution). */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * `cpuUs`: client CPU per job, this process and its workers (Redis's own CPU not included);
 * `workersCpuUs`: the workers' part of it.
 */
function report(ms, cpu, workersCpu = 0) {
  const perJob = (seconds) => Math.round((seconds * 1e6) / jobs);
  const perSec = Math.round((jobs / ms) * 1000);
  const line = {
    mode,
    jobs,
    concurrency,
    workers,
    ms,
    perSec,
    cpuUs: perJob(cpu),
    workersCpuUs: perJob(workersCpu),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The BullMQ Worker every anchor runs: a no-op processor, the same settings. */
function bullWorker(redis, workerConcurrency, autorun = true) {
  return new Worker(queue, async () => null, {
    connection: { ...redis, maxRetriesPerRequest: null },
    prefix,
    concurrency: workerConcurrency,
    lockDuration: 30_000,
    stalledInterval: 30_000,
    removeOnComplete: jobOptions.removeOnComplete,
    autorun,
  });
}

if (mode === 'procs-child') {
  // One of the anchor's processes: ready, then consume on 'go'; completions counted to the parent
  // once per turn of the event loop, as a pool worker reports its outcomes.
  const worker = bullWorker(resolveRedisConnection(url), concurrency, false);
  let done = 0;
  let scheduled = false;
  worker.on('completed', () => {
    done++;
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      process.send({ done });
      done = 0;
    });
  });
  await worker.waitUntilReady();
  process.send({ ready: true });
  process.on('message', (m) => {
    if (m === 'go') void worker.run();
    else if (m === 'close') void worker.close().then(() => process.exit(0));
  });
} else if (mode === 'procs') {
  await fill();
  const script = new URL(import.meta.url).pathname;
  const share = Math.max(1, Math.round(concurrency / workers));
  const children = Array.from({ length: workers }, () =>
    fork(script, ['procs-child', String(jobs), String(share), '1'], { env: process.env }),
  );
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))));
  let done = 0;
  let finish;
  const all = new Promise((resolve) => {
    finish = resolve;
  });
  for (const child of children)
    child.on('message', (m) => {
      done += m.done ?? 0;
      if (done >= jobs) finish();
    });
  const pids = children.map((c) => c.pid);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const childrenCpu0 = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  for (const child of children) child.send('go');
  await all;
  const cpu = process.cpuUsage(cpu0);
  const childrenCpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - childrenCpu0;
  report(performance.now() - t0, (cpu.user + cpu.system) / 1e6 + childrenCpu, childrenCpu);
  await Promise.all(
    children.map((c) => {
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.send('close');
      return exited;
    }),
  );
  const redis = resolveRedisConnection(url);
  const q = new Queue(queue, { connection: redis, prefix });
  await q.obliterate({ force: true });
  await q.close();
} else if (mode === 'raw') {
  await fill();
  const redis = resolveRedisConnection(url);
  let done = 0;
  let finish;
  const all = new Promise((resolve) => {
    finish = resolve;
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = bullWorker(redis, concurrency);
  worker.on('completed', () => {
    if (++done === jobs) finish();
  });
  await all;
  const cpu = process.cpuUsage(cpu0);
  report(performance.now() - t0, (cpu.user + cpu.system) / 1e6);
  await worker.close();
  const q = new Queue(queue, { connection: redis, prefix });
  await q.obliterate({ force: true });
  await q.close();
} else {
  const runDir = process.env.BENCH_RUN_DIR ?? mkdtempSync(join(tmpdir(), 'drover-bench-bullmq-'));
  process.env.BENCH_RUN_DIR = runDir;
  const pool = new Pool(
    {
      baseTitle: 'bench-bullmq',
      queueName: queue,
      minWorkers: workers,
      concurrencyPerWorker: Math.max(1, Math.round(concurrency / workers)),
      maxAttempts: 3,
      backoff: 100,
      runDir,
      logLevel: 'warning',
      env: { BENCH_RUN_DIR: runDir },
      queue: bullmqBackend({ connection: url, prefix }),
    },
    { exitProcess: false },
  ).setTaskHandler(() => null);
  if (!pool.isWorker) await fill();
  let done = 0;
  let finish;
  const all = new Promise((resolve) => {
    finish = resolve;
  });
  pool.on('taskDone', () => {
    if (++done === jobs) finish();
  });
  const workerPids = [];
  pool.on('workerReady', ({ pid }) => workerPids.push(pid));
  await pool.start();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const workersCpu0 = workerPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  await all;
  const cpu = process.cpuUsage(cpu0);
  const workersCpu = workerPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - workersCpu0;
  report(performance.now() - t0, (cpu.user + cpu.system) / 1e6 + workersCpu, workersCpu);
  await pool.stop();
  rmSync(runDir, { recursive: true, force: true });
  process.exit(0);
}

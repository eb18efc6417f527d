#!/usr/bin/env node
// The task pool's benchmarks, as ratios against anchors measured in the same run:
//   1. no-op tasks through the in-memory pool (2 workers) against bare process.send loops with 2
//      workers: one task per submit vs one task per message (256 in flight per worker), and bulk
//      submits (in chunks of 64) vs batches of 64 per message (4 in flight per worker);
//   2. no-op jobs through the pool's BullMQ backend (master + 2 workers, 32 in flight each) vs
//      BullMQ's own Worker deployed the same way (2 processes, 32 each), same Redis; and, for scale,
//      vs one BullMQ process with all 64;
//   3. time until a SIGKILLed worker's task completes on another worker.
// Every repetition runs each case once, in an order that alternates between repetitions; medians
// and min-max over the repetitions, ratios taken within each repetition.
//
// Usage: node bench/pool/run.mjs [--runs=5] [--write] [--redis=unix:///path/redis.sock]
// Needs the built package (npx tsc -p packages/core/tsconfig.json). Without --redis (or
// DROVER_REDIS_URL) it starts a private redis-server on a unix socket and stops it at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrivateRedis } from '../lib/redis.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [key, value = 'true'] = a.replace(/^--/, '').split('=');
    return [key, value];
  }),
);
const RUNS = Number(args.runs ?? 5);
const write = args.write === 'true';
if (!Number.isInteger(RUNS) || RUNS < 1) {
  process.stderr.write(`bench: --runs is ${args.runs}; use an integer >= 1\n`);
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (xs, f) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const k = (n) => `${(n / 1000).toFixed(1)}k`;
const x2 = (n) => n.toFixed(2);
const ms = (n) => n.toFixed(1);

/** Runs one bench script in its own process and returns the JSON line it printed. */
function runScript(script, argv, env = {}) {
  const result = spawnSync(process.execPath, [join(here, script), ...argv], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (result.status !== 0 || !line)
    throw new Error(
      `bench: ${script} ${argv.join(' ')} failed (${result.status}):\n${result.stderr.slice(-2000)}`,
    );
  return JSON.parse(line);
}

/** CPU seconds (user + system) process `pid` has used, from /proc; null when it is not ours to read. */
function cpuSecondsOf(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const CASES = {
  bareWindowed: () => runScript('bare-ipc.mjs', ['windowed', '200000', '2']),
  bareBatched: () => runScript('bare-ipc.mjs', ['batched', '200000', '2']),
  poolSingle: () => runScript('pool-memory.mjs', ['single', '100000', '2', '256']),
  poolChunked: () => runScript('pool-memory.mjs', ['chunked', '200000', '2', '8'], { CHUNK: '64' }),
  poolBulk: () => runScript('pool-memory.mjs', ['bulk', '100000', '2', '256']),
  queueSingle: () => runScript('queue-only.mjs', ['single', '100000']),
  queueBulk: () => runScript('queue-only.mjs', ['bulk', '100000']),
};

const loadBefore = loadavg()[0];
const extraCa = process.env.NODE_EXTRA_CA_CERTS ? `set (\`${process.env.NODE_EXTRA_CA_CERTS}\`)` : 'not set';
const redis = await startPrivateRedis(args.redis ?? process.env.DROVER_REDIS_URL);
const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/)?.[1];
const rows = Object.fromEntries(Object.keys(CASES).map((name) => [name, []]));
const BULL_MODES = ['raw', 'procs', 'pool'];
const bull = { raw: [], procs: [], pool: [] };
const bullCpu = { raw: [], procs: [], pool: [] };
const bullWorkersCpu = [];
const redisCpu = { raw: [], procs: [], pool: [] };
const ratios = { single: [], chunked: [], bulk: [], bullmq: [], bullmqOne: [] };
let recovery;
try {
  for (let r = 0; r < RUNS; r++) {
    const names = Object.keys(CASES);
    const order = r % 2 === 0 ? names : [...names].reverse();
    const got = {};
    for (const name of order) {
      got[name] = CASES[name]().perSec;
      rows[name].push(got[name]);
    }
    ratios.single.push(got.poolSingle / got.bareWindowed);
    ratios.chunked.push(got.poolChunked / got.bareBatched);
    ratios.bulk.push(got.poolBulk / got.bareBatched);
    const b = {};
    for (const mode of r % 2 === 0 ? BULL_MODES : [...BULL_MODES].reverse()) {
      const redisBefore = cpuSecondsOf(redis.pid);
      const got = runScript('bullmq-consume.mjs', [mode, '5000', '64', '2'], {
        REDIS_URL: redis.url,
        BENCH_PREFIX: `bench-pool-${process.pid}-${r}-${mode}`,
      });
      // Redis's CPU over the whole script (filling the queue included), per consumed job
      const redisAfter = cpuSecondsOf(redis.pid);
      if (redisBefore !== null && redisAfter !== null)
        redisCpu[mode].push(((redisAfter - redisBefore) * 1e6) / got.jobs);
      b[mode] = got.perSec;
      bull[mode].push(got.perSec);
      bullCpu[mode].push(got.cpuUs);
      if (mode === 'pool') bullWorkersCpu.push(got.workersCpuUs);
    }
    ratios.bullmq.push(b.pool / b.procs);
    ratios.bullmqOne.push(b.pool / b.raw);
    process.stderr.write(`bench: repetition ${r + 1}/${RUNS} done\n`);
  }
  const bullmqRecovery = (backoff) =>
    runScript('recovery.mjs', ['bullmq', '10', backoff], {
      REDIS_URL: redis.url,
      BENCH_PREFIX: `bench-rec-${process.pid}-${backoff}`,
    }).ms;
  recovery = {
    memory: runScript('recovery.mjs', ['memory', '10']).ms,
    bullmq: bullmqRecovery('0'),
    memoryDefault: runScript('recovery.mjs', ['memory', '10', 'default']).ms,
    bullmqDefault: bullmqRecovery('default'),
  };
} finally {
  await redis.stop();
}
const loadAfter = loadavg()[0];

const throughput = [
  '| case (no-op tasks, 2 workers) | tasks/s, median (min–max) |',
  '| --- | ---: |',
  `| bare \`process.send\`, 1 task per message, 256 in flight per worker | ${range(rows.bareWindowed, k)} |`,
  `| **pool, one \`submit\` per task**, \`concurrencyPerWorker\` 256 | ${range(rows.poolSingle, k)} |`,
  `| bare \`process.send\`, 64 tasks per message, 4 in flight per worker | ${range(rows.bareBatched, k)} |`,
  `| **pool, \`submitBulk\` in chunks of 64**, \`concurrencyPerWorker\` 8 | ${range(rows.poolChunked, k)} |`,
  `| pool, \`submitBulk\` one queue task per payload, \`concurrencyPerWorker\` 256 | ${range(rows.poolBulk, k)} |`,
  `| the in-memory queue alone (no IPC, no workers), one submit per task, 512 in flight | ${range(rows.queueSingle, k)} |`,
  `| the in-memory queue alone (no IPC, no workers), bulks of 4096, one queue task per payload | ${range(rows.queueBulk, k)} |`,
].join('\n');
const ratioTable = [
  '| ratio (within each repetition) | median (min–max) | target |',
  '| --- | ---: | ---: |',
  `| pool one submit per task / bare 1 task per message | ${range(ratios.single, x2)} | ≥ 0.5 |`,
  `| pool bulk in chunks of 64 / bare 64 per message | ${range(ratios.chunked, x2)} | ≥ 0.5 |`,
  `| pool bulk, one queue task per payload / bare 64 per message | ${range(ratios.bulk, x2)} | - |`,
  `| pool on BullMQ / BullMQ's own Worker in as many processes (2 × 32) | ${range(ratios.bullmq, x2)} | ≥ 0.9 |`,
  `| pool on BullMQ / BullMQ's own Worker in one process (1 × 64) | ${range(ratios.bullmqOne, x2)} | - |`,
].join('\n');
const redisCell = (mode) =>
  redisCpu[mode].length ? range(redisCpu[mode], (n) => n.toFixed(0)) : 'not measured';
const bullTable = [
  '| case (5000 no-op jobs, concurrency 64, queue filled first) | jobs/s, median (min–max) | client CPU µs per job | Redis CPU µs per job (filling included) |',
  '| --- | ---: | ---: | ---: |',
  `| BullMQ's own \`Worker\`, no-op processor, 2 processes, 32 in flight each | ${range(bull.procs, (n) => n.toFixed(0))} | ${range(bullCpu.procs, (n) => n.toFixed(0))} | ${redisCell('procs')} |`,
  `| BullMQ's own \`Worker\`, no-op processor, one process, 64 in flight | ${range(bull.raw, (n) => n.toFixed(0))} | ${range(bullCpu.raw, (n) => n.toFixed(0))} | ${redisCell('raw')} |`,
  `| **pool on the BullMQ backend**: master + 2 workers, 32 in flight each | ${range(bull.pool, (n) => n.toFixed(0))} | ${range(bullCpu.pool, (n) => n.toFixed(0))} | ${redisCell('pool')} |`,
].join('\n');
const recoveryTable = [
  '| queue | backoff | ms from the SIGKILL to the result of attempt 2, median (min–max), 10 kills |',
  '| --- | --- | ---: |',
  `| in memory | 0 | ${range(recovery.memory, ms)} |`,
  `| BullMQ | 0 | ${range(recovery.bullmq, ms)} |`,
  `| in memory | default (100 ms, jitter 0.2) | ${range(recovery.memoryDefault, ms)} |`,
  `| BullMQ | default (100 ms, jitter 0.2) | ${range(recovery.bullmqDefault, ms)} |`,
].join('\n');

const section = [
  '## Task pool',
  '',
  `Command: \`node bench/pool/run.mjs --runs=${RUNS} --write\` (scripts in \`bench/pool/\`; the built package). ` +
    `Node ${process.version}, ${cpus().length} CPUs, Redis ${version ?? '?'} on a unix socket, ` +
    `measured ${new Date().toISOString().slice(0, 10)}; 1-minute load average ${loadBefore.toFixed(1)} before, ` +
    `${loadAfter.toFixed(1)} after (the machine is shared with other test runs: absolute figures move 2x ` +
    `between repetitions, so compare the ratios, taken within each repetition). NODE_EXTRA_CA_CERTS: ${extraCa} ` +
    '(it costs start-up time only; every figure here is taken after start-up).',
  '',
  `Method: ${RUNS} repetitions; each runs every case once as a fresh process, in an order that alternates ` +
    'between repetitions, after a warm-up pass of 20% inside the process. The task is a ~70-byte JSON object ' +
    '(`bench/pool/payload.mjs`); the handler returns it. JSON serialization on every channel.',
  '',
  '### In-memory queue, 2 workers',
  '',
  throughput,
  '',
  '### BullMQ on one Redis',
  '',
  bullTable,
  '',
  '### Ratios',
  '',
  ratioTable,
  '',
  '### A SIGKILLed worker',
  '',
  recoveryTable,
  '',
  "The task's first attempt sleeps; its worker is SIGKILLed 50 ms into it; the submitter gets the result of " +
    'attempt 2 from the other worker. `backoff: 0` is the mechanism (exit seen, attempt failed, task ' +
    'redelivered, dispatched, IPC); a backoff adds its delay (default: 100 ms, lowered by up to 20% at ' +
    'random, doubling). Through BullMQ the retry goes through Redis (failed, then delayed or waiting, then fetched).',
  '',
  '### Reading the figures',
  '',
  "- The master is the pool's bottleneck: one thread runs the queue and both ends of every IPC message, " +
    'while the workers mostly wait (75-90% idle in CPU profiles, `node --cpu-prof`, of these scripts).',
  '- One submit per task: the in-memory queue alone, with the same submit pattern and a handler that ' +
    `answers on the next turn instead of a worker, does ${k(median(rows.queueSingle))}/s (median), ` +
    `${x2(median(rows.queueSingle) / median(rows.bareWindowed))}x the bare channel's ${k(median(rows.bareWindowed))}/s. ` +
    `The pool, which adds the channel and the workers, does ${x2(median(rows.poolSingle) / median(rows.queueSingle))}x ` +
    "the queue alone. In a CPU profile of the pool's master (100k tasks) the channel's serialisation, writes " +
    'and parsing take about 29% of the time, GC about 18%, the queue about 12% (copying payloads, checking ' +
    "results, waiters), the pool's dispatch about 5%; the rest is idle. Payloads are copied as plain data at " +
    "enqueue (a JSON round trip only for what is not plain: a Date, a toJSON, undefined, NaN), the pool's " +
    'consumer hands the queued copy to the channel as it is, and results from IPC are kept after a check that ' +
    'they are plain: about 9-10 µs of master CPU per task.',
  '- In bulk, chunks (`submitBulk(payloads, { chunkSize: 64 })`) pay the queue once per 64 tasks: ' +
    `${x2(median(rows.poolChunked) / median(rows.poolBulk))}x the throughput of one queue task per payload ` +
    "(medians). In a profile, IPC (serialising and parsing the chunks) is most of the master's work; the " +
    'queue copies each chunk once at enqueue and checks its result once.',
  `- BullMQ: the pool's master consumes as BullMQ's Worker does (it runs one) and hands each job to a ` +
    'worker process, about 12 jobs per IPC message (20,000 jobs went out in about 1,600 messages). The target ' +
    'is read as the in-memory one is ("with the same workers"): the anchor is BullMQ\'s Worker deployed as the ' +
    'pool is, in 2 processes with 32 jobs in flight each, and the pool does ' +
    `${x2(median(ratios.bullmq))}x its throughput (median of the ratios). Client CPU per job, every process ` +
    `together: pool ${Math.round(median(bullCpu.pool))} µs (its workers' part ` +
    `${Math.round(median(bullWorkersCpu))} µs), BullMQ in 2 processes ${Math.round(median(bullCpu.procs))} µs, ` +
    `BullMQ in one process ${Math.round(median(bullCpu.raw))} µs. ` +
    `One BullMQ process with all 64 in flight is faster still: the pool does ${x2(median(ratios.bullmqOne))}x ` +
    'its throughput. Redis spends about as much CPU per job again (its scripts; last column), on one thread, so ' +
    'on these 2 cores a quiet run is bound by CPU, and every busy process beyond one costs throughput: a second ' +
    "BullMQ process costs about what the pool's hop costs. In a CPU profile of the pool's master (20,000 jobs, " +
    "`node --cpu-prof`), ioredis, BullMQ and msgpackr take about 40 % of its busy time, as in BullMQ's own " +
    "Worker; the hop adds the channel's serialisation and parsing (about 10 %), the writes that hand jobs to the " +
    'worker processes (about 8 %), GC (about 11 %) and promise chains. Workers that consumed from Redis ' +
    'themselves would not close the gap to one process either: 2 processes each running a BullMQ Worker ' +
    '(32 in flight) and reporting their jobs to a parent over IPC did 5.1k-5.6k jobs/s in a prototype run where ' +
    'one such process with 64 in flight did 6.6k-7.5k.',
  '',
  `Targets: pool one submit per task / bare, ${x2(median(ratios.single))} (median) against ≥ 0.5: ` +
    `**${median(ratios.single) >= 0.5 ? 'met' : 'missed'}**; pool bulk in chunks of 64 / bare batched, ` +
    `${x2(median(ratios.chunked))} against ≥ 0.5: **${median(ratios.chunked) >= 0.5 ? 'met' : 'missed'}**; ` +
    `pool on BullMQ / BullMQ's Worker in as many processes, ${x2(median(ratios.bullmq))} against ≥ 0.9: ` +
    `**${median(ratios.bullmq) >= 0.9 ? 'met' : 'missed'}**.`,
  '',
].join('\n');

process.stdout.write(`${section}\n`);
if (write) {
  const doc = join(root, 'docs/benchmarks.md');
  const intro =
    '# Benchmarks\n\nEvery figure is a ratio against an anchor measured in the same run, on a 2-core machine shared with other work.\n\n';
  const current = existsSync(doc) ? readFileSync(doc, 'utf8') : intro;
  const start = current.search(/^## Task pool\s*$/m);
  let next;
  if (start >= 0) {
    const rest = current.slice(start + 1);
    const after = rest.search(/^## /m);
    next = `${current.slice(0, start)}${section}${after >= 0 ? `\n${rest.slice(after)}` : ''}`;
  } else {
    next = `${current.replace(/\n*$/, '\n\n')}${section}`;
  }
  writeFileSync(doc, next);
  process.stderr.write(`bench: wrote the "## Task pool" section of ${doc}\n`);
}

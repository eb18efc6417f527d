// The consumer: a task pool with 3 permanent workers and up to 10 in all. When the backlog in
// Redis grows beyond what the workers take, temporary workers start; each leaves after
// IDLE_MS without a task. Every change in the number of processes is printed.
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/redis-pool/consumer.mjs
//   (then, in another terminal) node examples/redis-pool/producer.mjs 100
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from '@drover/core';
import { shared } from './settings.mjs';

const pool = new Pool({
  baseTitle: 'redis-pool',
  minWorkers: 3,
  maxWorkers: 10,
  idleTimeout: Number(process.env.IDLE_MS ?? 3000),
  scaleInterval: 250,
  stopTimeout: 5000,
  ...(process.env.RUN_DIR ? { runDir: process.env.RUN_DIR } : {}),
  ...shared,
  onError: (error, task) =>
    console.log(`task ${task.taskId} failed after ${task.attempts} attempts: ${error.message}`),
}).setTaskHandler(async ({ n, ms }, ctx) => {
  const me = `[${ctx.worker.kind}] pid ${process.pid}`;
  console.log(`${me} consuming task ${ctx.taskId} (n=${n}, attempt ${ctx.attempt})`);
  await sleep(ms, undefined, { signal: ctx.signal });
  console.log(`${me} finished task ${ctx.taskId}`);
  return { n, square: n * n, pid: process.pid, kind: ctx.worker.kind };
});

// The group's processes: this master, the reaper (a tiny watchdog that kills the workers if the
// master dies) and the workers. `ps` shows the same count: `ps -eo args | grep -c '^drover:.*:redis-pool'`.
let workers = 0;
const count = (why) =>
  console.log(
    `processes: ${workers + 2} (master + reaper + ${workers} worker${workers === 1 ? '' : 's'}) after ${why}`,
  );
pool.on('workerStart', () => {
  workers++;
  count('a worker started');
});
pool.on('workerExit', ({ pid, reason }) => {
  workers--;
  count(`worker ${pid} exited (${reason})`);
});
pool.on('taskDone', async ({ taskId }) => {
  const { ready, delayed } = await pool.stats().catch(() => ({ ready: '?', delayed: 0 }));
  console.log(`task ${taskId} done, remaining ${typeof ready === 'number' ? ready + delayed : ready}`);
});
pool.on('scaleUp', ({ started, backlog, workers: total }) =>
  console.log(`backlog ${backlog}: started ${started} temporary workers, ${total} workers now`),
);

await pool.start();
if (pool.isMaster) console.log(`consumer ready: pid ${process.pid}, queue '${shared.queueName}'`);

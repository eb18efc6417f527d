// No-op tasks through a Pool on the in-memory queue. Master and workers run this same script.
// argv: <mode: single|bulk> <tasks> <workers> <window> ; prints one JSON line {mode, tasks, ms, perSec}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from '@drover/core';
import { task } from './payload.mjs';

const [mode = 'single', tasksArg = '200000', workersArg = '2', windowArg = '256'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const workers = Number(workersArg);
const window = Number(windowArg);
const runDir = process.env.BENCH_RUN_DIR ?? mkdtempSync(join(tmpdir(), 'drover-bench-pool-'));
process.env.BENCH_RUN_DIR = runDir;

const pool = new Pool(
  {
    baseTitle: 'bench-pool',
    minWorkers: workers,
    concurrencyPerWorker: window,
    runDir,
    logLevel: 'warning',
    env: { BENCH_RUN_DIR: runDir },
  },
  { exitProcess: false },
).setTaskHandler((p) => p);

await pool.start();
if (pool.isMaster) {
  const warm = Math.min(20_000, tasks / 5);
  await run(warm);
  const t0 = process.hrtime.bigint();
  await run(tasks);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ mode, tasks, workers, window, ms, perSec: Math.round((tasks / ms) * 1000) })}\n`,
  );
  await pool.stop();
  rmSync(runDir, { recursive: true, force: true });
  process.exit(0);
}

async function run(n) {
  if (mode === 'bulk' || mode === 'chunked') {
    // bulk submits of 4096 tasks, two in flight so the workers never wait for the producer
    const chunk = 4096;
    let sent = 0;
    const next = async () => {
      while (sent < n) {
        const size = Math.min(chunk, n - sent);
        sent += size;
        const payloads = Array.from({ length: size }, (_, i) => task(sent - size + i));
        await pool.submitBulk(payloads, {
          chunkSize: mode === 'chunked' ? Number(process.env.CHUNK ?? 64) : 1,
        });
      }
    };
    await Promise.all([next(), next()]);
    return;
  }
  // one task per submit, keeping workers × window tasks in flight
  let sent = 0;
  const inFlight = workers * window;
  await new Promise((resolve, reject) => {
    let done = 0;
    const one = () => {
      const i = sent++;
      pool.submit(task(i)).then(() => {
        done++;
        if (done === n) resolve();
        else if (sent < n) one();
      }, reject);
    };
    for (let k = 0; k < Math.min(inFlight, n); k++) one();
  });
}

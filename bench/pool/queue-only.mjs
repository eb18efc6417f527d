// The in-memory queue alone, in this process: the pool's submit paths with the handler called in
// place of a worker (no IPC). What the pool's master would do if the channel cost nothing.
// argv: <mode: single|bulk> <tasks>; prints one JSON line {mode, tasks, ms, perSec}.
import { createMemoryBackend } from '@drover/core/memory';
import { task } from './payload.mjs';

const [mode = 'single', tasksArg = '100000'] = process.argv.slice(2);
const tasks = Number(tasksArg);
const backend = createMemoryBackend({ queue: 'bench', retry: { maxAttempts: 3, backoffMs: () => 0 } });
// the handler settles on a later turn, as a worker's result would
const consumer = backend.consume((d) => new Promise((resolve) => setImmediate(resolve, d.payload)), {
  concurrency: 512,
});

/** As pool-memory.mjs: one enqueue + wait per task, 512 in flight; or bulks of 4096, two at a time. */
async function run(n) {
  if (mode === 'bulk') {
    let sent = 0;
    const next = async () => {
      while (sent < n) {
        const size = Math.min(4096, n - sent);
        sent += size;
        const specs = Array.from({ length: size }, (_, i) => ({ payload: task(sent - size + i) }));
        const ids = await backend.enqueue(specs);
        await Promise.all(ids.map((id) => backend.waitForResult(id)));
      }
    };
    await Promise.all([next(), next()]);
    return;
  }
  let sent = 0;
  let done = 0;
  await new Promise((resolve, reject) => {
    const one = () => {
      const i = sent++;
      backend
        .enqueue([{ payload: task(i) }])
        .then(([id]) => backend.waitForResult(id))
        .then(() => {
          if (++done === n) resolve();
          else if (sent < n) one();
        }, reject);
    };
    for (let k = 0; k < Math.min(512, n); k++) one();
  });
}

await run(Math.min(20_000, tasks / 5));
const t0 = process.hrtime.bigint();
await run(tasks);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(
  `${JSON.stringify({ mode: `queue-only-${mode}`, tasks, ms, perSec: Math.round((tasks / ms) * 1000) })}\n`,
);
await consumer.close();
await backend.close();

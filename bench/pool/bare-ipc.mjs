// The channel's limit: bare process.send loops (JSON serialization) between this process and
// forked echo workers, the anchor for the pool's figures.
// argv: <mode: windowed|batched> <tasks> <workers>; prints one JSON line {mode, tasks, ms, perSec}.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { task } from './payload.mjs';

if (process.argv[2] === 'echo') {
  process.on('message', (m) => process.send(m));
  process.on('disconnect', () => process.exit(0));
} else {
  const [mode = 'windowed', tasksArg = '200000', workersArg = '2'] = process.argv.slice(2);
  const tasks = Number(tasksArg);
  const workers = Array.from({ length: Number(workersArg) }, () =>
    fork(fileURLToPath(import.meta.url), ['echo'], { serialization: 'json' }),
  );
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('spawn', resolve))));
  await run(Math.min(20_000, tasks / 5));
  const t0 = process.hrtime.bigint();
  await run(tasks);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ mode, tasks, workers: workers.length, ms, perSec: Math.round((tasks / ms) * 1000) })}\n`,
  );
  for (const w of workers) w.disconnect();

  /** Each worker keeps 256 tasks in flight: 256 messages of one task, or 4 batches of 64. */
  function run(n) {
    const perMessage = mode === 'batched' ? 64 : 1;
    const window = 256 / perMessage;
    let sent = 0;
    let done = 0;
    return new Promise((resolve) => {
      const send = (w) => {
        if (sent >= n) return;
        const k = Math.min(perMessage, n - sent);
        const batch = [];
        for (let i = 0; i < k; i++) batch.push(task(sent++));
        w.send(perMessage === 1 ? batch[0] : batch);
      };
      for (const w of workers) {
        w.removeAllListeners('message');
        w.on('message', (m) => {
          done += Array.isArray(m) ? m.length : 1;
          if (done >= n) resolve();
          else send(w);
        });
        for (let i = 0; i < window; i++) send(w);
      }
    });
  }
}

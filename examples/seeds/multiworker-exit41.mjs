// MultiWorker's example: 6 workers that each do some work and exit(41). 41 is not the normal
// exit code, so each is replaced on the same PIN at once, as MultiWorker does.
//
//   node examples/seeds/multiworker-exit41.mjs      (Ctrl-C to stop)
import { Manage } from '@drover/core';

const manage = new Manage({
  baseTitle: 'multiworker',
  maxWorkerNum: 6,
  normalExitCode: 0,
  // A worker here lives 1-3 s. Under the default stableAfterMs (10 s) every exit(41) after the
  // first would count as a fast crash in a row, and its respawn would back off, the delay doubling
  // up to 30 s. A worker that lived 0.5 s counts as stable, so it is replaced at once; a crash
  // sooner than that still backs off.
  restart: { stableAfterMs: 500 },
}).setWork(async (worker) => {
  console.log(`PIN ${worker.pin} pid ${worker.pid}: working`);
  await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000));
  process.exit(41);
});

manage.on('workerExit', (w) =>
  console.log(`PIN ${w.pin} pid ${w.pid} exited with ${w.code} (${w.reason}): replaced on the same PIN`),
);
manage.on('workerBackoff', (w) =>
  console.log(`PIN ${w.pin} in backoff for ${w.delayMs} ms (crash ${w.streak} in a row)`),
);
await manage.start();

// MultiWorker's example: 6 workers that each do some work and exit(41). 41 is not the normal
// exit code, so each is replaced on the same PIN at once, as MultiWorker does.
//
//   node examples/seeds/multiworker-exit41.mjs      (Ctrl-C to stop)
import { Manage } from '@drover/core';

const manage = new Manage({ baseTitle: 'multiworker', maxWorkerNum: 6, normalExitCode: 0 }).setWork(
  async (worker) => {
    console.log(`PIN ${worker.pin} pid ${worker.pid}: working`);
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000));
    process.exit(41);
  },
);

manage.on('workerExit', (w) =>
  console.log(`PIN ${w.pin} pid ${w.pid} exited with ${w.code} (${w.reason}): replaced on the same PIN`),
);
await manage.start();

// MultiWorker's signal-controlled loop: the worker loops until a stop is requested, checking
// `worker.signal` (the Node form of signalDispatch() / isExpectStop()).
//
//   node examples/seeds/signal-loop.mjs
//   kill -TERM <master>   graceful stop: each worker finishes its round, then exits
//   kill -HUP <master>    rolling reload: new workers first, then the old ones finish and exit
import { Manage } from '@drover/core';

const manage = new Manage({ baseTitle: 'signal-loop', maxWorkerNum: 2 }).setWork(async (worker) => {
  // one execution that runs until asked to stop
  let round = 0;
  while (!worker.signal.aborted) {
    round++;
    await new Promise((r) => setTimeout(r, 500));
    console.log(`PIN ${worker.pin}: round ${round}`);
  }
  console.log(`PIN ${worker.pin}: stop requested, leaving after round ${round}`);
});

await manage.start();
console.log(`master ${process.pid}: try kill -HUP ${process.pid} or kill -TERM ${process.pid}`);

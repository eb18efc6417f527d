// process_manage's example: init once per worker, work in a loop, recycle after executeTimes.
//
//   node examples/seeds/process-manage.mjs
import { Manage } from '@drover/core';

const manage = new Manage({
  baseTitle: 'process-manage',
  maxWorkerNum: 2,
  executeTimes: 5,
  executeUSleep: 300_000,
})
  .setWorkInit((worker) => {
    console.log(`PIN ${worker.pin} pid ${worker.pid}: init (runs once per process)`);
    return { startedAt: new Date().toISOString() };
  })
  .setWork((worker, resources) => {
    console.log(
      `PIN ${worker.pin} pid ${worker.pid}: execution ${worker.getExecuteTimes() + 1}/5 (process since ${resources.startedAt})`,
    );
  });

manage.on('workerExit', (w) => console.log(`pid ${w.pid} left: ${w.reason}`));
await manage.start();

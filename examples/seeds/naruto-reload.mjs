// naruto's reload: a SIGHUP replaces each worker, and the job a worker is running finishes
// before it exits. Jobs take 3 s; send SIGHUP in the middle of one and watch it complete.
//
//   node examples/seeds/naruto-reload.mjs
//   kill -HUP <master>
import { Manage } from '@drover/core';

const manage = new Manage({ baseTitle: 'naruto', maxWorkerNum: 2, stopTimeout: 10_000 }).setWork(
  async (worker) => {
    const job = Math.floor(Math.random() * 1000);
    console.log(`pid ${worker.pid}: job ${job} started`);
    await new Promise((r) => setTimeout(r, 3000)); // not interrupted by a reload
    console.log(
      `pid ${worker.pid}: job ${job} finished${worker.signal.aborted ? ' (reload requested: leaving now)' : ''}`,
    );
  },
);

manage.on('reload', (r) => console.log(`reload done: ${r.replaced} workers replaced`));
await manage.start();
console.log(`master ${process.pid}: kill -HUP ${process.pid} to reload`);

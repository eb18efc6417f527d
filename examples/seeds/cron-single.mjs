// MultiWorker's single-instance cron job: run from cron every minute; if the previous run is
// still going, this one refuses at once instead of piling up. Each worker does its share and
// finishes (done()); when all have, the master exits 0.
//
//   * * * * * node /path/to/examples/seeds/cron-single.mjs
import { Manage } from '@drover/core';

const manage = new Manage({ baseTitle: 'nightly-report', maxWorkerNum: 3 }).setWork(async (worker) => {
  console.log(`PIN ${worker.pin}: building report part ${worker.pin + 1}/3`);
  await new Promise((r) => setTimeout(r, 2000));
  worker.done();
});

try {
  await manage.start();
} catch (err) {
  if (err.code === 'EALREADYRUNNING') {
    console.error(err.message); // drover: 'nightly-report' is already running (pid N); ...
    process.exit(0); // not an error for cron: the previous run is still busy
  }
  throw err;
}

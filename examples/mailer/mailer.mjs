// The main example: a mailer group of 4 workers draining an outbox.
//
//   node examples/mailer/mailer.mjs          (Ctrl-C stops it cleanly; kill -HUP <master> reloads)
//
// Each worker opens its "connection" once (setWorkInit), then sends one mail per execution
// (setWork). Every 10 mails a worker is recycled; the master prints a status line per worker
// every 3 seconds.
import { Manage } from '@drover/core';

const manage = new Manage({
  baseTitle: 'mailer',
  maxWorkerNum: 4,
  executeTimes: 10,
  executeUSleep: 200_000,
  stopTimeout: 5_000,
})
  .setWorkInit(async (worker) => {
    await new Promise((r) => setTimeout(r, 100)); // connect to the mail server
    return { smtp: `smtp-connection-of-pin-${worker.pin}` };
  })
  .setWork(async (worker, { smtp }) => {
    const id = Math.floor(Math.random() * 1e6);
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 250)); // send it
    console.log(`sent mail #${id} via ${smtp} (${worker.getExecuteTimes() + 1} this process)`);
  });

await manage.start();

if (manage.isMaster) {
  const show = async () => {
    const { master, workers } = await manage.status();
    console.log(
      `-- ${master.title} pid ${master.pid}, ${master.workerCount}/${master.targetWorkers} workers, up ${master.uptimeSeconds}s`,
    );
    for (const w of workers) {
      console.log(
        `   pin ${w.pin}  pid ${String(w.pid ?? '-').padEnd(7)} ${w.state.padEnd(8)} executions ${String(w.executions).padEnd(3)} restarts ${w.restarts}`,
      );
    }
  };
  await show();
  setInterval(show, 3000).unref();
}

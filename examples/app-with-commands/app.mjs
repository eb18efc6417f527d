// A script that routes its own commands, like process_manage's `php app.php start -d`:
//
//   node examples/app-with-commands/app.mjs start        (foreground; Ctrl-C stops it)
//   node examples/app-with-commands/app.mjs start -d     (background; prints the daemon's pid)
//   node examples/app-with-commands/app.mjs status       (table; --json for the data)
//   node examples/app-with-commands/app.mjs reload | restart | stop
//
// The master runs this same file in every worker: there `start` runs the work below.
import { ManageProcessTemplate } from '@drover/cli';
import { Manage } from '@drover/core';

const manage = new Manage({ baseTitle: 'digest', maxWorkerNum: 3, executeUSleep: 500_000 })
  .setWorkInit(async (worker) => ({ sent: 0, pin: worker.pin }))
  .setWork(async (_worker, state) => {
    state.sent += 1;
    console.log(`worker ${state.pin} built digest #${state.sent}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

await new ManageProcessTemplate(manage, { bin: 'app' }).runMain();

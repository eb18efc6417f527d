/**
 * The `drover` bin. `status` is the command run most often, from scripts and monitors: its
 * plain forms are answered by what this file loads itself (discovery, the control client, the
 * table); every other command line loads the router, with inversify and reflect-metadata, lazily.
 */
import { plainStatusRequest } from '../drover/quickStatus.js';
import { statusMain } from '../drover/statusMain.js';

// A write error on the process's own output must not end it with a stack trace, nor end a master
// running in the foreground, whose group goes on with its output dropped (a terminal that hung up
// answers EIO). A reader that went away (`drover logs app | head`) had all it wanted; any other
// error (a full disk) fails the command, which runMain and statusMain say.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', () => {});
}

const argv = process.argv.slice(2);
const status = plainStatusRequest(argv);
if (status) {
  await statusMain(status);
} else {
  const { main } = await import('../drover/main.js');
  await main(argv);
}

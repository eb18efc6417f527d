/**
 * The `drover` bin. `status` is the command run most often, from scripts and monitors: its
 * plain forms are answered by what this file loads itself (discovery, the control client, the
 * table); every other command line loads the router, with inversify and reflect-metadata, lazily.
 */
import { plainStatusRequest } from '../drover/quickStatus.js';
import { statusMain } from '../drover/statusMain.js';

// A reader that closes the pipe early (`drover logs app | head`) has all it wants, and a terminal
// that hung up (an ssh session dropped: EIO) has no one to read: a write failing after that is
// not a failure of the command, and must not end it, nor a master running in the foreground, whose
// group goes on with its output dropped. There is nowhere left to report such an error anyway.
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

/**
 * The `drover` bin. `status` is the command run most often, from scripts and monitors: its
 * plain forms are answered by what this file loads itself (discovery, the control client, the
 * table); every other command line loads the router, with inversify and reflect-metadata, lazily.
 */
import { plainStatusRequest } from '../drover/quickStatus.js';
import { statusMain } from '../drover/statusMain.js';

const argv = process.argv.slice(2);
const status = plainStatusRequest(argv);
if (status) {
  await statusMain(status);
} else {
  const { main } = await import('../drover/main.js');
  await main(argv);
}

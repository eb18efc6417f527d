/**
 * The `drover` bin. `status` is the command run most often, from scripts and monitoring: its
 * plain forms load only what they need (discovery, the control client, the table); every other
 * command line loads the router.
 */
import { plainStatusRequest } from '../drover/quickStatus.js';

const argv = process.argv.slice(2);
const status = plainStatusRequest(argv);
if (status) {
  const { statusMain } = await import('../drover/statusMain.js');
  await statusMain(status);
} else {
  const { main } = await import('../drover/main.js');
  await main(argv);
}

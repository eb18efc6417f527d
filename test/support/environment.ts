import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Settings for every process the tests start.
 *
 * - NODE_EXTRA_CA_CERTS, when the machine sets it, makes every Node process load a CA bundle
 *   at start (~65 ms of CPU each, research node-limits.md). No test speaks TLS, and the suite
 *   starts hundreds of processes: they go without it.
 * - Tests of privilege drop and of permissions run code as `nobody`, which must be able to read
 *   the checkout. When it cannot, say so once, with the fix, instead of letting them time out.
 */
export function setup(): void {
  delete process.env.NODE_EXTRA_CA_CERTS;
  if (process.getuid?.() !== 0) return;
  const nobody = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((f) => f[0] === 'nobody');
  if (!nobody) return;
  const checkout = fileURLToPath(new URL('../../package.json', import.meta.url));
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(checkout)})`], {
    uid: Number(nobody[2]),
    gid: Number(nobody[3]),
    stdio: 'ignore',
  });
  if (probe.status !== 0) {
    process.stderr.write(
      `\nwarning: user 'nobody' cannot read ${checkout}: the tests that run code as 'nobody' will fail.\n` +
        `  Fix: let it traverse the directories above the checkout (chmod o+x on each), as .ci/run does.\n\n`,
    );
  }
}

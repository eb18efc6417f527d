// Ctrl-C while `drover start -d` waits for its daemon ends the wait, not the daemon: the command
// says where the daemon is and how to stop it, instead of vanishing without a word.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, pidAlive, spawnNode, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

describe('drover start -d interrupted while it waits', () => {
  it('names the daemon that goes on starting, and how to stop it; the daemon is left running', async () => {
    const box = openSandbox();
    // an init that takes far longer than the test: the start is still waiting when Ctrl-C comes
    const script = join(box.dir, 'slow-init.mjs');
    writeFileSync(
      script,
      'export async function init() { await new Promise((r) => setTimeout(r, 600_000)); }\nexport async function work() {}\n',
    );
    const launcher = spawnNode([BIN, 'start', script, '-d', '--name=slow'], { env: box.env, cwd: box.dir });
    try {
      const group = await waitUntil('the daemon to answer', async () =>
        (await box.status()).find((g) => g.master.baseTitle === 'slow'),
      );
      const daemon = box.track(group.master.pid);
      launcher.proc.kill('SIGINT');
      const exit = await launcher.waitExit();
      expect(exit.code).toBe(1);
      expect(launcher.output).toContain(
        `drover: stopped waiting for 'slow': its daemon (pid ${daemon}) goes on starting in the background; 'drover status slow' shows how it does, 'drover stop slow' stops it`,
      );
      expect(pidAlive(daemon)).toBe(true);
    } finally {
      await launcher.kill();
    }
  }, 60_000);
});

// A run directory removed under a group in the background (a cleaner of /tmp, a stray rm -rf):
// the master puts back its pid file and socket, and its log file too, so `drover logs` goes on.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

describe('a run directory removed under a background group', () => {
  it('the log file comes back with the pid file and socket; later lines are in it', async () => {
    const box = openSandbox();
    const started = await box.drover([
      'start',
      join(CLI_FIXTURES, 'loop.mjs'),
      '-w',
      '2',
      '-d',
      '--name',
      'job',
    ]);
    expect(started.code, started.stderr).toBe(0);
    await box.waitWorkers('job', 2);
    const log = join(box.runDir, 'logs', 'job.log');

    rmSync(box.runDir, { recursive: true });
    await waitUntil('the group found again', async () =>
      (await box.drover(['status', 'job'])).code === 0 ? true : undefined,
    );
    await waitUntil('the log file back', () => (existsSync(log) ? true : undefined));
    const lines = await waitUntil('worker lines in the new log file', async () => {
      const shown = await box.drover(['logs', 'job', '-n', '200']);
      return /loop worker \d at \d+/.test(shown.stdout) ? shown.stdout : undefined;
    });
    expect(lines).toContain(`log file '${log}' was removed or moved away while written: writing a new one`);
  });
});

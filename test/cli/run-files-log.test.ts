// The run directory moved away under a quiet background group: the master puts back its files,
// and the warning that says so is in the log file it puts back (the one `drover logs` reads), not
// in the file that went away with the directory.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

describe('run files put back', () => {
  it('the warning that the run files were put back is written to the new log file', async () => {
    const box = openSandbox();
    // a plain script that writes nothing after its first line: no write of its own reopens the log
    const started = await box.drover(['start', join(CLI_FIXTURES, 'plain.mjs'), '-d', '--name', 'quiet']);
    expect(started.code, started.stderr).toBe(0);
    await box.waitWorkers('quiet', 1);
    const log = join(box.runDir, 'logs', 'quiet.log');
    const moved = `${box.runDir}.moved`;

    renameSync(box.runDir, moved);
    try {
      await waitUntil('the pid file and the log file back', () =>
        existsSync(join(box.runDir, 'quiet.pid')) && existsSync(log) ? true : undefined,
      );
      const text = await waitUntil('the run files warning in a log file', () => {
        const now = readFileSync(log, 'utf8');
        const old = readFileSync(join(moved, 'logs', 'quiet.log'), 'utf8');
        return /run files were removed or changed/.test(now + old) ? now : undefined;
      });
      expect(text).toMatch(
        /warning +\[quiet:master #\d+\] log file '.*quiet\.log' was removed or moved away while written: writing a new one\n[\s\S]*warning +\[quiet:master #\d+\] run files were removed or changed while the group ran: put back the run directory/,
      );
      expect((await box.drover(['logs', 'quiet', '-n', '5'])).stdout).toContain(
        'run files were removed or changed',
      );
    } finally {
      rmSync(moved, { recursive: true, force: true });
    }
  });
});

// `drover status` of every group names the group over each table.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

describe('drover status of every group', () => {
  it('puts the name of each group over its table', async () => {
    const box = openSandbox();
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({
        groups: [
          { baseTitle: 'fixcli-one', script: join(CLI_FIXTURES, 'plain.mjs') },
          { baseTitle: 'fixcli-two', script: join(CLI_FIXTURES, 'plain.mjs'), maxWorkerNum: 2 },
        ],
      }),
    );
    const started = await box.drover(['start', '-d']);
    expect(started.code, started.stderr).toBe(0);
    box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    await box.waitWorkers('fixcli-two', 2);
    // a group with no worker shows none: its heading is what tells which it is
    const scaled = await box.drover(['scale', 'fixcli-one', '0']);
    expect(scaled.code, scaled.stderr).toBe(0);

    const status = await box.drover(['status']);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(
      /^group {2}fixcli-one\nTYPE +PID .*\nMaster .*\n\nno workers\n\ngroup {2}fixcli-two\nTYPE +PID .*\nMaster .*\n\nPIN +PID .*\n.*fixcli-two:0 .*\n.*fixcli-two:1 .*\n$/,
    );
    // one group asked for by name: its table as before, no heading
    const one = await box.drover(['status', 'fixcli-two']);
    expect(one.stdout).toMatch(/^TYPE +PID /);
  }, 90_000);
});

// `drover logs` in the directory of a config file that is broken (a stray comma halfway through
// an edit): a running group's log is the one its master names, the file is not read; a stopped
// group's default log is read, with a warning that says why the file was not.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

describe('drover logs beside a broken config file', () => {
  it('reads the log of a running group, then of the stopped one', async () => {
    const box = openSandbox();
    const started = await box.drover(['start', join(CLI_FIXTURES, 'loop.mjs'), '-d', '--name=fixcli-logs']);
    expect(started.code, started.stderr).toBe(0);
    const pid = box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    await box.waitWorkers('fixcli-logs', 1);
    const config = join(box.dir, 'drover.config.json');
    writeFileSync(config, '{ "groups": [ { "baseTitle": "fixcli-logs", "script": "loop.mjs", } ] }\n');

    const running = await waitUntil('the ready line in the log', async () => {
      const shown = await box.drover(['logs', 'fixcli-logs', '-n', '50']);
      return shown.code !== 0 || shown.stdout.includes('loop worker 0 ready') ? shown : undefined;
    });
    expect(running).toMatchObject({ code: 0, stderr: '' });
    expect(running.stdout).toContain(`[fixcli-logs:master #${pid}] worker ready pin=0`);

    const stop = await box.drover(['stop', 'fixcli-logs']);
    expect(stop.code, stop.stderr).toBe(0);
    const log = join(box.runDir, 'logs', 'fixcli-logs.log');
    const stopped = await box.drover(['logs', 'fixcli-logs', '-n', '1']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`\\[fixcli-logs:master #${pid}\\] stopped\\n$`));
    expect(stopped.stderr).toMatch(
      new RegExp(
        `^drover: warning: the config file of this directory cannot be read to find the log file of 'fixcli-logs' \\(config file '${config}' is not valid JSON .*\\); reading the default one, ${log}\\n$`,
      ),
    );
  }, 90_000);
});

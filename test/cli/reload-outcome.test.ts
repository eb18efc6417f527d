// What `drover reload` says of a PIN that had no running worker (crash backoff): started when the
// new code comes up, and a failure (exit 1) naming it when it does not; the others are replaced.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_FIXTURES, spawnNode, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

describe('drover reload of a group with a PIN in crash backoff', () => {
  it('fails naming the PIN while it cannot start, and counts it as started once it can', async () => {
    const box = openSandbox();
    const mark = join(box.dir, 'crash-mark');
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({
        groups: [
          {
            baseTitle: 'half',
            script: join(CLI_FIXTURES, 'crash-pin.mjs'),
            maxWorkerNum: 2,
            env: { CRASH_MARK: mark },
            // a second fast crash waits 15-30 s: PIN 0 stays in backoff for the whole test
            restart: { initialDelayMs: 30_000, maxDelayMs: 30_000 },
          },
        ],
      }),
    );
    const started = await box.drover(['start', '-d']);
    expect(started.code, started.stderr).toBe(0);
    await box.waitWorkers('half', 2);
    writeFileSync(mark, '');
    await waitUntil(
      "PIN 0 of 'half' in backoff",
      async () => (await box.status())[0]?.workers.find((w) => w.pin === 0 && w.state === 'backoff'),
      20_000,
    );

    const failed = await box.drover(['reload', 'half'], { timeoutMs: 60_000 });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toBe(
      "drover: reload of 'half': 1 worker(s) replaced, but worker 0, which had no running worker (crash backoff or given up), did not start: " +
        `worker 0 of 'half' failed to start: Error: PIN 0 refuses to start: the mark is present; it is retried with backoff as after a crash, up to restart.maxRestarts\n`,
    );

    rmSync(mark);
    const fixed = await box.drover(['reload', 'half'], { timeoutMs: 60_000 });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toBe(
      "reloaded 'half': 1 worker(s) replaced, 1 started again (crash backoff or given up)\n",
    );
    await box.waitWorkers('half', 2);
  }, 90_000);
});

describe('drover reload interrupted while it waits', () => {
  it('says the reload goes on in the master and exits 1; the master finishes it', async () => {
    const box = openSandbox();
    const reports = join(box.dir, 'reports');
    mkdirSync(reports);
    // each worker takes 3 s to be ready: the reload lasts at least that long
    const started = await box.drover(
      ['start', '-d', '--name=slow', join(CLI_FIXTURES, 'env-report.mjs'), reports],
      { env: { ENV_REPORT_DELAY_MS: '3000' }, timeoutMs: 60_000 },
    );
    expect(started.code, started.stderr).toBe(0);
    const [before] = (await box.waitWorkers('slow', 1)).workers.map((w) => w.pid);
    const reload = spawnNode([BIN, 'reload', 'slow'], { env: box.env, cwd: box.dir });
    box.track(reload.pid);
    await waitUntil(
      'the reload under way',
      async () => ((await box.status())[0]?.master.state === 'reloading' ? true : undefined),
      20_000,
    );
    reload.proc.kill('SIGTERM');
    expect(await reload.waitExit()).toEqual({ code: 1, signal: null });
    expect(reload.output).toBe(
      "drover: stopped waiting (SIGTERM): the reload of 'slow' goes on in its master; 'drover status slow' shows how it does\n",
    );
    await waitUntil(
      'the reload done by the master',
      async () => {
        const group = (await box.status())[0];
        return group?.master.state === 'running' && group.workers[0]?.pid !== before ? group : undefined;
      },
      30_000,
    );
  }, 90_000);
});

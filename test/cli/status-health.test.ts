// `drover status` exits 3 while a group has a PIN that no worker serves (docs/cli.md): a worker
// crash-looping, between its crashes too, or given up on; 0 again once the PIN is stable. A script's
// own `status` (ManageProcessTemplate) does the same.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupStatus } from '@drover/core';
import { Manage } from '@drover/core';
import { describe, expect, it } from 'vitest';
import { ManageProcessTemplate } from '../../packages/cli/src/index.js';
import { capture } from '../command/support/capture.js';
import { BIN, CLI_FIXTURES, type Result, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();
const CRASH_PIN = join(CLI_FIXTURES, 'crash-pin.mjs');

/** Starts 'loop' (PIN 0 crashes while `mark` exists) and 'quitter' (gives up at once). */
async function startGroups(box: Sandbox, mark: string): Promise<void> {
  writeFileSync(
    join(box.dir, 'drover.config.json'),
    JSON.stringify({
      groups: [
        {
          baseTitle: 'loop',
          script: CRASH_PIN,
          maxWorkerNum: 2,
          env: { CRASH_MARK: mark },
          // short delays: between two crashes PIN 0 is often starting, not in backoff
          restart: { initialDelayMs: 150, maxDelayMs: 300, stableAfterMs: 2000 },
        },
        {
          baseTitle: 'quitter',
          script: CRASH_PIN,
          maxWorkerNum: 2,
          env: { CRASH_MARK: mark },
          restart: { initialDelayMs: 100, maxRestarts: 1 },
        },
      ],
    }),
  );
  const started = await box.drover(['start', '-d']);
  expect(started.code, started.stderr).toBe(0);
  await box.waitWorkers('loop', 2);
  await box.waitWorkers('quitter', 2);
}

function healthy(result: Result): void {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
}

describe('drover status exit code', () => {
  it('is 3 while a PIN crash-loops or was given up, naming it on stderr, and 0 once it is stable', async () => {
    const box = openSandbox();
    const mark = join(box.dir, 'crash-mark');
    await startGroups(box, mark);
    healthy(await box.drover(['status', 'loop']));
    healthy(await box.drover(['status']));

    writeFileSync(mark, '');
    const given = await waitUntil(
      "'quitter' to give PIN 0 up",
      async () => {
        const r = await box.drover(['status', 'quitter']);
        return r.stderr.includes('given up') ? r : undefined;
      },
      20_000,
    );
    expect(given.code).toBe(3);
    expect(given.stderr).toMatch(
      /^drover: 'quitter' is degraded: worker 0 given up after \d+ restart\(s\) \(restart\.maxRestarts\), last exit /,
    );
    expect(given.stderr).toContain("'drover logs quitter' shows why");
    expect(given.stdout).toContain('drover:Worker:quitter:0');

    // every sample while PIN 0 of 'loop' crash-loops, whether it waits, starts or even runs
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await box.drover(['status', 'loop', '--json']);
      const [group] = JSON.parse(r.stdout) as GroupStatus[];
      const pin0 = group!.workers.find((w) => w.pin === 0)!;
      if (pin0.restarts < 2) continue;
      seen.add(pin0.state);
      expect(r.code, `sample ${i}: PIN 0 ${pin0.state}, ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/^drover: 'loop' is degraded: worker 0 crash-looping \(\d+ restart\(s\)/);
      expect(pin0.crashStreak).toBeGreaterThanOrEqual(2);
      expect(group!.workers.find((w) => w.pin === 1)!.crashStreak).toBeUndefined();
    }
    expect(seen.size, 'samples taken while PIN 0 crash-looped').toBeGreaterThan(0);

    const all = await box.drover(['status']);
    expect(all.code).toBe(3);
    expect(all.stderr.split('\n').filter((line) => line.includes('is degraded')).length).toBe(2);

    // the script's own status says the same of its group
    const out = capture();
    const template = new ManageProcessTemplate(new Manage({ baseTitle: 'quitter', runDir: box.runDir }), {
      bin: 'app',
    });
    expect(await template.run(['status'], out.io)).toBe(3);
    expect(out.stderr()).toMatch(/^app: 'quitter' is degraded: worker 0 given up/);

    rmSync(mark);
    // PIN 0 of 'loop' comes back and stays up for stableAfterMs
    const recovered = await waitUntil(
      "'loop' to be healthy again",
      async () => {
        const r = await box.drover(['status', 'loop']);
        return r.code === 0 ? r : undefined;
      },
      30_000,
    );
    healthy(recovered);

    // a reload of the recovered PIN is no crash loop: its successor is young, the PIN is stable
    expect((await box.drover(['reload', 'loop'])).code).toBe(0);
    healthy(await box.drover(['status', 'loop']));
  }, 90_000);

  it('is 3 while a worker is stopped by a signal (SIGSTOP), and 0 again after SIGCONT', async () => {
    const box = openSandbox();
    const started = await box.drover([
      'start',
      '-d',
      '-w',
      '2',
      '--name',
      'frozen',
      join(CLI_FIXTURES, 'loop.mjs'),
    ]);
    expect(started.code, started.stderr).toBe(0);
    const group = await box.waitWorkers('frozen', 2);
    const pid = group.workers[1]!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const frozen = await box.drover(['status', 'frozen']);
      expect(frozen.code, frozen.stderr).toBe(3);
      expect(frozen.stdout).toMatch(
        new RegExp(`\\n +1 +${pid} +drover:Worker:frozen:1 +suspended \\(SIGSTOP\\) `),
      );
      expect(frozen.stderr).toContain(
        `worker 1 (pid ${pid}) suspended: stopped by a signal, it runs nothing until 'kill -CONT ${pid}'`,
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    healthy(
      await waitUntil('the worker to answer again', async () => {
        const r = await box.drover(['status', 'frozen']);
        return r.code === 0 ? r : undefined;
      }),
    );
  }, 60_000);

  it('is 1, saying why, when the status cannot be written (a full disk)', async () => {
    const box = openSandbox();
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, [BIN, 'status'], {
        env: box.env,
        stdio: ['ignore', full, 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, stderr).toBe(1);
      // (after the masters of other tests, in other run directories, when the sandbox has none)
      expect(stderr).toMatch(/(^|\n)drover: cannot write the status to stdout: ENOSPC/);
    } finally {
      closeSync(full);
    }
  }, 30_000);
});

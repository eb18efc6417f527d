// `drover status <name>` describes a group (docs/cli.md): what its workers run, from where, with
// which options, its last environment update and its last reload; `--json` carries the same in
// `master.run`, `master.options`, `master.envUpdatedAt`/`envUpdate` and `master.lastReload`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupStatus, MasterStatus } from '@drover/core';
import { describe, expect, it } from 'vitest';
import { formatClock } from '../../packages/core/src/status/units.js';
import { CLI_FIXTURES, type Result } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();
const LOOP = join(CLI_FIXTURES, 'loop.mjs');
const MiB = 1024 * 1024;

function ok(result: Result): Result {
  expect(result.code, `exit code; stderr: ${result.stderr}`).toBe(0);
  return result;
}

/** The master of group `name` as `drover status --json` reports it. */
async function masterOf(box: Sandbox, name: string): Promise<MasterStatus> {
  const group = (await box.status()).find((g: GroupStatus) => g.master.baseTitle === name);
  if (!group) throw new Error(`'${name}' is not running`);
  return group.master;
}

/** The lines `drover status <name>` prints under the worker table. */
async function block(box: Sandbox, name: string): Promise<string[]> {
  const text = ok(await box.drover(['status', name])).stdout;
  const lines = text.trimEnd().split('\n');
  return lines.slice(lines.findIndex((line) => line.startsWith('script')));
}

describe('drover status <name> describes the group', () => {
  it('started with flags: the script, its arguments, Node options and limits; then each reload and env update', async () => {
    const box = openSandbox();
    const name = `sd-flags-${process.pid}`;
    ok(
      await box.drover([
        'start',
        '-d',
        '-w',
        '2',
        '--name',
        name,
        '--max-memory=300M',
        '--stop-timeout=5s',
        '--node-args=--no-warnings --max-old-space-size=256',
        LOOP,
        '--',
        'a',
        'b c',
      ]),
    );
    await box.waitWorkers(name, 2);

    const started = await masterOf(box, name);
    const logFile = join(box.runDir, 'logs', `${name}.log`);
    expect(started.run).toEqual({
      script: LOOP,
      mode: 'script',
      args: ['a', 'b c'],
      cwd: box.dir,
      execArgv: ['--no-warnings', '--max-old-space-size=256'],
      logFile,
    });
    expect(started.options).toEqual({
      maxMemory: 300 * MiB,
      readyWhen: 'loaded',
      readyTimeout: 30_000,
      stopTimeout: 5000,
      hangTimeout: 0,
      executeTimes: 0,
      limitSeconds: 0,
      recycleJitter: 0.1,
      restart: {
        initialDelayMs: 100,
        maxDelayMs: 30_000,
        factor: 2,
        stableAfterMs: 10_000,
        maxRestarts: null,
      },
      normalExitCode: 0,
    });
    expect(started.lastReload).toBeUndefined();
    expect(started.envUpdatedAt).toBeUndefined();
    expect(await block(box, name)).toEqual([
      `script   ${LOOP} a 'b c'`,
      `cwd      ${box.dir}`,
      `log      ${logFile}`,
      'node     --no-warnings --max-old-space-size=256',
      'options  maxMemory 300 MiB, stopTimeout 5s',
      'env      as started',
      'reload   none since the start',
    ]);
    // the status of every group stays the table alone
    expect(ok(await box.drover(['status'])).stdout).not.toMatch(/^(script|reload) /m);

    ok(await box.drover(['reload', name], { timeoutMs: 60_000 }));
    const reloaded = await masterOf(box, name);
    expect(reloaded.lastReload).toEqual({
      at: expect.any(Number),
      replaced: 2,
      started: 0,
      notStarted: [],
      aborted: false,
    });
    const at = reloaded.lastReload?.at as number;
    expect(await block(box, name)).toContain(`reload   ok, 2 replaced, ${formatClock(at, Date.now())}`);

    const secret = `status-secret-${process.pid}`;
    ok(
      await box.drover(['reload', name, '--update-env'], {
        timeoutMs: 60_000,
        env: { DROVER_STATUS_SECRET: secret },
      }),
    );
    const updated = await masterOf(box, name);
    expect(updated.envUpdatedAt).toBeGreaterThanOrEqual(at);
    expect(updated.envUpdate?.by).toBe('reload');
    expect(updated.envUpdate?.added).toContain('DROVER_STATUS_SECRET');
    expect(updated.lastReload).toMatchObject({ replaced: 2, aborted: false, envUpdate: true });
    // names only: no value of the environment travels in the status
    const json = ok(await box.drover(['status', name, '--json'])).stdout;
    expect(json).toContain('DROVER_STATUS_SECRET');
    expect(json).not.toContain(secret);
    const env = (await block(box, name)).find((line) => line.startsWith('env'));
    expect(env).toMatch(/^env {6}updated \d\d:\d\d:\d\d by reload: .*added (\S+ )*DROVER_STATUS_SECRET\b/);
  }, 120_000);

  it('started from a config file entry: the file, its values, and a reload that stopped on new code that throws', async () => {
    const box = openSandbox();
    const name = `sd-file-${process.pid}`;
    const app = join(box.dir, 'app.mjs');
    writeFileSync(app, 'setInterval(() => {}, 1000);\n');
    mkdirSync(join(box.dir, 'work'));
    const file = join(box.dir, 'drover.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        groups: [
          {
            baseTitle: name,
            script: './app.mjs',
            args: ['x'],
            cwd: 'work',
            maxMemory: '200M',
            hangTimeout: '10s',
            restart: { maxRestarts: 5 },
            execArgv: ['--no-warnings'],
            env: { FROM_FILE: 'file-value' },
          },
        ],
      }),
    );
    ok(await box.drover(['start', '-d']));
    await box.waitWorkers(name, 1);

    const started = await masterOf(box, name);
    expect(started.run).toMatchObject({
      script: app,
      mode: 'script',
      args: ['x'],
      cwd: join(box.dir, 'work'),
      execArgv: ['--no-warnings'],
      source: { file, entry: { baseTitle: name, maxMemory: '200M', hangTimeout: '10s' } },
    });
    // the entry without its env
    expect(started.run?.source?.entry).not.toHaveProperty('env');
    expect(started.options).toMatchObject({
      maxMemory: 200 * MiB,
      hangTimeout: 10_000,
      restart: { maxRestarts: 5 },
    });
    const before = await block(box, name);
    expect(before.slice(0, 6)).toEqual([
      `script   ${app} x`,
      `cwd      ${join(box.dir, 'work')}`,
      `config   ${file}, entry '${name}'`,
      `log      ${join(box.runDir, 'logs', `${name}.log`)}`,
      'node     --no-warnings',
      'options  maxMemory 200 MiB, hangTimeout 10s, restart.maxRestarts 5',
    ]);

    writeFileSync(app, "throw new Error('the new code is broken');\n");
    const failed = await box.drover(['reload', name], { timeoutMs: 60_000 });
    expect(failed.code, failed.stderr).toBe(1);
    const after = await masterOf(box, name);
    expect(after.lastReload).toMatchObject({ replaced: 0, started: 0, notStarted: [], aborted: true });
    expect(after.lastReload?.error).toContain('Error: the new code is broken');
    const reload = (await block(box, name)).find((line) => line.startsWith('reload'));
    expect(reload).toMatch(
      /^reload {3}stopped after 0 replaced, \d\d:\d\d:\d\d: worker 0 of '[^']+' failed to start: Error: the new code is broken/,
    );
  }, 120_000);
});

// Smaller things an operator meets: `drover status` of every group names the group over each
// table; `drover logs -n` reads back into the rotated files when the current one is short; a log
// directory this user may not search gets the message an unreadable log file gets.
import { type ExecFileException, execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_FIXTURES, cliEnv, pidAlive, type Result, waitUntil } from './support/bin.js';
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

describe('drover logs -n after a rotation', () => {
  it('reads the rest of the lines from <name>.log.1, .2, ... oldest first', async () => {
    const box = openSandbox();
    const logs = join(box.runDir, 'logs');
    mkdirSync(logs, { mode: 0o700 });
    const lines = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');
    writeFileSync(join(logs, 'fixcli-rot.log.3'), lines(1, 3));
    writeFileSync(join(logs, 'fixcli-rot.log.2'), lines(4, 6));
    writeFileSync(join(logs, 'fixcli-rot.log.1'), lines(7, 9));
    writeFileSync(join(logs, 'fixcli-rot.log'), lines(10, 11));

    const show = async (n: number) => {
      const result = await box.drover(['logs', 'fixcli-rot', '-n', String(n)]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return result.stdout;
    };
    expect(await show(1)).toBe(lines(11, 11));
    expect(await show(2)).toBe(lines(10, 11));
    expect(await show(6)).toBe(lines(6, 11));
    expect(await show(100)).toBe(lines(1, 11));
  }, 60_000);
});

describe('drover logs with a log directory this user may not search', () => {
  it('says it cannot read the log file, with the check to make, not a raw EACCES', async () => {
    // root reads everything: the group and the commands run as nobody then
    const root = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), 'drover-cli-perm-'));
    const runDir = join(dir, 'run');
    mkdirSync(runDir, { mode: 0o700 });
    if (root) {
      chownSync(dir, 65534, 65534);
      chownSync(runDir, 65534, 65534);
    }
    const run = (args: string[]): Promise<Result> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [BIN, ...args],
          {
            cwd: dir,
            env: { ...cliEnv(runDir), HOME: dir },
            timeout: 60_000,
            killSignal: 'SIGKILL',
            ...(root ? { uid: 65534, gid: 65534 } : {}),
          },
          (error: ExecFileException | null, stdout, stderr) =>
            resolve({
              code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
              signal: null,
              stdout,
              stderr,
            }),
        );
      });
    let pid = 0;
    const logs = join(runDir, 'logs');
    try {
      const started = await run(['start', join(CLI_FIXTURES, 'plain.mjs'), '-d', '--name=fixcli-perm']);
      expect(started.code, started.stderr).toBe(0);
      pid = Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]);
      chmodSync(logs, 0o000);
      const log = join(logs, 'fixcli-perm.log');
      const shown = await run(['logs', 'fixcli-perm']);
      expect(shown).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `drover: cannot read log file '${log}' (EACCES); check that this user may read it and search its directory (ls -ld ${logs} ${log}), or run the command as the user the group runs as\n`,
      });
    } finally {
      if (existsSync(logs)) chmodSync(logs, 0o700);
      if (pid > 0) {
        const stop = await run(['stop', 'fixcli-perm']);
        expect(stop.code, stop.stderr).toBe(0);
        await waitUntil('the master to end', () => (!pidAlive(pid) ? true : undefined));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

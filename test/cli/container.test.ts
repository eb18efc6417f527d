// What a container does to a group: its master as PID 1 of its PID namespace (`docker run` without
// --init) warns that orphans are not reaped there, refuses a background start (its exit would kill
// the daemon), and a killed one started again is still said to have ended; an image without a
// shell (distroless) has no reaper, which the master says.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_FIXTURES, LiveProcess, pidAlive, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** Root, with `unshare` able to make a PID namespace (CI runs as root on Debian). */
const canUnshare =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' }).status === 0;

/** `drover ...args` as PID 1 of a new PID namespace, kept running. */
function droverAsInit(box: Sandbox, args: readonly string[]): LiveProcess {
  return new LiveProcess(
    spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, ...args], {
      cwd: box.dir,
      env: box.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** The pid, outside its namespace, of the process `unshare` forked: the namespace's PID 1. */
async function initOf(box: Sandbox, unshare: LiveProcess): Promise<number> {
  const pid = await waitUntil('the PID 1 of the namespace', () => {
    const children = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
    return children ? Number(children.split(' ')[0]) : undefined;
  });
  return box.track(pid);
}

describe.skipIf(!canUnshare)('a master that is PID 1 (a container without an init)', () => {
  it('warns once that orphans are not reaped there, and stops gracefully on SIGTERM', async () => {
    const box = openSandbox();
    const master = droverAsInit(box, [
      'start',
      join(CLI_FIXTURES, 'plain.mjs'),
      '-w',
      '2',
      '--name=fixcli-init',
    ]);
    try {
      await master.waitForOutput(/all 2 workers ready/);
      const warning = master.output.match(/warning +\[fixcli-init:master #1\] the master is PID 1 .*\n/g);
      expect(warning, master.output).toHaveLength(1);
      expect(warning![0]).toContain(
        'processes the workers leave behind are never reaped and stay as zombies; run it under an init: docker run --init, tini, or dumb-init',
      );
      process.kill(await initOf(box, master), 'SIGTERM');
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
      expect(master.output).toMatch(/\] stopped\n/);
    } finally {
      await master.kill();
    }
  }, 60_000);

  it('a background start is refused: its exit would take the daemon with it', async () => {
    const box = openSandbox();
    const launcher = droverAsInit(box, [
      'start',
      join(CLI_FIXTURES, 'plain.mjs'),
      '-d',
      '--name=fixcli-initd',
    ]);
    expect(await launcher.waitExit()).toEqual({ code: 1, signal: null });
    expect(launcher.output).toBe(
      "drover: cannot start 'fixcli-initd' in the background: this process is PID 1 of its PID namespace (a container's command), and when it exits the kernel kills every process left in it, the background master included; run the master in the foreground as the container's command: start without -d\n",
    );
    expect(readdirSync(box.runDir).filter((f) => f.startsWith('fixcli-initd'))).toEqual([]);
  }, 60_000);

  it('killed, then started again (both PID 1), it is said to have ended before the master that runs now', async () => {
    const box = openSandbox();
    const args = ['start', join(CLI_FIXTURES, 'plain.mjs'), '--name=fixcli-initk'];
    const first = droverAsInit(box, args);
    await first.waitForOutput(/the worker is ready/);
    const killed = await initOf(box, first);
    process.kill(killed, 'SIGKILL');
    await first.waitExit();
    await waitUntil('the first master to be gone', () => (pidAlive(killed) ? undefined : true));
    expect(existsSync(join(box.runDir, 'fixcli-initk.pid'))).toBe(true);

    const second = droverAsInit(box, args);
    try {
      await second.waitForOutput(/the worker is ready/);
      await initOf(box, second);
      const status = await box.drover(['status', 'fixcli-initk']);
      expect(status.stderr).toBe(
        "drover: 'fixcli-initk' (pid 1) ended without stopping (killed, or crashed) before the master that runs it now started\n",
      );
      expect(status.code).toBe(3);
      expect((await box.drover(['stop', 'fixcli-initk'])).code).toBe(0);
      expect(await second.waitExit()).toEqual({ code: 0, signal: null });
    } finally {
      await second.kill();
    }
  }, 60_000);
});

describe.skipIf(!canUnshare)('an image without /bin/sh (distroless)', () => {
  it('the master says that its reaper cannot start, and runs the group', async () => {
    const box = openSandbox();
    // /bin/sh made a character device in a mount namespace of its own: no shell can start
    const master = new LiveProcess(
      spawn(
        'unshare',
        [
          '--mount',
          'sh',
          '-c',
          'mount --bind /dev/null /bin/sh && exec "$0" "$@"',
          process.execPath,
          BIN,
          'start',
          join(CLI_FIXTURES, 'plain.mjs'),
          '--name=fixcli-nosh',
        ],
        { cwd: box.dir, env: box.env, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    try {
      await master.waitForOutput(/the worker is ready/);
      expect(master.output).toMatch(
        /warning +\[fixcli-nosh:master #\d+\] the reaper cannot start \(\/bin\/sh: EACCES\): should this master be killed, a worker stuck in synchronous code outlives it; give the image a POSIX shell at \/bin\/sh\n/,
      );
      const status = await box.drover(['status', 'fixcli-nosh']);
      expect(status.code, status.stderr).toBe(0);
      expect((await box.drover(['stop', 'fixcli-nosh'])).code).toBe(0);
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
    } finally {
      await master.kill();
    }
  }, 60_000);
});

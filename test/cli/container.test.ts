// What a container does to a group: its master as PID 1 of its PID namespace (`docker run` without
// --init) warns that orphans are not reaped there, refuses a background start (its exit would kill
// the daemon), and a killed one started again is still said to have ended; an image without a
// shell (distroless) has no reaper, which the master says; a worker the kernel's OOM killer ends
// at the memory limit of its cgroup is said to be that, not a mere crash.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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
      "drover: cannot start 'fixcli-initd' in the background: this process is PID 1 of its PID namespace (a container's command): when it exits, the kernel kills every process left in the namespace, the background master included; run the master in the foreground as the container's command: start without -d\n",
    );
    expect(readdirSync(box.runDir).filter((f) => f.startsWith('fixcli-initd'))).toEqual([]);
  }, 60_000);

  it('a background start run by an init that exits with it (tini, docker-init, dumb-init) is refused too', async () => {
    const box = openSandbox();
    // a shell named tini stands for it: PID 1 runs drover as its child and exits when it does
    const tini = join(box.dir, 'tini');
    symlinkSync('/bin/sh', tini);
    const init = new LiveProcess(
      spawn(
        'unshare',
        [
          '--pid',
          '--fork',
          '--mount-proc',
          tini,
          '-c',
          '"$0" "$@"; exit $?',
          process.execPath,
          BIN,
          'start',
          join(CLI_FIXTURES, 'plain.mjs'),
          '-d',
          '--name=fixcli-initsh',
        ],
        { cwd: box.dir, env: box.env, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    expect(await init.waitExit()).toEqual({ code: 1, signal: null });
    expect(init.output).toBe(
      "drover: cannot start 'fixcli-initsh' in the background: this process is the command PID 1 (tini) runs, as a container's command is: tini exits when it does, and the kernel then kills every process left in the namespace, the background master included; run the master in the foreground as the container's command: start without -d\n",
    );
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

/** A memory cgroup of its own with `limit` bytes, where this process may put others (root); null: none. */
function memoryCgroup(limit: number): { dir: string; procs: string; remove: () => void } | null {
  if (process.getuid?.() !== 0) return null;
  const name = `drover-test-${process.pid}-${Date.now()}`;
  const attempts: [root: string, limits: [file: string, value: string][]][] = [
    // cgroup v1: limit, and no swap to escape to
    [
      '/sys/fs/cgroup/memory',
      [
        ['memory.limit_in_bytes', String(limit)],
        ['memory.memsw.limit_in_bytes', String(limit)],
      ],
    ],
    // cgroup v2
    [
      '/sys/fs/cgroup',
      [
        ['memory.max', String(limit)],
        ['memory.swap.max', '0'],
      ],
    ],
  ];
  for (const [root, limits] of attempts) {
    if (!existsSync(join(root, 'cgroup.procs'))) continue;
    const dir = join(root, name);
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    try {
      for (const [file, value] of limits)
        if (existsSync(join(dir, file))) writeFileSync(join(dir, file), value);
      return { dir, procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
    } catch {
      rmdirSync(dir);
    }
  }
  return null;
}

/** Holds 16 MiB more every 20 ms, written to, until the kernel stops it. */
const HOG = `const held = [];
setInterval(() => held.push(Buffer.alloc(16 * 1024 * 1024, 1)), 20);
`;

const probeCgroup = memoryCgroup(256 * 1024 * 1024);
probeCgroup?.remove();

describe.skipIf(probeCgroup === null)('a worker killed at the memory limit of its cgroup', () => {
  it("is said to be killed by the kernel's OOM killer, with the fix", async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'hog.mjs'), HOG);
    const cgroup = memoryCgroup(256 * 1024 * 1024)!;
    const master = new LiveProcess(
      spawn(
        'sh',
        [
          '-c',
          'echo $$ > "$0" && exec "$@"',
          cgroup.procs,
          process.execPath,
          BIN,
          'start',
          'hog.mjs',
          '--name=fixcli-oom',
        ],
        { cwd: box.dir, env: box.env, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    try {
      await master.waitForOutput(
        /worker exited pin=0 pid=\d+ code=null signal=SIGKILL reason=crash error=/,
        60_000,
      );
      expect(master.output).toMatch(
        /error +\[fixcli-oom:master #\d+\] worker exited pin=0 pid=\d+ code=null signal=SIGKILL reason=crash error="OOMKilled: killed by a SIGKILL drover did not send, most likely the kernel's OOM killer \(its memory cgroup counted 1 OOM kill\(s\) since \S+Z\): the memory of the container or the machine ran out; set maxMemory \(--max-memory\) so that a worker is recycled before, lower what the workers hold, or raise the limit"\n/,
      );
      const [group] = await box.status();
      expect(group!.workers[0]!.lastExit?.error).toMatch(
        /^OOMKilled: killed by a SIGKILL drover did not send, most likely the kernel's OOM killer/,
      );
      expect((await box.drover(['stop', 'fixcli-oom'])).code).toBe(0);
      await master.waitExit();
    } finally {
      await master.kill();
      await waitUntil('the cgroup to empty', () =>
        readFileSync(cgroup.procs, 'utf8').trim() === '' ? true : undefined,
      );
      cgroup.remove();
    }
  }, 90_000);
});

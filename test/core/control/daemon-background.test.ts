import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InstanceLock } from '../../../packages/core/src/runtime/InstanceLock.js';
import { groupPaths } from '../../../packages/core/src/runtime/RunDir.js';
import type { GroupStatus } from '../../../packages/core/src/status.js';
import { FIXTURES, pidAlive, psArgs, waitAllDead } from '../../support/group.js';
import { DaemonCase, procStatus, sessionOf } from './daemon-support.js';

let world: DaemonCase | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const mode = (path: string) => statSync(path).mode & 0o777;

/** Whether this process may mount a tmpfs in a mount namespace of its own (root, CAP_SYS_ADMIN). */
const canMountTmpfs =
  process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' }).status === 0;

describe('background mode (setBackground)', () => {
  it('the launcher exits 0 with the daemon pid; the daemon runs in its own session with its title, cwd, umask 027 and private files', async () => {
    world = new DaemonCase();
    const { code, pid, output } = await world.launch(
      'control/bg-group.mjs',
      world.config({ maxWorkerNum: 2 }),
    );
    expect(code, output).toBe(0);
    expect(pid).toBeGreaterThan(0);
    const daemon = pid as number;
    expect(pidAlive(daemon)).toBe(true);
    expect(psArgs(daemon)).toBe('drover:Master:bg');
    // setsid: leader of its own session and process group
    expect(sessionOf(daemon)).toEqual({ pgid: daemon, sid: daemon });
    expect(procStatus(daemon, 'Umask')).toBe('0027');
    expect(readlinkSync(`/proc/${daemon}/cwd`)).toBe(process.cwd());
    // stdin is /dev/null, stdout and stderr are the group's output file (never rotated), beside its log
    const log = join(world.runDir, 'logs', 'bg.log');
    const out = join(world.runDir, 'logs', 'bg.out');
    expect(readlinkSync(`/proc/${daemon}/fd/1`)).toBe(out);
    expect(readlinkSync(`/proc/${daemon}/fd/2`)).toBe(out);
    expect(mode(out)).toBe(0o600);
    expect(mode(world.runDir)).toBe(0o700);
    expect(mode(join(world.runDir, 'bg.sock'))).toBe(0o600);
    expect(mode(join(world.runDir, 'bg.pid'))).toBe(0o600);
    expect(mode(log)).toBe(0o600);
    expect(mode(join(world.runDir, 'logs'))).toBe(0o700);
  });

  it('a group that recycles its workers every few executions starts: a recycle is no failure', async () => {
    world = new DaemonCase();
    // executeTimes 2 with 10 ms executions: a PIN is recycled about every 50 ms
    const launched = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 2, executeTimes: 2, executeUSleep: 0 }),
      BACKGROUND: JSON.stringify({ settleMs: 1000, deadlineMs: 15_000 }),
    });
    expect(launched.code, launched.output).toBe(0);
    const status = await world.remote('bg', 'status');
    const group = (status as { value: GroupStatus }).value;
    expect(group.workers.reduce((n, w) => n + w.restarts, 0)).toBeGreaterThan(2);
  });

  it('status, scale, reload, restart and stop from a second process through Manage', async () => {
    world = new DaemonCase();
    const launched = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 2 }),
      WORKER_BEHAVIOUR: JSON.stringify({ printEach: true, workMs: 50 }),
    });
    expect(launched.code, launched.output).toBe(0);
    const daemon = launched.pid as number;

    const status = await world.remote('bg', 'status');
    expect(status.ok, status.output).toBe(true);
    const group = (status as { value: GroupStatus }).value;
    expect(group.master).toMatchObject({ pid: daemon, baseTitle: 'bg', state: 'running', workerCount: 2 });
    expect(group.workers.map((w) => w.pin)).toEqual([0, 1]);
    for (const w of group.workers) expect(['ready', 'busy']).toContain(w.state);

    const table = await world.remote('bg', 'show');
    expect(table.ok).toBe(true);
    const text = (table as { value: string }).value;
    expect(text).toMatch(new RegExp(`^Master\\s+${daemon}\\s+drover:Master:bg\\s+running`, 'm'));
    expect(text).toMatch(/^\s+1\s+\d+\s+drover:Worker:bg:1\s+(ready|busy)/m);

    const json = await world.remote('bg', 'json');
    expect((json as { value: GroupStatus }).value.master.pid).toBe(daemon);

    const scaled = await world.remote('bg', 'scale', '3');
    expect(scaled).toMatchObject({ ok: true, value: { from: 2, to: 3 } });
    const after = (await world.remote('bg', 'status')) as { value: GroupStatus };
    expect(after.value.workers.map((w) => w.pin)).toEqual([0, 1, 2]);
    const before = new Map(after.value.workers.map((w) => [w.pin, w.pid]));

    const reloaded = await world.remote('bg', 'reload');
    expect(reloaded).toMatchObject({ ok: true, value: { replaced: 3, aborted: false } });
    const reloadedStatus = (await world.remote('bg', 'status')) as { value: GroupStatus };
    for (const w of reloadedStatus.value.workers) {
      expect(w.pid).not.toBe(before.get(w.pin));
      expect(w.lastExit).toMatchObject({ reason: 'reload' });
    }

    const restarted = await world.remote('bg', 'restart');
    expect(restarted.ok, restarted.output).toBe(true);
    const restartedStatus = (await world.remote('bg', 'status')) as { value: GroupStatus };
    expect(restartedStatus.value.workers.every((w) => w.lastExit?.reason === 'restart')).toBe(true);
    const workerPids = restartedStatus.value.workers.map((w) => w.pid as number);

    const stopped = await world.remote('bg', 'stop');
    expect(stopped.ok, stopped.output).toBe(true);
    await waitAllDead([daemon, ...workerPids], 15_000);
    expect(existsSync(join(world.runDir, 'bg.pid'))).toBe(false);
    expect(existsSync(join(world.runDir, 'bg.sock'))).toBe(false);

    // master events and worker output went to the log file, each line with time, pin and pid
    const log = readFileSync(join(world.runDir, 'logs', 'bg.log'), 'utf8');
    expect(log).toMatch(new RegExp(`^\\S+Z info +\\[bg:master #${daemon}\\] master started`, 'm'));
    expect(log).toMatch(/^\S+Z info +\[bg:1 #\d+\] execution \d+ on pin 1$/m);
    expect(log).toMatch(/\[bg:master #\d+\] scaled from 2 to 3 workers/);
    expect(log).toMatch(/\[bg:master #\d+\] stopped$/m);

    const gone = await world.remote('bg', 'status');
    expect(gone).toMatchObject({ ok: false, code: 'ENOTRUNNING' });
    expect((gone as { message: string }).message).toContain("no group named 'bg' is running");
  });

  it('a group whose workers fail init: the launcher exits non-zero with the reason and the log lines, nothing is left', async () => {
    world = new DaemonCase();
    const { code, output } = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 2 }),
      WORKER_BEHAVIOUR: JSON.stringify({ initFailPin: 1 }),
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /^FAILED EDAEMON drover: 'bg' did not start in the background: the daemon \(pid \d+\) exited with code 1 before it was ready: drover: worker 1 of 'bg' failed to start: Error: init refused on pin 1/m,
    );
    // the log's last lines follow, with the worker's own stack trace
    expect(output).toMatch(/^ {2}\S+Z warning \[bg:1 #\d+\] Error: init refused on pin 1$/m);
    expect(output).not.toMatch(/STARTED/);
    await waitAllDead(world.processes(), 10_000);
    expect(existsSync(join(world.runDir, 'bg.pid'))).toBe(false);
    expect(existsSync(join(world.runDir, 'bg.sock'))).toBe(false);
  });

  it('a group whose worker keeps crashing after it is ready fails the start once a PIN crashed 3 times', async () => {
    world = new DaemonCase();
    const { code, output } = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 1 }),
      WORKER_BEHAVIOUR: JSON.stringify({ crashAfterMs: 200 }),
      // a deadline the crash loop alone would take to reach
      BACKGROUND: JSON.stringify({ deadlineMs: 120_000 }),
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /^FAILED EDAEMON drover: 'bg' did not start in the background: worker bg:0 crashed 3 times while starting/m,
    );
    // the reason given is a crash, not an exit of the stop that followed, and without its time
    const reason = output.split('\n').find((l) => l.startsWith('FAILED EDAEMON'))!;
    expect(reason).toMatch(/while starting .*: \[bg:master #\d+\] worker exited .*reason=crash/);
    expect(reason).not.toMatch(/reason=stop|: \d{4}-\d{2}-\d{2}T/);
    await waitAllDead(world.processes(), 10_000);
  });

  it('a daemon that dies right after its workers are ready is reported as a failure, not as started', async () => {
    world = new DaemonCase();
    const { code, output } = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 1 }),
      WORKER_BEHAVIOUR: JSON.stringify({ masterCrashAfterMs: 600 }),
      BACKGROUND: JSON.stringify({ settleMs: 3000 }),
    });
    expect(code).toBe(1);
    // whether or not a poll saw it ready before it died, the launcher says it failed, and why
    expect(output).toMatch(
      /^FAILED EDAEMON drover: 'bg' did not start in the background: the daemon \(pid (\d+)\) exited with code 1 (before|right after) it was ready: Error: the master script crashed after start/m,
    );
    // the daemon's own start() had resolved: its workers were ready when it died
    const pid = /the daemon \(pid (\d+)\)/.exec(output)?.[1];
    expect(output).toMatch(new RegExp(`^ {2}STARTED ${pid}$`, 'm'));
    expect(output).not.toMatch(/^STARTED/m);
    await waitAllDead(world.processes(), 10_000);
    // the stale socket and pid file of the dead daemon were removed
    expect(existsSync(join(world.runDir, 'bg.pid'))).toBe(false);
    expect(existsSync(join(world.runDir, 'bg.sock'))).toBe(false);
  });

  it('a daemon that misses the deadline is stopped and reported', async () => {
    world = new DaemonCase();
    const { code, output } = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 1 }),
      WORKER_BEHAVIOUR: JSON.stringify({ initMs: 30_000 }),
      BACKGROUND: JSON.stringify({ deadlineMs: 1500 }),
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /^FAILED EDAEMON drover: 'bg' did not start in the background: not ready within 1500 ms \(when last asked, 'bg' was starting, workers 0:starting\)/m,
    );
    await waitAllDead(world.processes(), 15_000);
  });

  it('a second background start of a running group is refused without spawning', async () => {
    world = new DaemonCase();
    const first = await world.launch('control/bg-group.mjs', world.config({ maxWorkerNum: 1 }));
    expect(first.code, first.output).toBe(0);
    const before = world.processes().length;
    const second = await world.launch('control/bg-group.mjs', world.config({ maxWorkerNum: 1 }));
    expect(second.code).toBe(1);
    expect(second.output).toContain(
      `FAILED EALREADYRUNNING drover: 'bg' is already running (pid ${first.pid})`,
    );
    expect(world.processes().length).toBe(before);
  });

  it('a daemon that fails before any master logged: its own reason heads the error', async () => {
    world = new DaemonCase();
    // another process holds the group's single-instance lock, with no pid file or socket to show
    const { lockName } = groupPaths(world.runDir, 'bg');
    const lock = await InstanceLock.acquire(lockName);
    try {
      expect(lock).not.toBeNull();
      const result = await world.launch('control/bg-group.mjs', world.config({ maxWorkerNum: 1 }));
      expect(result.code).toBe(1);
      expect(result.output).toMatch(
        /^FAILED EDAEMON drover: 'bg' did not start in the background: the daemon \(pid \d+\) exited with code 1 before it was ready: 'bg' is already running/m,
      );
      // no pid file names a holder: the lock's name is given, with the command that finds it
      expect(result.output).toContain(
        `no pid file names its master: if none is starting, another process holds the group's lock '@${lockName}' ('ss -xlp | grep ${lockName}' names it)`,
      );
    } finally {
      await lock?.release();
    }
  });

  it.skipIf(!canMountTmpfs)(
    'a background start on a full disk says the disk is full (the daemon could write no log)',
    () => {
      world = new DaemonCase();
      // a 64 KiB tmpfs in a mount namespace of its own: the run dir is made, then the disk filled
      const script = [
        'set -e',
        'mount -t tmpfs -o size=64k tmpfs "$DISK"',
        'mkdir -m 700 "$DISK/run"',
        'dd if=/dev/zero of="$DISK/fill" bs=4k 2>/dev/null || true',
        'exec "$NODE" "$FIXTURE"',
      ].join('\n');
      const disk = join(world.runDir, 'disk');
      mkdirSync(disk);
      const result = spawnSync('unshare', ['-m', 'sh', '-c', script], {
        env: {
          ...process.env,
          ...world.env,
          DISK: disk,
          NODE: process.execPath,
          FIXTURE: join(FIXTURES, 'control/bg-group.mjs'),
          GROUP_CONFIG: JSON.stringify({ runDir: join(disk, 'run'), maxWorkerNum: 1 }),
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const output = result.stdout + result.stderr;
      expect(result.status, output).toBe(1);
      expect(output).toMatch(
        /^FAILED EDAEMON drover: 'bg' did not start in the background: the daemon \(pid \d+\) exited with code 1 before it was ready: the disk holding '[^']+' is full/m,
      );
    },
    90_000,
  );
});

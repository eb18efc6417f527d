import { spawn } from 'node:child_process';
import { existsSync, lstatSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeGroup, runningGroups } from '../../../packages/core/src/groups/discovery.js';
import { Manage } from '../../../packages/core/src/Manage.js';
import { Process } from '../../../packages/core/src/process/Process.js';
import { InstanceLock } from '../../../packages/core/src/runtime/InstanceLock.js';
import { groupPaths } from '../../../packages/core/src/runtime/RunDir.js';
import { waitAllDead } from '../../support/group.js';
import { account, DaemonCase } from './daemon-support.js';

let world: DaemonCase | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

async function startBackground(w: DaemonCase, extra: Record<string, unknown> = {}): Promise<number> {
  const { code, pid, output } = await w.launch('control/bg-group.mjs', {
    GROUP_CONFIG: JSON.stringify({ runDir: w.runDir, maxWorkerNum: 1, ...extra }),
  });
  expect(code, output).toBe(0);
  return pid as number;
}

/** Leaves a socket file nobody listens on: a process binds it and is SIGKILLed. */
async function staleSocket(path: string): Promise<void> {
  const code = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  expect(lstatSync(path).isSocket()).toBe(true);
}

describe('runningGroups and stale state', () => {
  it('finds a running background group by its socket', async () => {
    world = new DaemonCase();
    const pid = await startBackground(world);
    expect(await runningGroups(world.runDir)).toEqual([
      { baseTitle: 'bg', pid, socket: join(world.runDir, 'bg.sock'), runDir: world.runDir },
    ]);
  });

  it('a master killed by SIGKILL leaves its socket and pid file: they are recognised as stale and removed', async () => {
    world = new DaemonCase();
    const pid = await startBackground(world);
    const workers = world.processes().filter((p) => p !== pid);
    process.kill(pid, 'SIGKILL');
    await waitAllDead([pid, ...workers], 10_000);
    expect(existsSync(join(world.runDir, 'bg.pid'))).toBe(true);
    expect(existsSync(join(world.runDir, 'bg.sock'))).toBe(true);

    expect(await runningGroups(world.runDir)).toEqual([]);
    expect(existsSync(join(world.runDir, 'bg.pid'))).toBe(false);
    expect(existsSync(join(world.runDir, 'bg.sock'))).toBe(false);

    // the name is free again: a new background start works
    const again = await startBackground(world);
    expect(again).not.toBe(pid);
    expect((await runningGroups(world.runDir)).map((g) => g.pid)).toEqual([again]);
  });

  it('a pid file whose pid now belongs to another process (start time differs) is stale', async () => {
    world = new DaemonCase();
    const paths = groupPaths(world.runDir, 'ghost');
    const self = Process.stat(process.pid);
    writeFileSync(
      paths.pidFile,
      JSON.stringify({
        pid: process.pid,
        startTime: (self?.startTime ?? 0) + 1,
        baseTitle: 'ghost',
        startedAt: Date.now(),
        socket: paths.socket,
        version: '0.0.0',
      }),
      { mode: 0o600 },
    );
    await staleSocket(paths.socket);
    expect(await runningGroups(world.runDir)).toEqual([]);
    expect(existsSync(paths.pidFile)).toBe(false);
    expect(existsSync(paths.socket)).toBe(false);
  });

  it('stale files are left alone while a master holds the group lock (it may be starting)', async () => {
    world = new DaemonCase();
    const paths = groupPaths(world.runDir, 'ghost');
    await staleSocket(paths.socket);
    const lock = await InstanceLock.acquire(paths.lockName);
    expect(lock).not.toBeNull();
    try {
      expect(await probeGroup(world.runDir, 'ghost')).toBeNull();
      expect(existsSync(paths.socket)).toBe(true);
    } finally {
      await lock?.release();
    }
    expect(await probeGroup(world.runDir, 'ghost')).toBeNull();
    expect(existsSync(paths.socket)).toBe(false);
  });

  it('a live master whose pid file was deleted is still found, and still answers', async () => {
    world = new DaemonCase();
    const pid = await startBackground(world);
    unlinkSync(join(world.runDir, 'bg.pid'));
    expect(await runningGroups(world.runDir)).toEqual([
      { baseTitle: 'bg', pid, socket: join(world.runDir, 'bg.sock'), runDir: world.runDir },
    ]);
    const status = await new Manage({ baseTitle: 'bg', runDir: world.runDir }).status();
    expect(status.master.pid).toBe(pid);
    // its socket was not mistaken for a stale one
    expect(existsSync(join(world.runDir, 'bg.sock'))).toBe(true);
  });

  it('a call to a group that is not running names the ones that are', async () => {
    world = new DaemonCase();
    await startBackground(world);
    await expect(new Manage({ baseTitle: 'other', runDir: world.runDir }).status()).rejects.toMatchObject({
      code: 'ENOTRUNNING',
      message: "drover: no group named 'other' is running; running: bg",
    });
  });

  it("two users' run directories do not see each other: nobody cannot list or connect to root's groups", async () => {
    const nobody = account('nobody');
    expect(nobody, 'this test needs the nobody account').not.toBeNull();
    expect(process.getuid?.()).toBe(0);
    world = new DaemonCase();
    await startBackground(world);
    const as = { uid: nobody?.uid, gid: nobody?.gid };

    const listed = await world.remote('bg', 'running', undefined, as);
    expect(listed).toMatchObject({ ok: false, code: 'ERUNDIR' });
    expect((listed as { message: string }).message).toContain(
      `cannot list run directory '${world.runDir}' (EACCES)`,
    );

    const connected = await world.remote('bg', 'connect', undefined, as);
    expect(connected).toMatchObject({ ok: false, code: 'EACCES' });

    const status = await world.remote('bg', 'status', undefined, as);
    expect(status.ok).toBe(false);
    expect((status as { message: string }).message).toContain('EACCES');

    // its own default run directory is another one, and holds none of root's groups
    const own = await world.remote('bg', 'runningDefault', undefined, as);
    expect(own).toMatchObject({ ok: true, value: { dir: `/tmp/drover-${nobody?.uid}`, groups: [] } });
  });
});

import { chmodSync, existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manage } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { is, type LoopGroup, pidFile, readyPids, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

const socketFile = (runDir: string) => join(runDir, 'loop.sock');

describe('run files removed while the group runs', () => {
  it('the pid file and the control socket are put back, and the group is found and controlled again', async () => {
    current = startLoop({ maxWorkerNum: 2 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const pids = [...readyPids(group).values()].sort();
    rmSync(pidFile(runDir));
    rmSync(socketFile(runDir));
    await group.waitFor(
      'the files to be back',
      () => existsSync(pidFile(runDir)) && existsSync(socketFile(runDir)),
    );
    // (in one line, or two when the removals reached the master apart)
    expect(group.output).toMatch(
      /run files were removed or changed while the group ran: put back the .*pid file/,
    );
    expect(group.output).toMatch(
      /run files were removed or changed while the group ran: put back the .*control socket/,
    );
    const status = await new Manage({ baseTitle: 'loop', runDir }).status();
    expect(status.master.pid).toBe(group.pid);
    expect(status.workers.map((w) => w.pid).sort()).toEqual(pids);
  });

  it('a run directory removed whole is made again, watched again, and a stop through it leaves nothing', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    rmSync(runDir, { recursive: true, force: true });
    await group.waitFor(
      'the files to be back',
      () => existsSync(pidFile(runDir)) && existsSync(socketFile(runDir)),
    );
    // the new directory is watched: a second removal is repaired too
    rmSync(pidFile(runDir));
    await group.waitFor('the pid file to be back again', () => existsSync(pidFile(runDir)));
    await new Manage({ baseTitle: 'loop', runDir }).stop();
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(existsSync(pidFile(runDir))).toBe(false);
    expect(existsSync(socketFile(runDir))).toBe(false);
  });

  it('a run directory moved away whole (no event about the files) is made again with the files', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const moved = `${runDir}.moved`;
    renameSync(runDir, moved);
    try {
      await group.waitFor(
        'the files to be back',
        () => existsSync(pidFile(runDir)) && existsSync(socketFile(runDir)),
      );
      expect((await new Manage({ baseTitle: 'loop', runDir }).status()).master.pid).toBe(group.pid);
    } finally {
      rmSync(moved, { recursive: true, force: true });
    }
  });

  it('a file in the way of the run directory: said once, then the files come back once it is gone', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    // (again if the keeper made the directory again in between)
    for (;;) {
      rmSync(runDir, { recursive: true, force: true });
      try {
        writeFileSync(runDir, 'in the way', { flag: 'wx' });
        break;
      } catch {
        // a directory again: remove it once more
      }
    }
    await group.waitFor('the failure to be logged', () =>
      group.output.includes('run files: cannot put them back'),
    );
    rmSync(runDir);
    // no event reaches a watch on a directory that is gone: the keeper tries again on its own
    await group.waitFor(
      'the files to be back',
      () => existsSync(pidFile(runDir)) && existsSync(socketFile(runDir)),
    );
    expect(group.output.split('run files: cannot put them back').length - 1).toBe(1);
  });

  it('a run directory opened to others is narrowed back to 0700', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    chmodSync(runDir, 0o755);
    await group.waitFor('the mode to be 0700 again', () => (statSync(runDir).mode & 0o777) === 0o700);
  });
});

import { existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manage, ManageMultiple } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runningGroups } from '../../../packages/core/src/groups/discovery.js';
import { readPidFile } from '../../../packages/core/src/runtime/PidFile.js';
import { groupPaths } from '../../../packages/core/src/runtime/RunDir.js';
import type { GroupStatus } from '../../../packages/core/src/status.js';
import { pidAlive, psArgs, startFixture, waitAllDead } from '../../support/group.js';
import { DaemonCase } from './daemon-support.js';

let world: DaemonCase | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const lockHeld = (name: string) => readFileSync('/proc/net/unix', 'latin1').includes(`@${name}`);

describe('ManageMultiple in the background', () => {
  it('one daemon hosts both groups, each with its own lock, pid file, socket and log; stopping one leaves the other', async () => {
    world = new DaemonCase();
    const w = world;
    const { code, pid, output } = await w.launch('control/multi-groups.mjs', { RUN_DIR: w.runDir });
    expect(code, output).toBe(0);
    const daemon = pid as number;
    expect(psArgs(daemon)).toBe('drover:Master:alpha,beta');

    const alpha = groupPaths(w.runDir, 'alpha');
    const beta = groupPaths(w.runDir, 'beta');
    expect(alpha.lockName).not.toBe(beta.lockName);
    for (const paths of [alpha, beta]) {
      expect(readPidFile(paths.pidFile)?.pid).toBe(daemon);
      expect(existsSync(paths.socket)).toBe(true);
      expect(lockHeld(paths.lockName)).toBe(true);
    }
    // its raw stdout is the daemon's own output file, named after its groups, which rotation never renames
    expect(readlinkSync(`/proc/${daemon}/fd/1`)).toBe(join(w.runDir, 'logs', 'alpha,beta.out'));
    expect((await runningGroups(w.runDir)).map((g) => [g.baseTitle, g.pid])).toEqual([
      ['alpha', daemon],
      ['beta', daemon],
    ]);

    for (const name of ['alpha', 'beta']) {
      const status = (await w.remote(name, 'status')) as { ok: boolean; value: GroupStatus };
      expect(status.value.master).toMatchObject({ pid: daemon, baseTitle: name, workerCount: 2 });
      expect(status.value.workers.map((x) => x.title)).toEqual([
        `drover:Worker:${name}:0`,
        `drover:Worker:${name}:1`,
      ]);
    }
    const alphaWorkers = ((await w.remote('alpha', 'status')) as { value: GroupStatus }).value.workers.map(
      (x) => x.pid as number,
    );

    expect(await w.remote('alpha', 'stop')).toMatchObject({ ok: true });
    await waitAllDead(alphaWorkers, 10_000);
    expect(pidAlive(daemon)).toBe(true);
    expect(existsSync(alpha.pidFile)).toBe(false);
    expect(existsSync(alpha.socket)).toBe(false);
    expect(lockHeld(alpha.lockName)).toBe(false);
    expect(await w.remote('alpha', 'status')).toMatchObject({ ok: false, code: 'ENOTRUNNING' });
    const betaStatus = (await w.remote('beta', 'status')) as { value: GroupStatus };
    expect(betaStatus.value.master.state).toBe('running');
    expect(readFileSync(join(w.runDir, 'logs', 'beta.log'), 'utf8')).toMatch(
      /\[beta:master #\d+\] all 2 workers ready/,
    );
    expect(readFileSync(join(w.runDir, 'logs', 'alpha.log'), 'utf8')).toMatch(
      /\[alpha:master #\d+\] stopped/,
    );

    // the last group out ends the daemon
    expect(await w.remote('beta', 'stop')).toMatchObject({ ok: true });
    await waitAllDead([daemon], 10_000);
    expect(existsSync(beta.pidFile)).toBe(false);
  });

  it('start is all or nothing: when one group fails, the launcher reports it and the other group is stopped too', async () => {
    world = new DaemonCase();
    const { code, output } = await world.launch('control/multi-groups.mjs', {
      RUN_DIR: world.runDir,
      FAIL_INIT: 'beta',
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /^FAILED EDAEMON drover: 'alpha', 'beta' did not start in the background: the daemon \(pid \d+\) exited with code 1 before it was ready: .*worker \d of 'beta' failed to start: Error: init of beta refused/m,
    );
    // the tail shows each group's log
    expect(output).toMatch(/^ {2}--- beta\.log$/m);
    await waitAllDead(world.processes(), 10_000);
    expect(await runningGroups(world.runDir)).toEqual([]);
  });
  it('a group that finishes at once (a one-shot) is not waited for: the other runs on, the start succeeds', async () => {
    world = new DaemonCase();
    const w = world;
    const { code, pid, output } = await w.launch('control/multi-groups.mjs', {
      RUN_DIR: w.runDir,
      FINISH_INIT: 'alpha',
    });
    expect(code, output).toBe(0);
    const daemon = pid as number;
    expect(readFileSync(join(w.runDir, 'logs', 'alpha.log'), 'utf8')).toContain(
      `[alpha:master #${daemon}] every worker finished normally`,
    );
    const beta = (await w.remote('beta', 'status')) as { value: GroupStatus };
    expect(beta.value.master).toMatchObject({ pid: daemon, state: 'running', workerCount: 2 });
    expect(await w.remote('beta', 'stop')).toMatchObject({ ok: true });
    await waitAllDead([daemon], 10_000);
  });
  it('a restart that fails in several groups says each of them, not only the first', async () => {
    world = new DaemonCase();
    const w = world;
    const failFile = join(w.runDir, '..', `fail-init-${process.pid}`);
    const { code, pid, output } = await w.launch('control/multi-groups.mjs', {
      RUN_DIR: w.runDir,
      FAIL_INIT_FILE: failFile,
    });
    expect(code, output).toBe(0);
    writeFileSync(failFile, '');
    try {
      const both = new ManageMultiple({ runDir: w.runDir })
        .addManage(new Manage({ baseTitle: 'alpha' }))
        .addManage(new Manage({ baseTitle: 'beta' }));
      const failure = await both.restart().then(
        () => null,
        (err: Error & { code?: string }) => err,
      );
      expect(failure).toMatchObject({ code: 'ENOTREADY' });
      expect(failure!.message).toMatch(
        /^drover: 2 groups failed: 'alpha' restarted the workers, but .* \| 'beta' restarted the workers, but /,
      );
    } finally {
      rmSync(failFile, { force: true });
    }
    for (const name of ['alpha', 'beta']) await w.remote(name, 'stop');
    await waitAllDead([pid as number], 10_000);
  });
});

describe('ManageMultiple in the foreground', () => {
  it('runs both masters in one process that keeps its own title, and stops both on SIGTERM', async () => {
    world = new DaemonCase();
    const group = startFixture('control/multi-groups.mjs', {
      env: { ...world.env, RUN_DIR: world.runDir, FOREGROUND: '1' },
      execArgv: ['--title=drover:Master:both'],
    });
    try {
      await group.waitFor('STARTED', () => /STARTED (\d+)/.exec(group.output));
      expect(psArgs(group.pid)).toBe('drover:Master:both');
      expect((await runningGroups(world.runDir)).map((g) => [g.baseTitle, g.pid])).toEqual([
        ['alpha', group.pid],
        ['beta', group.pid],
      ]);
      // foreground: the log lines went to the terminal
      expect(group.output).toMatch(/\[alpha:master #\d+\] all 2 workers ready/);
      group.signal('SIGTERM');
      expect(await group.waitExit()).toEqual({ code: 0, signal: null });
      expect(await runningGroups(world.runDir)).toEqual([]);
    } finally {
      await group.kill();
    }
  });
});

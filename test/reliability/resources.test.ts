import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  account,
  expectFailedStart,
  isRoot,
  is,
  startGroup,
  until,
  wholeGroup,
  workerPids,
  cleanupAfterEach,
} from './support.js';

const { cleanups, track, scratch } = cleanupAfterEach('drover-rel-res-');

/**
 * As root, permissions do not stop the master: it runs as `nobody` instead, for whom a
 * directory of root's with mode 0555 is as unwritable as it is for an ordinary user.
 */
const restricted = isRoot ? account('nobody') : null;
const asRestricted = restricted ? { uid: restricted.uid, gid: restricted.gid } : {};

describe('unwritable directories: a clear error at start, nothing started', () => {
  it('a run dir that cannot be created', async () => {
    const parent = join(scratch(), 'locked');
    mkdirSync(parent, { mode: 0o555 });
    chmodSync(parent, 0o555);
    const runDir = join(parent, 'run');
    const g = track(startGroup({ name: 'rel-rundir', runDir, config: { maxWorkerNum: 2 }, ...asRestricted }));
    const failed = await expectFailedStart(g);
    expect(failed.code).toBe('EUNSAFE_RUNDIR');
    expect(failed.message).toContain(`run directory '${runDir}' cannot be created (EACCES)`);
    expect(failed.message).toContain('DROVER_RUN_DIR');
    expect(g.group.count(is('workerStart'))).toBe(0);
  });

  it('a run dir that exists but cannot be written', async () => {
    const runDir = join(scratch(), 'run');
    mkdirSync(runDir, { mode: 0o500 });
    if (restricted) chownSync(runDir, restricted.uid, restricted.gid);
    chmodSync(runDir, 0o500);
    const g = track(
      startGroup({ name: 'rel-rundir-ro', runDir, config: { maxWorkerNum: 2 }, ...asRestricted }),
    );
    const failed = await expectFailedStart(g);
    // refused before anything is created in it
    expect(failed.code).toBe('EUNSAFE_RUNDIR');
    expect(failed.message).toContain(`run directory '${runDir}' cannot be written (EACCES)`);
    expect(g.group.count(is('workerStart'))).toBe(0);
  });

  it('a log dir that cannot be created', async () => {
    const base = scratch();
    const locked = join(base, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    const runDir = join(base, 'run');
    mkdirSync(runDir, { mode: 0o700 });
    if (restricted) chownSync(runDir, restricted.uid, restricted.gid);
    const logDir = join(locked, 'logs');
    const g = track(
      startGroup({ name: 'rel-logdir', runDir, logDir, config: { maxWorkerNum: 2 }, ...asRestricted }),
    );
    const failed = await expectFailedStart(g);
    expect(failed.code).toBe('ELOGDIR');
    expect(failed.message).toContain(`log directory '${logDir}' cannot be written (EACCES)`);
    expect(g.group.count(is('workerStart'))).toBe(0);
  });
});

describe('a full disk for logs (file-size limit on the master)', () => {
  it('the log file stops at the limit, the master says so and keeps its workers running; it recovers when there is room', async () => {
    const logDir = join(scratch(), 'logs');
    const limit = 256 * 1024;
    const g = track(
      startGroup({
        name: 'rel-efbig',
        logDir,
        logRotation: false,
        prlimit: [`--fsize=${limit}`],
        config: { maxWorkerNum: 2 },
        behaviour: { floodLineBytes: 200, floodLines: 50, workMs: 10 },
      }),
    );
    await g.group.waitEvent(is('started'), 'started');
    const file = join(logDir, 'rel-efbig.log');
    await g.group.waitFor('the sink to report EFBIG', () =>
      /log file '.*rel-efbig\.log' cannot be written \(EFBIG\)/.test(g.group.output),
    );
    expect(statSync(file).size).toBeLessThanOrEqual(limit);

    // workers are not held up by the stuck log: they keep executing, lines are dropped and counted
    const first = await until('a whole group', async () => wholeGroup(await g.status(), 'rel-efbig', 2));
    const executed = (s: typeof first) => s.workers.reduce((n, w) => n + w.executions, 0);
    await until('more executions', async () => {
      const s = await g.status();
      return executed(s) > executed(first) + 10 ? s : `executions ${executed(s)}`;
    });
    expect(g.group.alive).toBe(true);

    truncateSync(file, 0);
    await g.group.waitFor('the sink to recover', () =>
      /log file '.*rel-efbig\.log' is writable again; \d+ lines were dropped/.test(g.group.output),
    );
    g.group.signal('SIGTERM');
    expect(await g.group.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('with rotation every file stays within size + one batch, and at most maxFiles are kept', async () => {
    const logDir = join(scratch(), 'logs');
    const g = track(
      startGroup({
        name: 'rel-rotate',
        logDir,
        logRotation: { size: '64K', interval: false, maxFiles: 3 },
        config: { maxWorkerNum: 2 },
        behaviour: { floodLineBytes: 200, floodLines: 50, workMs: 10 },
      }),
    );
    await g.group.waitEvent(is('started'), 'started');
    // rotations beyond maxFiles: .log.3 is replaced once more, so the oldest file was dropped
    const third = join(logDir, 'rel-rotate.log.3');
    const firstThird = await until(
      'three rotations',
      () => (existsSync(third) ? statSync(third).ino : 'no .log.3 yet'),
      20_000,
    );
    await until(
      'a fourth rotation',
      () => (statSync(third).ino !== firstThird ? true : 'same .log.3'),
      20_000,
    );
    // A rotation renames the files one by one: a listing taken meanwhile may miss one, but no
    // listing may ever hold more than the live file plus maxFiles.
    const list = () => readdirSync(logDir).filter((f) => f.startsWith('rel-rotate.log'));
    let most = 0;
    // the sizes are read with the listing: a rotation between the two would rename a file away
    const sizes = await until(
      'a listing between two rotations',
      () => {
        const now = list();
        most = Math.max(most, now.length);
        if (now.length !== 4) return `${now.length} files`;
        try {
          return new Map(now.map((f) => [f, statSync(join(logDir, f)).size] as const));
        } catch {
          return 'a rotation in progress';
        }
      },
      10_000,
    );
    expect(most).toBeLessThanOrEqual(4);
    expect([...sizes.keys()].sort()).toEqual([
      'rel-rotate.log',
      'rel-rotate.log.1',
      'rel-rotate.log.2',
      'rel-rotate.log.3',
    ]);
    // batch = min(64 KiB, size / 16) = 4 KiB (docs/logs.md)
    for (const [f, size] of sizes) expect(size, f).toBeLessThanOrEqual(64 * 1024 + 4 * 1024);
    expect(g.group.output).not.toMatch(/cannot be written|dropped \d+ log lines/);
  });
});

describe('EMFILE: the master runs out of file descriptors', () => {
  it('at start: the start fails with the reason, and every worker forked so far is stopped', async () => {
    // enough descriptors to load the modules, not for 40 workers' pipes
    const g = track(
      startGroup({ name: 'rel-emfile-start', prlimit: ['--nofile=64'], config: { maxWorkerNum: 40 } }),
    );
    const failed = await expectFailedStart(g);
    expect(failed.code).toBe('EWORKERINIT');
    expect(failed.message).toMatch(/worker \d+ of 'rel-emfile-start' failed to start: .*EMFILE/);
    expect(workerPids(g.group).filter((pid) => pid > 0).length).toBeGreaterThan(0);
  });

  it('while running: forks that fail are crashes in backoff, the master stays up and recovers', async () => {
    const name = 'rel-emfile';
    const g = track(startGroup({ name, config: { maxWorkerNum: 2, restart: { maxDelayMs: 500 } } }));
    await g.group.waitEvent(is('started'), 'started');
    const master = g.group.pid;

    // leave three free descriptors: enough to take a control connection, not to fork
    const used = new Set(readdirSync(`/proc/${master}/fd`).map(Number));
    let limit = 0;
    for (let free = 0; free < 3; limit++) if (!used.has(limit)) free++;
    execFileSync('prlimit', ['--pid', String(master), `--nofile=${limit}:`]);
    cleanups.push(() => {
      if (g.group.alive) execFileSync('prlimit', ['--pid', String(master), '--nofile=1024:']);
    });

    expect(await g.status().then(() => g.status())).toBeDefined();
    // the count applies; the call says which new PINs did not come up, and why
    const scaled = import('@drover/core').then(({ Manage }) =>
      new Manage({ baseTitle: name, runDir: g.runDir }).scale(4),
    );
    await expect(scaled).rejects.toMatchObject({
      code: 'ENOTREADY',
      message: expect.stringMatching(
        /scaled from 2 to 4 workers, but workers 2, 3 did not become ready \(.*EMFILE/,
      ),
    });
    await g.group.waitFor('a failed fork in the log', () => /EMFILE/.test(g.group.output));
    await g.group.waitEvent(
      is('workerBackoff', (e) => (e.pin as number) >= 2),
      'a new PIN in backoff',
    );
    const degraded = await g.status();
    expect(degraded.workers.filter((w) => w.pin < 2).every((w) => w.pid !== null)).toBe(true);
    const failing = degraded.workers.filter((w) => w.pin >= 2);
    expect(failing.length).toBe(2);
    for (const w of failing) expect(w.lastExit?.error ?? '').toMatch(/EMFILE/);
    expect(g.group.alive).toBe(true);

    execFileSync('prlimit', ['--pid', String(master), '--nofile=1024:']);
    await until('the group to be whole again', async () => wholeGroup(await g.status(), name, 4), 20_000);
    g.group.signal('SIGTERM');
    expect(await g.group.waitExit()).toEqual({ code: 0, signal: null });
  });
});

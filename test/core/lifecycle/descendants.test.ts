import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Process, type ProcStat } from '../../../packages/core/src/process/Process.js';
import { isStillRunning } from '../../../packages/core/src/process/tree.js';
import {
  type FixtureEvent,
  pidAlive,
  type RunningGroup,
  startFixture,
  tempDir,
} from '../../support/group.js';
import { killWithArg, uniqueSleep } from '../../support/marked.js';
import { waitFor } from '../infra/support.js';
import { is, startLoop } from './helpers.js';

/**
 * A worker's own processes end with it, whatever ends the worker. Each worker starts a tree
 * (test/fixtures/core/tree.mjs): a plain child, a detached one, and a shell ignoring SIGTERM with
 * a child that inherits that. Its members are recorded from /proc (pid and start time) while the
 * worker lives, and must be gone once the worker is.
 */

const TREE_SIZE = 4;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function newMark(): string {
  const mark = uniqueSleep();
  cleanups.push(() => killWithArg(mark));
  return mark;
}

function startScript(mark: string, config: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const { dir, cleanup } = tempDir();
  const group = startFixture('core/script-master.mjs', {
    env: {
      SCRIPT: new URL('../../fixtures/scripts/spawns-tree.mjs', import.meta.url).pathname,
      GROUP_CONFIG: JSON.stringify({ runDir: dir, ...config }),
      TREE_MARK: mark,
      ...env,
    },
    execArgv: ['--title=drover:Master:plain'],
  });
  // the master's own cleanup runs before the marked leftovers are killed
  cleanups.unshift(async () => {
    await group.kill();
    cleanup();
  });
  return group;
}

function startTreeLoop(mark: string, config: Record<string, unknown> = {}, behaviour = {}): RunningGroup {
  const loop = startLoop(config, { treeMark: mark, ...behaviour });
  cleanups.unshift(() => loop.cleanup());
  return loop.group;
}

/** The tree of each worker, as /proc showed it while the worker lived. */
class Trees {
  readonly byWorker = new Map<number, ProcStat[]>();

  constructor(private readonly group: RunningGroup) {}

  /** Waits until `count` workers have reported a tree and each tree is complete in /proc. */
  async capture(count: number): Promise<void> {
    await waitFor(
      `${count} complete trees`,
      () => {
        for (const e of this.group.events.filter(is('treeUp'))) {
          const worker = e.worker as number;
          if (this.byWorker.has(worker) || !pidAlive(worker)) continue;
          const members = Process.descendants(worker);
          if (members.length === TREE_SIZE) this.byWorker.set(worker, members);
        }
        return this.byWorker.size >= count;
      },
      15_000,
    );
  }

  /** Members of the trees of `workers` that still run. */
  running(workers: Iterable<number>): ProcStat[] {
    return [...workers].flatMap((w) => (this.byWorker.get(w) ?? []).filter(isStillRunning));
  }

  workerOf(member: ProcStat): number {
    for (const [worker, members] of this.byWorker) if (members.includes(member)) return worker;
    throw new Error(`pid ${member.pid} is in no recorded tree`);
  }

  get workers(): number[] {
    return [...this.byWorker.keys()];
  }
}

const exits = (group: RunningGroup, reason?: string): FixtureEvent[] =>
  group.events.filter(is('workerExit', (e) => reason === undefined || e.reason === reason));

describe("a worker's own processes end with it", () => {
  it('plain script, stop: the whole tree (detached, ignoring SIGTERM) is gone before the workers', async () => {
    const mark = newMark();
    const group = startScript(mark, { maxWorkerNum: 2, stopTimeout: 5000 });
    await group.waitEvent(is('started'), 'started');
    const trees = new Trees(group);
    await trees.capture(2);
    group.signal('SIGTERM');
    expect((await group.waitExit()).code).toBe(0);
    // each worker ended by itself (no SIGKILL from the master): it ended its tree, then exited
    expect(exits(group).map((e) => [e.reason, e.signal])).toEqual([
      ['stop', null],
      ['stop', null],
    ]);
    expect(trees.running(trees.workers)).toEqual([]);
  });

  it('loop worker, stop: the whole tree is gone before the worker', async () => {
    const mark = newMark();
    const group = startTreeLoop(mark, { maxWorkerNum: 2, stopTimeout: 5000 });
    await group.waitEvent(is('started'), 'started');
    const trees = new Trees(group);
    await trees.capture(2);
    group.signal('SIGTERM');
    expect((await group.waitExit()).code).toBe(0);
    expect(exits(group).map((e) => e.signal)).toEqual([null, null]);
    expect(trees.running(trees.workers)).toEqual([]);
  });

  it('reload: the replaced workers take their trees along; the new ones keep theirs', async () => {
    const mark = newMark();
    const group = startScript(mark, { maxWorkerNum: 2, stopTimeout: 5000 });
    await group.waitEvent(is('started'), 'started');
    const trees = new Trees(group);
    await trees.capture(2);
    const old = trees.workers;
    group.signal('SIGHUP');
    const reload = await group.waitEvent(is('reload'), 'reload done');
    expect(reload.replaced).toBe(2);
    const replaced = exits(group, 'reload').map((e) => e.pid);
    expect(replaced.sort()).toEqual([...old].sort());
    expect(trees.running(old)).toEqual([]);
    await trees.capture(4);
    const fresh = trees.workers.filter((w) => !old.includes(w));
    expect(trees.running(fresh)).toHaveLength(2 * TREE_SIZE);
  });

  it('recycle: a recycled loop worker takes its tree along', async () => {
    const mark = newMark();
    const group = startTreeLoop(
      mark,
      { maxWorkerNum: 1, executeTimes: 2, recycleJitter: 0, stopTimeout: 1000, executeUSleep: 0 },
      { workMs: 400 },
    );
    await group.waitEvent(is('started'), 'started');
    const trees = new Trees(group);
    await trees.capture(1);
    await group.waitEvent(
      is('workerExit', (e) => e.reason === 'recycle'),
      'a recycle',
      1,
      20_000,
    );
    await trees.capture(2);
    const recycled = exits(group, 'recycle').map((e) => e.pid as number);
    expect(recycled.length).toBeGreaterThan(0);
    // the recycled workers' trees had been recorded, and are gone
    for (const pid of recycled) expect(trees.byWorker.has(pid)).toBe(true);
    expect(trees.running(recycled)).toEqual([]);
    expect(exits(group, 'recycle').map((e) => e.signal)).not.toContain('SIGKILL');
  });
});

describe('exits that bypass the runtime', () => {
  it.each(['throw', 'exit'])(
    'a script ending by %s: its children that heed SIGTERM end with it',
    async (how) => {
      const mark = newMark();
      const group = startScript(
        mark,
        { maxWorkerNum: 1, restart: { initialDelayMs: 5000 } },
        { TREE_THEN: how },
      );
      const trees = new Trees(group);
      await trees.capture(1);
      const [worker] = trees.workers as [number];
      const exit = await group.waitEvent(
        is('workerExit', (e) => e.pid === worker),
        'the script to end',
      );
      expect(exit.reason).toBe('crash');
      const tree = group.events.find(is('treeUp', (e) => e.worker === worker)) as FixtureEvent;
      const heeding = (trees.byWorker.get(worker) as ProcStat[]).filter(
        (m) => m.pid === tree.plain || m.pid === tree.detached,
      );
      expect(heeding).toHaveLength(2);
      // SIGTERM, not waited for: they end just after the worker
      await waitFor(
        'the children heeding SIGTERM to end',
        () => heeding.every((m) => !isStillRunning(m)),
        5000,
      );
    },
  );
});

describe('a worker killed outright', () => {
  it('SIGKILL from outside: the master ends the tree the worker left behind, and the respawn keeps its own', async () => {
    const mark = newMark();
    const group = startScript(mark, { maxWorkerNum: 1, stopTimeout: 5000 });
    await group.waitEvent(is('started'), 'started');
    const trees = new Trees(group);
    await trees.capture(1);
    const [worker] = trees.workers as [number];
    expect(trees.running([worker])).toHaveLength(TREE_SIZE);
    process.kill(worker, 'SIGKILL');
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.pid === worker),
      'the killed worker to exit',
    );
    expect([exit.reason, exit.signal]).toEqual(['crash', 'SIGKILL']);
    // the shell ignores SIGTERM: it and its child go at the SIGKILL after the 2 s grace
    await waitFor('the left-behind tree to end', () => trees.running([worker]).length === 0, 10_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}; still running: ${trees.running([worker]).map((m) => m.pid)}`);
      },
    );
    expect(group.output).toMatch(
      new RegExp(`processes the worker started outlived it: ending them .*pid=${worker}`),
    );
    // the respawned worker's tree is its own, and is left alone
    await trees.capture(2);
    const fresh = trees.workers.filter((w) => w !== worker);
    expect(trees.running(fresh)).toHaveLength(TREE_SIZE);
  });

  it('a process the worker only claims as its own (not its child) is left alone', async () => {
    const { dir, cleanup } = tempDir();
    const foreign = spawn('sleep', ['1000'], { stdio: 'ignore' });
    cleanups.push(() => {
      foreign.kill('SIGKILL');
    });
    const group = startFixture('core/script-master.mjs', {
      env: {
        SCRIPT: new URL('../../fixtures/scripts/claims-child.mjs', import.meta.url).pathname,
        GROUP_CONFIG: JSON.stringify({ runDir: dir, maxWorkerNum: 1, restart: { initialDelayMs: 5000 } }),
        FOREIGN_PID: String(foreign.pid),
      },
      execArgv: ['--title=drover:Master:plain'],
    });
    cleanups.unshift(async () => {
      await group.kill();
      cleanup();
    });
    const claimed = await group.waitEvent(is('claimed'), 'the claim');
    // ready once loaded: its claims went through the channel before its ready message did
    await group.waitEvent(is('started'), 'started');
    process.kill(claimed.pid as number, 'SIGKILL');
    await group.waitEvent(
      is('workerExit', (e) => e.pid === claimed.pid),
      'the killed worker to exit',
    );
    await group.waitEvent(is('workerStart'), 'the respawn', 2);
    expect(pidAlive(foreign.pid as number)).toBe(true);
    expect(pidAlive(group.proc.pid as number)).toBe(true);
    expect(group.output).not.toMatch(/outlived it/);
  });
});

describe('master SIGKILLed: workers and their trees are gone', () => {
  async function killMaster(
    group: RunningGroup,
    trees: Trees,
  ): Promise<{ ms: number; workerFirst: number[] }> {
    const workers = trees.workers;
    const members = trees.running(workers);
    expect(members).toHaveLength(workers.length * TREE_SIZE);
    const t0 = Date.now();
    group.proc.kill('SIGKILL');
    // the first poll at which each worker, and each tree member, was seen gone
    const goneAt = new Map<number, number>();
    let round = 0;
    const left = () =>
      [...workers, ...members.map((m) => m.pid)].filter((pid) => !goneAt.has(pid)).join(', ');
    await waitFor(
      'every worker and tree member to be gone',
      () => {
        round++;
        for (const w of workers) if (!goneAt.has(w) && !pidAlive(w)) goneAt.set(w, round);
        for (const m of members) if (!goneAt.has(m.pid) && !isStillRunning(m)) goneAt.set(m.pid, round);
        return goneAt.size === workers.length + members.length;
      },
      5_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; still running: ${left()}`);
    });
    const ms = Date.now() - t0;
    // members seen running after their worker was seen gone
    const workerFirst = members
      .filter((m) => (goneAt.get(m.pid) as number) > (goneAt.get(trees.workerOf(m)) as number))
      .map((m) => m.pid);
    return { ms, workerFirst };
  }

  it('plain script: each worker ends its tree, then exits', async () => {
    const mark = newMark();
    const group = startScript(mark, { maxWorkerNum: 2 });
    await group.waitEvent(is('started'), 'started');
    const trees = new Trees(group);
    await trees.capture(2);
    const { ms, workerFirst } = await killMaster(group, trees);
    expect(workerFirst).toEqual([]);
    expect(ms).toBeLessThan(3000);
  });

  it('a worker blocked in while (true) {}: the reaper ends it and its tree', async () => {
    const mark = newMark();
    const group = startScript(mark, { maxWorkerNum: 2 }, { TREE_BLOCK: '1' });
    await group.waitEvent(is('started'), 'started');
    const trees = new Trees(group);
    await trees.capture(2);
    await group.waitEvent(is('blocking'), 'both blocking', 2);
    const { ms } = await killMaster(group, trees);
    expect(ms).toBeLessThan(3000);
  });
});

describe("what a worker's own processes inherit", () => {
  it("a process the script forks gets none of drover's worker options: no worker title, preload or condition", async () => {
    // the group's own Node options are the script's to pass on, as Node does
    const g = startLoop({ maxWorkerNum: 1, execArgv: ['--max-http-header-size=16385'] }, { forkChild: true });
    cleanups.push(g.cleanup);
    const report = await g.group.waitEvent(is('childOptions'), "the forked child's report");
    const droverOptions = (argv: string[]) =>
      argv.filter((a) => /^--title=|^--conditions=drover-worker$|drover-worker-bootstrap\.cjs$/.test(a));
    expect(droverOptions(report.execArgv as string[])).toEqual([]);
    expect(report.execArgv).toContain('--max-http-header-size=16385');
    expect(report.title).not.toMatch(/^drover:/);
    // the worker itself keeps its title
    const ready = await g.group.waitEvent(is('workerReady'), 'worker ready');
    expect(Process.title(ready.pid as number)).toBe('drover:Worker:loop:0');
  });
});

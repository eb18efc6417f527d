import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive, type RunningGroup, startFixture, tempDir, waitAllDead } from '../../support/group.js';
import { is, type LoopGroup, readyPids, startLoop } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function startScript(script: string, config: Record<string, unknown> = {}): RunningGroup {
  const { dir, cleanup } = tempDir();
  const group = startFixture('core/script-master.mjs', {
    env: {
      SCRIPT: new URL(`../../fixtures/scripts/${script}`, import.meta.url).pathname,
      GROUP_CONFIG: JSON.stringify({ runDir: dir, ...config }),
    },
    execArgv: ['--title=drover:Master:plain'],
  });
  cleanups.push(async () => {
    await group.kill();
    cleanup();
  });
  return group;
}

function track(loop: LoopGroup): LoopGroup {
  cleanups.push(() => loop.cleanup());
  return loop;
}

/** SIGKILLs the master and returns how long its workers (and theirs) took to be gone. */
async function killMasterAndTime(group: RunningGroup, pids: number[]): Promise<number> {
  expect(pids.length).toBeGreaterThan(0);
  for (const pid of pids) expect(pidAlive(pid)).toBe(true);
  const t0 = Date.now();
  group.proc.kill('SIGKILL');
  await waitAllDead(pids, 5000);
  return Date.now() - t0;
}

describe('no orphans when the master is SIGKILLed', () => {
  it('loop mode: every worker is gone within 1 s', async () => {
    const { group } = track(startLoop({ maxWorkerNum: 3 }));
    await group.waitEvent(is('started'), 'started');
    const ms = await killMasterAndTime(group, [...readyPids(group).values()]);
    expect(ms).toBeLessThanOrEqual(1000);
  });

  it('plain-script mode: every worker is gone within 1 s', async () => {
    const group = startScript('idle.mjs', { maxWorkerNum: 3 });
    await group.waitEvent(is('started'), 'started');
    const ms = await killMasterAndTime(group, [...readyPids(group).values()]);
    expect(ms).toBeLessThanOrEqual(1000);
  });

  it('a worker blocked in synchronous code is reaped within 1 s', async () => {
    const group = startScript('blocks.mjs', { maxWorkerNum: 2 });
    await group.waitEvent(is('started'), 'started');
    await group.waitEvent(is('blocking'), 'both blocking', 2);
    const ms = await killMasterAndTime(group, [...readyPids(group).values()]);
    expect(ms).toBeLessThanOrEqual(1000);
  });

  it('a worker with a child of its own: worker and child are gone within 1 s', async () => {
    const group = startScript('spawns-child.mjs', { maxWorkerNum: 2 });
    await group.waitEvent(is('started'), 'started');
    const ups = await group.waitFor('children', () => {
      const found = group.events.filter(is('childUp'));
      return found.length >= 2 ? found : undefined;
    });
    const pids = [...readyPids(group).values(), ...ups.map((e) => e.child as number)];
    const ms = await killMasterAndTime(group, pids);
    expect(ms).toBeLessThanOrEqual(1000);
  });
});

describe('plain-script mode', () => {
  it('runs a script as it is, with its own argv, titled, one per PIN', async () => {
    const { dir, cleanup } = tempDir();
    const group = startFixture('core/script-master.mjs', {
      env: {
        SCRIPT: new URL('../../fixtures/scripts/idle.mjs', import.meta.url).pathname,
        SCRIPT_ARGS: JSON.stringify(['--port', '80 80', 'it\'s "$(whoami)"']),
        GROUP_CONFIG: JSON.stringify({ runDir: dir, maxWorkerNum: 2 }),
      },
    });
    cleanups.push(async () => {
      await group.kill();
      cleanup();
    });
    await group.waitEvent(is('started'), 'started');
    const ups = group.events.filter(is('scriptUp'));
    expect(ups).toHaveLength(2);
    for (const up of ups) {
      // arguments reach the script verbatim: no shell in between
      expect(up.argv).toEqual(['--port', '80 80', 'it\'s "$(whoami)"']);
      expect(up.title).toMatch(/^drover:Worker:plain:[01]$/);
    }
  });

  it('runs a script that exports init/work in the execution loop', async () => {
    const group = startScript('loop-exports.mjs', { maxWorkerNum: 2 });
    await group.waitEvent(is('started'), 'started');
    const ups = await group.waitFor('loops', () => {
      const found = group.events.filter(is('loopUp'));
      return found.length >= 2 ? found : undefined;
    });
    expect(ups.map((e) => e.pin).sort()).toEqual([0, 1]);
  });
});

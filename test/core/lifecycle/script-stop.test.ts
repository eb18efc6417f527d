import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive, type RunningGroup, startFixture, tempDir } from '../../support/group.js';
import { killWithArg, pidsWithArg, uniqueSleep } from '../../support/marked.js';
import { waitFor } from '../infra/support.js';
import { is } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function startScript(script: string, config: Record<string, unknown>, env: Record<string, string> = {}) {
  const { dir, cleanup } = tempDir();
  const group = startFixture('core/script-master.mjs', {
    env: {
      SCRIPT: new URL(`../../fixtures/scripts/${script}`, import.meta.url).pathname,
      GROUP_CONFIG: JSON.stringify({ runDir: dir, ...config }),
      ...env,
    },
    execArgv: ['--title=drover:Master:plain'],
  });
  cleanups.push(async () => {
    await group.kill();
    cleanup();
  });
  return group;
}

function scratchDir(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return dir;
}

const workerExits = (group: RunningGroup) =>
  group.events.filter(is('workerExit')).map((e) => ({ code: e.code, signal: e.signal, reason: e.reason }));

/** Stops the group by SIGTERM to the master; returns the pids its workers had. */
async function stopByMaster(group: RunningGroup): Promise<number[]> {
  await group.waitEvent(is('started'), 'started');
  const pids = group.events.filter(is('workerReady')).map((e) => e.pid as number);
  group.signal('SIGTERM');
  expect((await group.waitExit(20_000)).code).toBe(0);
  return pids;
}

describe("a plain script's own SIGTERM handler on stop", () => {
  it('runs to its end: each worker exits when its script does, after its cleanup', async () => {
    const cleanupFile = join(scratchDir(), 'cleanup.done');
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 2, stopTimeout: 15_000 },
      { SIGTERM_MODE: 'cleanup', CLEANUP_MS: '1500', CLEANUP_FILE: cleanupFile },
    );
    const pids = await stopByMaster(group);
    // the script ended each worker itself (exit 0), not the runtime (143) nor the master (SIGKILL)
    expect(workerExits(group)).toEqual([
      { code: 0, signal: null, reason: 'stop' },
      { code: 0, signal: null, reason: 'stop' },
    ]);
    for (const pid of pids) expect(existsSync(`${cleanupFile}.${pid}`)).toBe(true);
    expect(group.count(is('sigterm'))).toBe(2);
  });

  it('that lets its event loop empty: the worker ends by itself, its channel to the master does not hold it', async () => {
    // stopTimeout far beyond the test's deadline: only the script's own end can end the worker
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 1, stopTimeout: 60_000 },
      { SIGTERM_MODE: 'drain' },
    );
    await stopByMaster(group);
    expect(workerExits(group)).toEqual([{ code: 0, signal: null, reason: 'stop' }]);
    expect(group.count(is('sigterm'))).toBe(1);
  });

  it('that does nothing: the worker runs on until stopTimeout, then the master SIGKILLs it', async () => {
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 1, stopTimeout: 1500 },
      { SIGTERM_MODE: 'nothing' },
    );
    await stopByMaster(group);
    expect(workerExits(group)).toEqual([{ code: null, signal: 'SIGKILL', reason: 'stop' }]);
    expect(group.count(is('sigterm'))).toBe(1);
  });

  it('a script without a SIGTERM handler is stopped by the runtime at once, as before', async () => {
    // stopTimeout far beyond the test's deadline: the runtime ends the worker, not the master
    const group = startScript('idle.mjs', { maxWorkerNum: 2, stopTimeout: 60_000 });
    await stopByMaster(group);
    expect(workerExits(group)).toEqual([
      { code: 0, signal: null, reason: 'stop' },
      { code: 0, signal: null, reason: 'stop' },
    ]);
  });
});

describe("a plain script's SIGTERM handler and the worker's own processes", () => {
  it('a handler that exits at once takes the whole tree along, a child ignoring SIGTERM included', async () => {
    const mark = uniqueSleep();
    cleanups.push(() => killWithArg(mark));
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 1, stopTimeout: 10_000 },
      { SIGTERM_MODE: 'exit', TREE_MARK: mark },
    );
    await group.waitEvent(is('treeUp'), 'the tree');
    // the shell's own child may still be starting when the tree reports itself up
    await waitFor('the whole tree', () => pidsWithArg(mark).length >= 4, 5000);
    await stopByMaster(group);
    expect(workerExits(group)).toEqual([{ code: 0, signal: null, reason: 'stop' }]);
    expect(pidsWithArg(mark)).toEqual([]);
  });

  it('a grandchild whose parent dies of the SIGTERM is still SIGKILLed before the worker is', async () => {
    const mark = uniqueSleep();
    cleanups.push(() => killWithArg(mark));
    const cleanupFile = join(scratchDir(), 'cleanup.done');
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 1, stopTimeout: 10_000 },
      { SIGTERM_MODE: 'cleanup', CLEANUP_MS: '300', CLEANUP_FILE: cleanupFile, ORPHANED_MARK: mark },
    );
    await group.waitEvent(is('started'), 'started');
    await waitFor('the grandchild', () => pidsWithArg(mark).length > 0, 5000);
    expect(pidsWithArg(mark)).toHaveLength(1);
    await stopByMaster(group);
    expect(workerExits(group)).toEqual([{ code: 0, signal: null, reason: 'stop' }]);
    expect(pidsWithArg(mark)).toEqual([]);
  });

  it('its helper child gets SIGTERM with it, so the script ends without waiting for stopTimeout', async () => {
    const mark = uniqueSleep();
    cleanups.push(() => killWithArg(mark));
    // stopTimeout far beyond the test's deadline: the helper must end for the loop to empty
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 1, stopTimeout: 60_000 },
      { SIGTERM_MODE: 'drain', HELPER_MARK: mark },
    );
    await stopByMaster(group);
    expect(workerExits(group)).toEqual([{ code: 0, signal: null, reason: 'stop' }]);
    expect(pidsWithArg(mark)).toEqual([]);
  });
});

describe('signals that do not come from the master', () => {
  it("the master's SIGKILL reaches a script's SIGTERM handler: the worker stops as an orphan", async () => {
    const cleanupFile = join(scratchDir(), 'cleanup.done');
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 1, stopTimeout: 10_000 },
      { SIGTERM_MODE: 'cleanup', CLEANUP_MS: '100', CLEANUP_FILE: cleanupFile },
    );
    await group.waitEvent(is('started'), 'started');
    const [pid] = group.events.filter(is('workerReady')).map((e) => e.pid as number);
    group.signal('SIGKILL');
    await waitFor('the orphaned worker to exit', () => !pidAlive(pid!), 5000);
    // the handler ran: the master's death was not taken for the script's own disconnect
    expect(existsSync(`${cleanupFile}.${pid}`)).toBe(true);
  });

  it('a SIGTERM sent to a worker itself, with a handler that exits 0, is no finish: the PIN is served again', async () => {
    const group = startScript(
      'sigterm-handler.mjs',
      { maxWorkerNum: 1, restart: { initialDelayMs: 100, maxDelayMs: 200 } },
      { SIGTERM_MODE: 'exit' },
    );
    await group.waitEvent(is('started'), 'started');
    const [pid] = group.events.filter(is('workerReady')).map((e) => e.pid as number);
    process.kill(pid!, 'SIGTERM');
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.pid === pid),
      'its exit',
    );
    expect(exit).toMatchObject({ code: 0, reason: 'crash' });
    expect(exit.error).toMatch(/received SIGTERM directly, not through the master/);
    await group.waitEvent(
      is('workerReady', (e) => e.pid !== pid),
      'a new worker on the PIN',
    );
    expect(group.output).not.toMatch(/every worker finished normally/);
  });
});

describe('a worker that closes its IPC channel', () => {
  it('has not finished: it is a crash, respawned with backoff, its error says it closed the channel', async () => {
    const group = startScript('disconnects.mjs', {
      maxWorkerNum: 1,
      restart: { initialDelayMs: 200, maxDelayMs: 400 },
    });
    await group.waitEvent(is('started'), 'started');
    const exit = await group.waitEvent(is('workerExit'), 'the first exit');
    expect(exit.reason).toBe('crash');
    expect(exit.error).toMatch(/closed its IPC channel \(process\.disconnect\(\)\)/);
    // respawned on the same PIN; the master did not take it for a finished group
    await group.waitEvent(
      is('workerStart', (e) => e.pin === 0),
      'a respawn',
      2,
    );
    expect(group.output).not.toMatch(/every worker finished normally/);
    expect(group.alive).toBe(true);
  });
});

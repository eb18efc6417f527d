import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Manage } from '@drover/core';
import { describe, expect, it } from 'vitest';
import { pidAlive, type RunningGroup, startFixture, tempDir, waitAllDead } from '../support/group.js';
import { childrenOf, is, startGroup, until, wholeGroup, workerPids, cleanupAfterEach } from './support.js';

const { cleanups, track } = cleanupAfterEach();

/** Sends `count` signals drawn at random from `kinds` within about `withinMs`, while the master lives. */
async function storm(group: RunningGroup, kinds: NodeJS.Signals[], count = 200, withinMs = 1000) {
  const sent: Record<string, number> = {};
  const batches = 20;
  for (let i = 0; i < count; i++) {
    const signal = kinds[Math.floor(Math.random() * kinds.length)]!;
    // ChildProcess.kill refuses once the master has exited: no stray signal to a reused pid
    if (!group.alive || !group.proc.kill(signal)) break;
    sent[signal] = (sent[signal] ?? 0) + 1;
    if ((i + 1) % (count / batches) === 0) await new Promise((r) => setTimeout(r, withinMs / batches));
  }
  return sent;
}

/**
 * The master's log lines about reloads, in order: a reload never starts while another runs, so
 * every 'reload started' is followed by its 'reload done' (or 'aborted') before the next one.
 */
function reloadOverlaps(output: string): { reloads: number; overlaps: number; unfinished: number } {
  let running = false;
  let reloads = 0;
  let overlaps = 0;
  for (const line of output.split('\n')) {
    if (!line.includes('[')) continue;
    if (/\] reload started/.test(line)) {
      reloads++;
      if (running) overlaps++;
      running = true;
    } else if (/\] reload (done|aborted)/.test(line)) {
      running = false;
    }
  }
  return { reloads, overlaps, unfinished: running ? 1 : 0 };
}

describe('signal storm: 200 random signals to the master within about a second', () => {
  it('SIGHUP / SIGTTIN / SIGTTOU / SIGTERM: the group stops cleanly, nothing is left, no reload overlaps', async () => {
    const name = 'rel-storm-term';
    const g = track(startGroup({ name, config: { maxWorkerNum: 3, stopTimeout: 5000 } }));
    await g.group.waitEvent(is('started'), 'started');
    const before = childrenOf(g.group.pid); // the workers and the reaper

    // a reload is under way before the first SIGTERM, so the overlap check below has reloads to check
    g.group.signal('SIGHUP');
    const early = await storm(g.group, ['SIGHUP', 'SIGTTIN', 'SIGTTOU'], 100, 500);
    expect(Object.values(early).reduce((a, b) => a + b, 0)).toBe(100);
    await g.group.waitFor('a reload to start', () => reloadOverlaps(g.group.output).reloads > 0);
    const sent = await storm(g.group, ['SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGTERM'], 100, 500);
    expect(sent.SIGTERM).toBeGreaterThan(0);

    expect(await g.group.waitExit(30_000)).toEqual({ code: 0, signal: null });
    await waitAllDead([...before, ...workerPids(g.group)], 3000);
    expect(existsSync(join(g.runDir, `${name}.pid`))).toBe(false);
    expect(existsSync(join(g.runDir, `${name}.sock`))).toBe(false);
    const reloads = reloadOverlaps(g.group.output);
    expect(reloads.reloads).toBeGreaterThan(0);
    expect(reloads.overlaps).toBe(0);
    expect(reloads.unfinished).toBe(0);
  }, 60_000);

  it('SIGHUP / SIGTTIN / SIGTTOU: the group settles whole, one process per PIN, no orphan, no reload overlaps', async () => {
    const name = 'rel-storm';
    const g = track(startGroup({ name, config: { maxWorkerNum: 3 } }));
    await g.group.waitEvent(is('started'), 'started');

    const sent = await storm(g.group, ['SIGHUP', 'SIGTTIN', 'SIGTTOU']);
    expect(Object.values(sent).reduce((a, b) => a + b, 0)).toBe(200);

    // scale() is queued behind every operation the storm started: when it returns they are done
    expect(await new Manage({ baseTitle: name, runDir: g.runDir }).scale(3)).toMatchObject({ to: 3 });
    const status = await until(
      'the group to settle whole',
      async () => wholeGroup(await g.status(), name, 3),
      30_000,
    );
    expect(g.group.alive).toBe(true);

    // every process the group ever started is either serving a PIN now or gone
    const serving = new Set(status.workers.map((w) => w.pid));
    await waitAllDead(
      workerPids(g.group).filter((pid) => !serving.has(pid)),
      3000,
    );
    for (const pid of serving) expect(pidAlive(pid as number)).toBe(true);

    // a burst of SIGTTIN / SIGTTOU adds up to a few scale operations, not one per signal
    const scales = g.group.output.match(/\] scaled from/g)?.length ?? 0;
    expect(scales).toBeLessThanOrEqual(10);
    const reloads = reloadOverlaps(g.group.output);
    expect(reloads.reloads).toBeGreaterThan(0);
    expect(reloads.overlaps).toBe(0);
    expect(reloads.unfinished).toBe(0);

    g.group.signal('SIGTERM');
    expect(await g.group.waitExit(30_000)).toEqual({ code: 0, signal: null });
    await waitAllDead(workerPids(g.group), 3000);
  }, 90_000);
});

describe('signal storm on a task pool', () => {
  it('SIGHUP / SIGTTIN / SIGTTOU while 2,000 tasks run: every task completes with its own result', async () => {
    const name = 'rel-storm-pool';
    const { dir, cleanup } = tempDir('drover-rel-storm-pool-');
    const pool = startFixture('reliability/pool.mjs', {
      execArgv: [`--title=drover:Master:${name}`],
      env: {
        POOL_CONFIG: JSON.stringify({ baseTitle: name, runDir: dir, minWorkers: 3, maxWorkers: 3 }),
        TASKS: '2000',
        TASK_MS: '5',
      },
    });
    cleanups.push(async () => {
      await pool.kill();
      await waitAllDead(
        workerPids(pool).filter((pid) => pid > 0),
        5000,
      );
      cleanup();
    });
    await pool.waitEvent(is('started'), 'started');
    await storm(pool, ['SIGHUP', 'SIGTTIN', 'SIGTTOU']);
    const stormEnd = Date.now();
    const { results, t } = (await pool.waitEvent(is('results'), 'every result', 1, 60_000)) as unknown as {
      results: [number, { x: number; square: number } | null, string | null][];
      t: number;
    };
    expect(results).toHaveLength(2000);
    const lost = results.filter(([, value, error]) => value === null || error !== null);
    expect(lost, `tasks without a result: ${JSON.stringify(lost.slice(0, 5))}`).toEqual([]);
    for (const [x, value] of results) expect(value).toMatchObject({ x, square: x * x });
    // the storm hit while tasks ran, and it did replace or remove workers under them
    expect(t).toBeGreaterThan(stormEnd);
    expect(
      pool.count(is('workerExit', (e) => e.reason === 'reload' || e.reason === 'scale')),
    ).toBeGreaterThan(0);
    expect(await pool.waitExit(30_000)).toEqual({ code: 0, signal: null });
    await waitAllDead(
      workerPids(pool).filter((pid) => pid > 0),
      3000,
    );
  }, 90_000);
});

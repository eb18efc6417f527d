import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFixture, tempDir, waitAllDead } from '../support/group.js';
import { is, startGroup, until, wholeGroup, workerPids, cleanupAfterEach } from './support.js';

const { cleanups, track } = cleanupAfterEach();

interface Kill {
  pid: number;
  pin: number;
}

describe('chaos: workers SIGKILLed at random by another process', () => {
  it('4 workers, one killed every 200 ms for 5 s: every PIN comes back, each kill is one restart, no orphan', async () => {
    const name = 'rel-chaos';
    // a bounded backoff ceiling keeps the test short; the default (30 s) only waits longer
    const g = track(startGroup({ name, config: { maxWorkerNum: 4, restart: { maxDelayMs: 1000 } } }));
    await g.group.waitEvent(is('started'), 'started');

    const killer = startFixture('reliability/killer.mjs', {
      env: {
        MASTER_PID: String(g.group.pid),
        PREFIX: `drover:Worker:${name}:`,
        EVERY_MS: '200',
        FOR_MS: '5000',
      },
    });
    cleanups.push(() => killer.kill());
    const done = await killer.waitEvent(is('done'), 'the killer to finish', 1, 20_000);
    const kills = done.kills as Kill[];
    // about 25 ticks; a tick finds no victim only while every worker is down at once
    expect(kills.length).toBeGreaterThanOrEqual(15);
    // victims are random: with about 25 kills, three PINs or more were hit (all four, nearly always)
    expect(new Set(kills.map((k) => k.pin)).size).toBeGreaterThanOrEqual(3);
    await waitAllDead(
      kills.map((k) => k.pid),
      3000,
    );

    const status = await until(
      'every PIN to be ready again',
      async () => wholeGroup(await g.status(), name, 4),
      20_000,
    );
    expect(g.group.alive).toBe(true);
    for (const kill of kills) {
      const exit = g.group.events.find(is('workerExit', (e) => e.pid === kill.pid));
      expect(exit, `exit of killed pid ${kill.pid}`).toMatchObject({
        pin: kill.pin,
        signal: 'SIGKILL',
        reason: 'crash',
      });
    }
    // every kill cost its PIN exactly one respawn, no more, no less
    for (const w of status.workers) {
      expect(w.restarts, `restarts of PIN ${w.pin}`).toBe(kills.filter((k) => k.pin === w.pin).length);
    }

    // and the group still stops cleanly, leaving nothing behind
    g.group.signal('SIGTERM');
    expect(await g.group.waitExit(20_000)).toEqual({ code: 0, signal: null });
    await waitAllDead(workerPids(g.group), 3000);
  }, 60_000);
});

describe('chaos under load: a task pool', () => {
  it('4 workers run 5,000 tasks while one is SIGKILLed every 200 ms: every task completes, none is lost', async () => {
    const name = 'rel-pool';
    const { dir, cleanup } = tempDir('drover-rel-pool-');
    cleanups.push(async () => cleanup());
    const executions = join(dir, 'executions.log');
    const tasks = 5000;
    const pool = startFixture('reliability/pool.mjs', {
      execArgv: [`--title=drover:Master:${name}`],
      env: {
        POOL_CONFIG: JSON.stringify({
          baseTitle: name,
          runDir: dir,
          minWorkers: 4,
          maxWorkers: 4,
          maxAttempts: 5,
          backoff: 10,
          restart: { maxDelayMs: 1000 },
        }),
        TASKS: String(tasks),
        TASK_MS: '5',
        EXECUTIONS: executions,
      },
    });
    cleanups.push(async () => {
      await pool.kill();
      await waitAllDead(
        workerPids(pool).filter((pid) => pid > 0),
        5000,
      );
    });
    await pool.waitEvent(is('started'), 'started');
    const killer = startFixture('reliability/killer.mjs', {
      env: {
        MASTER_PID: String(pool.pid),
        PREFIX: `drover:Worker:${name}:`,
        EVERY_MS: '200',
        FOR_MS: '5000',
      },
    });
    cleanups.push(() => killer.kill());

    const done = await killer.waitEvent(is('done'), 'the killer to finish', 1, 20_000);
    const kills = done.kills as Kill[];
    expect(kills.length).toBeGreaterThanOrEqual(10);
    const { results, retries, t } = (await pool.waitEvent(
      is('results'),
      'every result',
      1,
      60_000,
    )) as unknown as {
      results: [number, { x: number; square: number; attempt: number } | null, string | null][];
      retries: number;
      t: number;
    };
    // the storm blew while tasks were running, not after
    expect(t).toBeGreaterThan(killer.events.filter(is('kill')).at(-1)!.t as number);

    // every task, one by one: its own result, computed once more if its worker died under it
    expect(results).toHaveLength(tasks);
    const lost = results.filter(([, value, error]) => value === null || error !== null);
    expect(lost, `tasks without a result: ${JSON.stringify(lost.slice(0, 5))}`).toEqual([]);
    for (const [x, value] of results) {
      expect(value).toMatchObject({ x, square: x * x });
    }
    const reattempted = results.filter(([, value]) => (value?.attempt ?? 1) > 1).length;

    // at least once: an execution whose result died with its worker ran again (a duplicate)
    const ran = new Map<number, number>();
    for (const line of readFileSync(executions, 'utf8').split('\n').filter(Boolean)) {
      ran.set(Number(line), (ran.get(Number(line)) ?? 0) + 1);
    }
    expect(ran.size).toBe(tasks);
    const duplicates = [...ran.values()].filter((n) => n > 1).length;
    console.info(
      `pool chaos: ${tasks} tasks, ${kills.length} workers SIGKILLed, ${retries} retries, ` +
        `${reattempted} tasks completed on a later attempt, ${duplicates} ran to the end twice, 0 lost`,
    );
    expect(duplicates).toBeLessThanOrEqual(kills.length);

    expect(await pool.waitExit(30_000)).toEqual({ code: 0, signal: null });
    await waitAllDead([...kills.map((k) => k.pid), ...workerPids(pool).filter((pid) => pid > 0)], 3000);
  }, 90_000);
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manage } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive, tempDir } from '../../support/group.js';
import { waitFor } from '../infra/support.js';
import { is, type LoopGroup, readyPids, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('respawn', () => {
  it('a SIGKILLed worker is respawned at once on the same PIN', async () => {
    current = startLoop({ maxWorkerNum: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const victim = readyPids(group).get(1)!;
    process.kill(victim, 'SIGKILL');
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.pid === victim),
      'victim exit',
    );
    expect(exit).toMatchObject({ pin: 1, signal: 'SIGKILL', reason: 'crash' });
    const back = await group.waitEvent(
      is('workerReady', (e) => e.pin === 1 && e.pid !== victim),
      'respawn on pin 1',
    );
    expect(back.pid).not.toBe(victim);
    expect(group.count(is('workerBackoff'))).toBe(0);
  });

  it('a worker out of heap memory (SIGABRT) is respawned, and its exit says why', async () => {
    current = startLoop(
      {
        maxWorkerNum: 1,
        execArgv: ['--max-old-space-size=16'],
        restart: { initialDelayMs: 50, maxDelayMs: 200 },
      },
      { leak: true },
    );
    const { group, runDir } = current;
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.signal === 'SIGABRT'),
      'an exit on heap out of memory',
      1,
      30_000,
    );
    expect(exit).toMatchObject({ pin: 0, code: null, reason: 'crash' });
    expect(exit.error).toMatch(
      /^FATAL ERROR: .*JavaScript heap out of memory; the worker's heap limit: raise it \(execArgv \['--max-old-space-size=<MiB>'\], drover start --node-args\)/,
    );
    await group.waitEvent(
      is('workerReady', (e) => e.pid !== exit.pid),
      'the respawn',
    );
    const status = await new Manage({ baseTitle: 'loop', runDir }).status();
    expect(status.workers[0]!.lastExit).toMatchObject({ signal: 'SIGABRT', reason: 'crash' });
    expect(status.workers[0]!.lastExit!.error).toContain('JavaScript heap out of memory');
  });

  it('an exit by SIGABRT waits briefly for the last words on stderr that say why', async () => {
    current = startLoop(
      { maxWorkerNum: 1, restart: { initialDelayMs: 50, maxDelayMs: 200 } },
      { abortBeforeWords: true },
    );
    const exit = await current.group.waitEvent(
      is('workerExit', (e) => e.signal === 'SIGABRT'),
      'the abort',
    );
    expect(exit).toMatchObject({ pin: 0, reason: 'crash', error: 'FATAL ERROR: late words' });
  });

  it("a child's last words on the worker's stderr are no error of the worker's own exit", async () => {
    current = startLoop({ maxWorkerNum: 1 }, { childLastWords: true });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    expect(group.output).toContain("FATAL ERROR: a child's words");
    group.signal('SIGTERM');
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    const exit = group.events.find(is('workerExit'))!;
    expect(exit).toMatchObject({ code: 0, reason: 'stop' });
    expect(exit.error).toBeUndefined();
  });

  it('nor of a SIGABRT of its own long after them, which said nothing', async () => {
    current = startLoop(
      { maxWorkerNum: 1, restart: { initialDelayMs: 50, maxDelayMs: 200 } },
      { childLastWords: true, abortAfterMs: 3000 },
    );
    const { group } = current;
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.signal === 'SIGABRT'),
      'the abort',
      1,
      20_000,
    );
    expect(group.output).toContain("FATAL ERROR: a child's words");
    expect(exit).toMatchObject({ pin: 0, reason: 'crash' });
    expect(exit.error).toBeUndefined();
  });

  it('workers that exit(41) are replaced on the same PIN', async () => {
    current = startLoop(
      { maxWorkerNum: 2, restart: { initialDelayMs: 50, maxDelayMs: 200 } },
      { exitCode: 41 },
    );
    const { group } = current;
    for (const pin of [0, 1])
      await group.waitEvent(
        is('workerExit', (e) => e.pin === pin && e.code === 41),
        `pin ${pin} exit 41`,
        3,
      );
    const exits = group.events.filter(is('workerExit'));
    expect(new Set(exits.map((e) => e.pin))).toEqual(new Set([0, 1]));
    expect(exits.every((e) => e.reason === 'crash')).toBe(true);
  });

  it('a worker that exits with normalExitCode has finished: not respawned, and the master exits 0 after the last', async () => {
    current = startLoop({ maxWorkerNum: 2, normalExitCode: 7 }, { exitCode: 7 });
    const { group } = current;
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.count(is('workerExit', (e) => e.reason === 'normal' && e.code === 7))).toBe(2);
    expect(group.count(is('workerStart'))).toBe(2);
  });

  it('fast crashes back off exponentially, visible in status, and the master stays up', async () => {
    current = startLoop(
      { maxWorkerNum: 1, restart: { initialDelayMs: 200, maxDelayMs: 1600 } },
      { exitCode: 3 },
    );
    const { group, runDir } = current;
    const fourth = await group.waitEvent(is('workerBackoff'), 'fourth backoff', 4, 20_000);
    const delays = group.events.filter(is('workerBackoff')).map((e) => e.delayMs as number);
    // Equal jitter: each delay lies in [ceiling/2, ceiling] with ceiling 200, 400, 800, 1600.
    [200, 400, 800, 1600].forEach((ceiling, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delays[i]).toBeLessThanOrEqual(ceiling);
    });
    expect(fourth.streak).toBe(5);
    const status = await new Manage({ baseTitle: 'loop', runDir }).status();
    expect(status.workers[0]).toMatchObject({ pin: 0, state: 'backoff' });
    expect(status.workers[0]!.nextStartAt).toBeGreaterThan(Date.now() - 1000);
    expect(status.workers[0]!.lastExit).toMatchObject({ code: 3, reason: 'crash' });
    expect(group.alive).toBe(true);
  });

  it('gives up only when a cap is set explicitly, and says so', async () => {
    current = startLoop(
      { maxWorkerNum: 1, restart: { initialDelayMs: 10, maxDelayMs: 20, maxRestarts: 3 } },
      { exitCode: 3 },
    );
    const { group } = current;
    await group.waitEvent(is('workerFailed'), 'workerFailed');
    expect(group.count(is('workerStart'))).toBe(4);
    expect(await group.waitExit()).toEqual({ code: 1, signal: null });
    expect(group.output).toContain('worker gave up after 3 fast restarts');
  });

  it('hang detection: a worker whose event loop stops answering is killed and replaced', async () => {
    current = startLoop({ maxWorkerNum: 2, hangTimeout: 1000 }, { blockPin: 0 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const blocked = readyPids(group).get(0)!;
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.pid === blocked),
      'hang kill',
    );
    expect(exit).toMatchObject({ reason: 'hang', signal: 'SIGKILL' });
    await group.waitEvent(
      is('workerStart', (e) => e.pin === 0 && e.pid !== blocked),
      'replacement',
    );
    expect(pidAlive(blocked)).toBe(false);
  });
});

describe('hang detection', () => {
  it('without hangTimeout, status flags a worker whose event loop is blocked as not answering', async () => {
    current = startLoop({ maxWorkerNum: 2 }, { blockPin: 0 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    // the worker blocks 200 ms after its init: poll until its silence shows
    const status = await waitFor('PIN 0 flagged', async () => {
      const s = await client.status();
      return s.workers[0]?.unresponsive ? s : undefined;
    });
    // silent while running synchronous code: busy, flagged, whether it computes or is stuck
    expect(status.workers[0]).toMatchObject({ pin: 0, state: 'busy', unresponsive: true });
    expect(status.workers[1]?.unresponsive).toBeUndefined();
    const { renderStatusTable } = await import('@drover/core/control');
    expect(renderStatusTable([status], { color: false })).toMatch(/\n\s*0\s+\d+\s+\S+\s+busy, not answering/);
  });

  it('a heartbeat check that runs late by less than a second is a warning too', async () => {
    // hangTimeout 600 ms: a check every 200 ms; a master stopped for 700 ms runs one late
    current = startLoop({ maxWorkerNum: 1, hangTimeout: 600 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    process.kill(group.pid, 'SIGSTOP');
    try {
      await new Promise((resolve) => setTimeout(resolve, 700));
    } finally {
      process.kill(group.pid, 'SIGCONT');
    }
    await group.waitFor('the late check to be said', () => group.output.includes('heartbeat check ran'));
    expect(group.output).toMatch(/warning +\[[^\]]+\] heartbeat check ran \d+ ms late/);
  });

  it('a group that did not run for longer than hangTimeout (SIGSTOP, a frozen cgroup, a suspended VM) loses no worker; a hung one is still killed', async () => {
    const marks = tempDir('drover-hang-');
    try {
      const block = join(marks.dir, 'block');
      current = startLoop(
        { maxWorkerNum: 2, hangTimeout: 1000 },
        { reportExecutionEnd: true, blockIfFile: block, blockIfFilePin: 1 },
      );
      const { group } = current;
      await group.waitEvent(is('started'), 'started');
      const pids = readyPids(group);
      const all = [group.pid, ...pids.values()];
      // what a cgroup freezer or a VM suspend does to the whole group: three times hangTimeout
      for (const pid of all) process.kill(pid, 'SIGSTOP');
      try {
        await new Promise((resolve) => setTimeout(resolve, 3000));
      } finally {
        for (const pid of [...all].reverse()) process.kill(pid, 'SIGCONT');
      }
      const resumed = Date.now();
      // both workers run on for more than hangTimeout after it (or one is killed)
      await group.waitFor(
        'both workers to run on for 2.5 s',
        () =>
          group.count(is('workerExit')) > 0 ||
          [...pids.values()].every((pid) =>
            group.events.some(
              (e) => e.event === 'executionEnd' && e.pid === pid && (e.t as number) > resumed + 2500,
            ),
          ),
      );
      expect(group.count(is('workerExit'))).toBe(0);
      expect(group.output).toContain('heartbeat check ran');
      expect(group.output).not.toContain('did not answer heartbeats');
      expect(readyPids(group)).toEqual(pids);
      // a worker stuck for good is still found out
      writeFileSync(block, '');
      const exit = await group.waitEvent(
        is('workerExit', (e) => e.pid === pids.get(1)),
        'the hang kill',
      );
      expect(exit).toMatchObject({ pin: 1, reason: 'hang', signal: 'SIGKILL' });
      expect(group.count(is('workerExit', (e) => e.pid === pids.get(0)))).toBe(0);
    } finally {
      marks.cleanup();
    }
  });

  it('counts silence from ready, not from the fork: a slow init is not a hang', async () => {
    current = startLoop(
      { maxWorkerNum: 1, hangTimeout: 1000 },
      { initMs: 1500, workMs: 50, reportExecutionEnd: true },
    );
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const pid = readyPids(group).get(0)!;
    await group.waitFor(
      '10 executions',
      () => group.count(is('executionEnd', (e) => e.pid === pid)) >= 10,
      10_000,
    );
    expect(group.count(is('workerExit', (e) => e.reason === 'hang'))).toBe(0);
  });
});

describe('a master event listener that throws', () => {
  it.each([
    ['throws', 'listenerThrows', 'a bug in a workerExit listener'],
    ['rejects (async)', 'listenerRejects', 'a bug in an async workerExit listener'],
  ])(
    '%s: it is logged, and the master goes on: the crashed worker is respawned, the group stops cleanly',
    async (_, key, error) => {
      current = startLoop({ maxWorkerNum: 2 }, { [key]: 'workerExit' });
      const { group } = current;
      await group.waitEvent(is('started'), 'started');
      const [[pin, victim]] = [...readyPids(group)];
      process.kill(victim!, 'SIGKILL');
      await group.waitEvent(
        is('workerReady', (e) => e.pin === pin && e.pid !== victim),
        'the replacement ready',
      );
      await group.waitFor('the failure logged', () => group.output.includes(error));
      expect(group.output).toContain("a 'workerExit' listener threw; the group goes on");
      group.signal('SIGTERM');
      expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    },
  );
});

import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manage, Process } from '@drover/core';
import { renderStatusTable } from '@drover/core/control';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive, psArgs, type RunningGroup, waitAllDead } from '../../support/group.js';
import { is, type LoopGroup, readyPids, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('rolling reload', () => {
  it('SIGHUP replaces one PIN at a time: each successor is ready before its predecessor stops', async () => {
    // executions back to back (no pause between them): a stop always finds one running
    current = startLoop({ maxWorkerNum: 3, executeUSleep: 0 }, { workMs: 200, reportExecutionEnd: true });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const before = readyPids(group);
    group.signal('SIGHUP');
    await group.waitEvent(is('reload'), 'reload done');
    expect(group.events.find(is('reload'))).toMatchObject({ replaced: 3, aborted: false });
    let previousExit = 0;
    for (const [pin, oldPid] of [...before].sort((a, b) => a[0] - b[0])) {
      const exit = group.events.find(is('workerExit', (e) => e.pid === oldPid))!;
      expect(exit).toMatchObject({ reason: 'reload', code: 0 });
      const successor = group.events.find(is('workerReady', (e) => e.pin === pin && e.pid !== oldPid))!;
      expect(successor.t as number).toBeLessThanOrEqual(exit.t as number);
      // one PIN at a time: this PIN's successor started after the previous PIN's old worker left
      const started = group.events.find(is('workerStart', (e) => e.pid === successor.pid))!;
      expect(started.t as number).toBeGreaterThanOrEqual(previousExit);
      previousExit = exit.t as number;
      // the old worker's last execution ran to its end: it ended after the worker was asked to stop
      const stopAt = group.events.find(is('workerStop', (e) => e.pid === oldPid))!;
      expect(stopAt).toMatchObject({ pin, reason: 'reload' });
      const endAfterStop = group.events.find(
        is('executionEnd', (e) => e.pid === oldPid && (e.t as number) >= (stopAt.t as number)),
      );
      expect(endAfterStop, `an execution of ${oldPid} that ended after its workerStop`).toBeDefined();
      expect(pidAlive(oldPid)).toBe(false);
    }
  });

  it('a replacement that fails to become ready aborts the reload and keeps the old worker', async () => {
    const marker = join(tmpdir(), `drover-reload-marker-${process.pid}-${Date.now()}`);
    current = startLoop({ maxWorkerNum: 2 }, { initFailIfFile: marker });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    // From now on a new worker's init fails, as after a bad deploy.
    writeFileSync(marker, 'x');
    try {
      const before = readyPids(group);
      group.signal('SIGHUP');
      const result = await group.waitEvent(is('reload'), 'reload result');
      expect(result).toMatchObject({ replaced: 0, aborted: true });
      for (const pid of before.values()) expect(pidAlive(pid)).toBe(true);
      // (errors go to stderr, events to stdout: wait rather than assume their order)
      await group.waitFor('the abort logged', () =>
        group.output.includes('reload of worker 0 aborted, old worker kept'),
      );
      // the kept workers never exited: the successor that crashed is the reload's outcome, not a
      // last exit of the PIN's worker
      const status = await new Manage({ baseTitle: 'loop', runDir: current.runDir }).status();
      expect(status.workers.map((w) => [w.pin, w.pid, w.lastExit])).toEqual(
        [...before].sort((a, b) => a[0] - b[0]).map(([pin, pid]) => [pin, pid, null]),
      );
      expect(status.master.lastReload).toMatchObject({
        aborted: true,
        error: expect.stringContaining('failed to start'),
      });
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('reload requests made during a reload coalesce into one more', async () => {
    // Slow inits keep the first reload running while the other requests arrive.
    current = startLoop({ maxWorkerNum: 2 }, { initMs: 700 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    const first = client.reload();
    await group.waitFor('first reload running', () => group.output.includes('reload started'));
    const later = [client.reload(), client.reload(), client.reload()];
    const results = await Promise.all([first, ...later]);
    expect(results.every((r) => !r.aborted && r.replaced === 2)).toBe(true);
    // the three requests made during the first reload share a single second one
    expect(group.count(is('reload'))).toBe(2);
    expect(group.output.match(/reload started/g)).toHaveLength(2);
  });
});

describe('scaling', () => {
  it('SIGTTIN adds a worker on the next PIN, SIGTTOU removes the highest', async () => {
    current = startLoop({ maxWorkerNum: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGTTIN');
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 2),
      'pin 2 ready',
    );
    group.signal('SIGTTOU');
    const gone = await group.waitEvent(
      is('workerExit', (e) => e.pin === 2),
      'pin 2 gone',
    );
    expect(gone.reason).toBe('scale');
    // listeners (a pool closing the worker's lane) hear of it before it exits
    expect(group.count(is('workerStop', (e) => e.pid === gone.pid && e.reason === 'scale'))).toBe(1);
    expect(group.alive).toBe(true);
  });

  it('SIGTTOU at one worker keeps it and says so in the log', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGTTOU');
    await group.waitFor('the notice', () => group.output.includes("SIGTTOU: 'loop' keeps its last worker"));
    expect(group.output).toContain("'drover scale loop 0' stops them all");
    expect(group.count(is('workerExit'))).toBe(0);
  });

  it('SIGTTOU on a group scaled to 0 keeps it at 0 and says so in the log', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    expect(await client.scale(0)).toEqual({ from: 1, to: 0, killed: 0, stopTimeout: 10_000 });
    group.signal('SIGTTOU');
    await group.waitFor('the notice', () => group.output.includes("SIGTTOU: 'loop' has no worker to stop"));
    // the scale the signal queued has run once the notice is out: nothing was started
    expect((await client.status()).workers).toEqual([]);
    expect(group.count(is('workerStart'))).toBe(1);
    expect(group.alive).toBe(true);
  });

  it('scale(n) through the control socket sets the exact count', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    expect(await client.scale(4)).toEqual({ from: 1, to: 4, killed: 0, stopTimeout: 10_000 });
    let status = await client.status();
    expect(status.workers.map((w) => [w.pin, w.state === 'ready' || w.state === 'busy'])).toEqual([
      [0, true],
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(await client.scale(2)).toEqual({ from: 4, to: 2, killed: 0, stopTimeout: 10_000 });
    status = await client.status();
    expect(status.workers.map((w) => w.pin)).toEqual([0, 1]);
    expect(status.master.targetWorkers).toBe(2);
  });

  it('a scale down that leaves only finished workers ends the group as their finish would: exit 0', async () => {
    current = startLoop({ maxWorkerNum: 2 }, { donePin: 0 });
    const { group, runDir } = current;
    await group.waitEvent(
      is('workerExit', (e) => e.pin === 0 && e.reason === 'normal'),
      'pin 0 finished',
    );
    expect(group.alive).toBe(true);
    expect(await new Manage({ baseTitle: 'loop', runDir }).scale(1)).toEqual({
      from: 2,
      to: 1,
      killed: 0,
      stopTimeout: 10_000,
    });
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.output).toContain('every worker finished');
  });
});

describe('restart and scale whose new workers do not come up', () => {
  // a failed worker's next start waits 15-30 s: longer than the test, so nothing hides the failure
  const slowBackoff = { initialDelayMs: 30_000, maxDelayMs: 30_000 };

  it('a restart whose workers fail their init is an error naming them; the master stays up', async () => {
    const marker = join(tmpdir(), `drover-init-fail-${process.pid}-${Date.now()}`);
    current = startLoop({ maxWorkerNum: 2, restart: slowBackoff }, { initFailIfFile: marker });
    const { group, runDir } = current;
    try {
      await group.waitEvent(is('started'), 'started');
      writeFileSync(marker, '');
      const failure = await new Manage({ baseTitle: 'loop', runDir }).restart().then(
        () => null,
        (err: Error & { code?: string }) => err,
      );
      expect(failure).toMatchObject({ code: 'ENOTREADY' });
      // each worker's failure without its own hint: the hint is the one for the PINs
      expect(failure!.message).toMatch(
        /^drover: 'loop' restarted the workers, but workers 0, 1 did not become ready \(worker \d of 'loop' failed to start: Error: init refused: marker file present\); they are started again with backoff/,
      );
      expect(failure!.message).not.toContain("the worker's own output");
      expect(group.alive).toBe(true);
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('a scale whose new PIN fails its init is an error naming it; the count is applied', async () => {
    current = startLoop({ maxWorkerNum: 1, restart: slowBackoff }, { initFailPin: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    await expect(client.scale(2)).rejects.toMatchObject({
      code: 'ENOTREADY',
      message: expect.stringContaining('scaled from 1 to 2 workers, but worker 1 did not become ready'),
    });
    expect((await client.status()).master.targetWorkers).toBe(2);
    expect(group.alive).toBe(true);
  });
});

describe('operations that meet a stopping group', () => {
  it('restart and scale are errors (ESTOPPING); a reload says the group is stopping', async () => {
    // one execution of 20 s keeps the group stopping for as long as the test needs
    current = startLoop({ maxWorkerNum: 1, stopTimeout: 30_000 }, { workMs: 20_000 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    const stopping = client.stop({ timeoutMs: 60_000 }).catch(() => {});
    await group.waitFor('the stop to begin', () => group.output.includes('stopping reason=stop'));
    await expect(client.restart()).rejects.toMatchObject({ code: 'ESTOPPING' });
    await expect(client.scale(2)).rejects.toMatchObject({
      code: 'ESTOPPING',
      message: expect.stringContaining("drover: cannot scale 'loop': the group is stopping"),
    });
    expect(await client.reload()).toEqual({
      replaced: 0,
      started: 0,
      notStarted: [],
      aborted: true,
      error: 'the group is stopping',
    });
    group.signal('SIGINT'); // a second signal ends the wait for the execution
    await stopping;
  });
});

/** The live worker processes of the master `masterPid`, by their titles (the reaper is not one). */
function workerChildren(masterPid: number): number[] {
  return Process.children(masterPid).filter((pid) => psArgs(pid).startsWith('drover:Worker:'));
}

describe('restart', () => {
  it('stops every worker, then starts exactly one process per PIN', async () => {
    current = startLoop({ maxWorkerNum: 2 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const before = [...readyPids(group).values()];
    const startsBefore = group.count(is('workerStart'));
    await new Manage({ baseTitle: 'loop', runDir }).restart();
    await waitAllDead(before, 10_000);
    for (const pid of before)
      expect(group.count(is('workerStop', (e) => e.pid === pid && e.reason === 'restart'))).toBe(1);
    // one start per PIN: a restarted PIN used to be started twice, one process unsupervised
    expect(group.count(is('workerStart')) - startsBefore).toBe(2);
    const live = workerChildren(group.pid);
    expect(live).toHaveLength(2);
    const status = await new Manage({ baseTitle: 'loop', runDir }).status();
    expect(status.workers.map((w) => w.pid).sort()).toEqual(live.sort());
    // every PIN has one process more than its first, as after a reload or a respawn
    expect(status.workers.map((w) => w.restarts)).toEqual([1, 1]);
  });
});

/** SIGHUP, then waits until PIN 0's old process was asked to stop; returns its pid. */
async function reloadPinZero(group: RunningGroup): Promise<number> {
  const old = readyPids(group).get(0)!;
  group.signal('SIGHUP');
  await group.waitEvent(
    is('workerStop', (e) => e.pid === old && e.reason === 'reload'),
    'old worker asked to stop',
  );
  return old;
}

describe('replaced workers still finishing their execution', () => {
  it('a stop during a reload waits for the replaced worker too: none outlives the master', async () => {
    // Executions take 4 s while the marker exists: the old worker is in its first one when the
    // reload replaces it; the marker goes as its successor is forked, so the successor stops at once.
    const marker = join(tmpdir(), `drover-slow-${process.pid}-${Date.now()}`);
    writeFileSync(marker, '');
    current = startLoop(
      { maxWorkerNum: 1, stopTimeout: 20_000 },
      { slowWhileFile: marker, slowMs: 4000, reportExecutionEnd: true },
    );
    const { group } = current;
    try {
      await group.waitEvent(is('started'), 'started');
      const old = readyPids(group).get(0)!;
      group.signal('SIGHUP');
      await group.waitEvent(
        is('workerStart', (e) => e.pin === 0 && e.pid !== old),
        'successor forked',
      );
      rmSync(marker);
      await group.waitEvent(
        is('workerStop', (e) => e.pid === old && e.reason === 'reload'),
        'old worker asked to stop',
      );
      group.signal('SIGTERM');
      expect(await group.waitExit(20_000)).toEqual({ code: 0, signal: null });
      expect(pidAlive(old)).toBe(false);
      // it was let finish its execution, and its exit was seen
      expect(group.count(is('executionEnd', (e) => e.pid === old))).toBe(1);
      expect(group.count(is('workerExit', (e) => e.pid === old))).toBe(1);
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('a second SIGINT during a reload kills the replaced worker with the others', async () => {
    current = startLoop({ maxWorkerNum: 1, stopTimeout: 20_000 }, { workMs: 20_000 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const old = await reloadPinZero(group);
    group.signal('SIGINT');
    await group.waitFor('the graceful stop', () => group.output.includes('SIGINT received'));
    group.signal('SIGINT');
    const ended = await group.waitExit(10_000);
    expect(ended.code).not.toBe(0);
    expect(pidAlive(old)).toBe(false);
    expect(group.events.find(is('workerExit', (e) => e.pid === old))).toMatchObject({ signal: 'SIGKILL' });
  });
});

describe('status during a reload', () => {
  it("shows a PIN's successor while it starts and its replaced process while it finishes", async () => {
    current = startLoop({ maxWorkerNum: 1, stopTimeout: 20_000 }, { initMs: 2500, workMs: 20_000 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const old = readyPids(group).get(0)!;
    const client = new Manage({ baseTitle: 'loop', runDir });
    const pinZero = async () => (await client.status()).workers[0]!;
    group.signal('SIGHUP');
    const started = await group.waitEvent(
      is('workerStart', (e) => e.pin === 0 && e.pid !== old),
      'successor',
    );
    const next = started.pid as number;
    const starting = await pinZero();
    expect(starting).toMatchObject({ pid: old, state: 'busy' });
    expect(starting.others).toMatchObject([{ pid: next, role: 'successor', state: 'starting' }]);
    await group.waitEvent(
      is('workerStop', (e) => e.pid === old),
      'old worker asked to stop',
    );
    const handedOver = await pinZero();
    expect(handedOver).toMatchObject({ pid: next });
    expect(handedOver.others).toMatchObject([{ pid: old, role: 'replaced', state: 'draining' }]);
    expect(renderStatusTable([await client.status()])).toMatch(
      new RegExp(`\\b${old}\\b.*draining \\(replaced\\)`),
    );
  });
});

describe('a PIN whose worker crashed', () => {
  it.each([
    {
      when: 'gave up',
      restart: { initialDelayMs: 10, maxDelayMs: 20, maxRestarts: 2 },
      event: 'workerFailed',
      state: 'failed',
      logged: 'starting again a worker that had given up',
    },
    {
      // a second fast crash waits 15-30 s: far longer than the test's deadlines
      when: 'is in backoff',
      restart: { initialDelayMs: 30_000, maxDelayMs: 30_000 },
      event: 'workerBackoff',
      state: 'backoff',
      logged: 'reload starts a worker in backoff now',
    },
  ])(
    'and $when comes back at once with a reload once the cause is fixed',
    async ({ restart, event, state, logged }) => {
      const marker = join(tmpdir(), `drover-crash-${process.pid}-${Date.now()}`);
      current = startLoop({ maxWorkerNum: 2, restart }, { crashIfFile: marker, crashPin: 0 });
      const { group, runDir } = current;
      try {
        await group.waitEvent(is('started'), 'started');
        writeFileSync(marker, '');
        await group.waitEvent(
          is(event, (e) => e.pin === 0),
          `PIN 0: ${event}`,
        );
        const client = new Manage({ baseTitle: 'loop', runDir });
        const [crashed, other] = (await client.status()).workers;
        expect(crashed!.state).toBe(state);
        expect(other!.state).not.toMatch(/failed|backoff|stopped/);
        rmSync(marker, { force: true });
        // PIN 1 ran and is replaced; PIN 0 had no worker: it is started, not replaced
        expect(await client.reload()).toEqual({ replaced: 1, started: 1, notStarted: [], aborted: false });
        expect(group.output).toContain(logged);
        for (const w of (await client.status()).workers) {
          expect(w.state).toMatch(/^(ready|idle|busy)$/);
          expect(w.nextStartAt).toBeUndefined();
        }
        expect(group.alive).toBe(true);
      } finally {
        rmSync(marker, { force: true });
      }
    },
  );

  it('in backoff, a reload that does not fix it says so: the PIN is not started, the others are replaced', async () => {
    const marker = join(tmpdir(), `drover-crash-${process.pid}-${Date.now()}`);
    current = startLoop(
      { maxWorkerNum: 2, restart: { initialDelayMs: 30_000, maxDelayMs: 30_000 } },
      // PIN 0 crashes in its work, and a new worker on it fails its init, while the file exists
      { crashIfFile: marker, crashPin: 0, initFailIfFile: marker, initFailIfFilePin: 0 },
    );
    const { group, runDir } = current;
    try {
      await group.waitEvent(is('started'), 'started');
      writeFileSync(marker, '');
      await group.waitEvent(
        is('workerBackoff', (e) => e.pin === 0),
        'PIN 0: workerBackoff',
      );
      const client = new Manage({ baseTitle: 'loop', runDir });
      const result = await client.reload();
      expect(result).toMatchObject({ replaced: 1, started: 0, aborted: false });
      expect(result.notStarted).toEqual([{ pin: 0, error: expect.stringContaining('marker file present') }]);
      expect(group.alive).toBe(true);
    } finally {
      rmSync(marker, { force: true });
    }
  });
});

describe('operations that meet a recycle', () => {
  it('restart() while a loop worker finishes its recycle: one process per PIN after', async () => {
    // executions of 2.5 s: the age limit falls inside one, and the restart comes during its drain
    current = startLoop(
      { maxWorkerNum: 1, limitSeconds: 1, recycleJitter: 0, executeUSleep: 0, stopTimeout: 20_000 },
      { workMs: 2500 },
    );
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const old = readyPids(group).get(0)!;
    await group.waitEvent(
      is('workerStop', (e) => e.pid === old && e.reason === 'recycle'),
      'the recycle',
    );
    const client = new Manage({ baseTitle: 'loop', runDir });
    await client.restart();
    await waitAllDead([old], 10_000);
    const live = workerChildren(group.pid);
    expect(live).toHaveLength(1);
    expect((await client.status()).workers.map((w) => w.pid)).toEqual(live);
  });

  it('a worker that reached executeTimes during a reload that failed is still recycled', async () => {
    const marker = join(tmpdir(), `drover-fail-once-${process.pid}-${Date.now()}`);
    current = startLoop(
      { maxWorkerNum: 1, executeTimes: 5, recycleJitter: 0, executeUSleep: 0 },
      { workMs: 200, initFailOnceFile: marker, failAfterMs: 2000 },
    );
    const { group } = current;
    try {
      await group.waitEvent(is('started'), 'started');
      const old = readyPids(group).get(0)!;
      writeFileSync(marker, '');
      group.signal('SIGHUP');
      const reload = await group.waitEvent(is('reload'), 'the reload', 1, 15_000);
      expect(reload.aborted).toBe(true);
      // the kept worker had asked to be recycled meanwhile: it is, and its PIN works again
      const exit = await group.waitEvent(
        is('workerExit', (e) => e.pid === old),
        'the kept worker recycled',
      );
      expect(exit.reason).toBe('recycle');
      await group.waitEvent(
        is('workerReady', (e) => e.pin === 0 && (e.t as number) > (exit.t as number)),
        'successor',
      );
    } finally {
      rmSync(marker, { force: true });
    }
  });
});

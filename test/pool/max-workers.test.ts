// docs/pool.md, "Workers, permanent and temporary": a pool never runs more than maxWorkers worker
// processes, counting those still finishing (a recycled worker's last tasks, a retired PIN's).
// Each test counts processes three ways: from the master's workerStart/workerExit events in
// order, by sampling the master's live child processes, and from status() at a chosen moment.
import { readFileSync } from 'node:fs';
import { Manage } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { FixtureEvent } from '../support/group.js';
import { pidAlive, psArgs } from '../support/group.js';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
let watch: ProcessWatch | undefined;
afterEach(async () => {
  watch?.stop();
  watch = undefined;
  await current?.cleanup();
  current = undefined;
});

/** The most worker processes alive at once, from the master's events in the order it emitted them. */
function mostAlive(events: FixtureEvent[]): number {
  let alive = 0;
  let most = 0;
  for (const e of events) {
    if (e.event === 'workerStart') most = Math.max(most, ++alive);
    if (e.event === 'workerExit') alive--;
  }
  return most;
}

/** Worker processes in a status: each PIN's own, and the others it lists (successors, replaced ones). */
function statusProcesses(status: { workers: Array<Record<string, unknown>> }): number {
  let n = 0;
  for (const w of status.workers) {
    if (w.pid !== null) n++;
    n += ((w.others as unknown[] | undefined) ?? []).length;
  }
  return n;
}

/** Samples the master's live children titled as workers, every few ms, and keeps the most seen. */
class ProcessWatch {
  most = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly masterPid: number) {
    this.timer = setInterval(() => {
      this.most = Math.max(this.most, this.workers().length);
    }, 5);
  }

  workers(): number[] {
    let children: number[];
    try {
      children = readFileSync(`/proc/${this.masterPid}/task/${this.masterPid}/children`, 'latin1')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
    return children.filter((pid) => pidAlive(pid) && psArgs(pid).includes('drover:Worker:pool'));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Starts the pool fixture and a watch on its processes. */
function start(config: Record<string, unknown>): StartedPool {
  current = startPool(config);
  watch = new ProcessWatch(current.group.pid);
  return current;
}

/**
 * A pool of one permanent worker (up to 3) whose PIN 0 is recycled (executeTimes 1) while its old
 * process still runs a task of `longMs`: resolves once the successor is ready beside it.
 */
async function recycledWhileFinishing(longMs: number) {
  const started = start({
    minWorkers: 1,
    maxWorkers: 3,
    concurrencyPerWorker: 2,
    executeTimes: 1,
    recycleJitter: 0,
    idleTimeout: 60_000,
    scaleInterval: 50,
  });
  const { group } = started;
  await group.waitEvent(is('started'), 'started');
  const first = group.events.find(is('workerReady'))!.pid as number;
  // PIN 0 takes both: the short one ends its share (executeTimes 1), the long one runs on
  // while its successor, started beside it (there is room), takes over the PIN
  const short = group.command('submit', { payload: { x: 1, sleepMs: 50 } });
  const long = group.command('submit', { payload: { x: 2, sleepMs: longMs } });
  await group.waitEvent(is('taskStart'), 'both on PIN 0', 2);
  expect((await group.answer(short)).event).toBe('result');
  const successor = await group.waitEvent(
    is('workerReady', (e) => e.pin === 0 && e.pid !== first),
    "PIN 0's successor",
  );
  expect(pidAlive(first)).toBe(true);
  return { ...started, first, long, successor };
}

describe('maxWorkers bounds the worker processes', () => {
  it('a recycle at maxWorkers is not rolling: the worker finishes and exits, then its successor starts', async () => {
    const { group } = start({ minWorkers: 1, executeTimes: 2, recycleJitter: 0 });
    await group.waitEvent(is('started'), 'started');
    const refs = Array.from({ length: 6 }, (_, x) =>
      group.command('submit', { payload: { x, sleepMs: 50 } }),
    );
    for (const ref of refs) expect((await group.answer(ref)).event).toBe('result');
    // each worker ran its two tasks: three recycled, a fourth one ready
    await group.waitEvent(is('workerExit'), 'three recycled', 3);
    await group.waitEvent(is('workerReady'), 'a fourth worker', 4);
    expect(mostAlive(group.events)).toBe(1);
    expect(watch!.most).toBe(1);
    expect(group.events.filter(is('workerExit')).every((e) => e.reason === 'recycle')).toBe(true);
    expect(group.count(is('taskRetry'))).toBe(0);
  });

  it('a replaced worker still finishing its task holds its place: the autoscaler does not fill it', async () => {
    const { group, first, long, successor } = await recycledWhileFinishing(6000);
    const during = await group.status();
    expect(statusProcesses(during)).toBe(2);
    // a backlog while the old process finishes: room for one temporary worker, not two
    const more = Array.from({ length: 8 }, (_, x) =>
      group.command('submit', { payload: { x: 10 + x, sleepMs: 3000 } }),
    );
    await group.waitEvent(is('scaleUp'), 'a scale up');
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 1),
      'the temporary worker',
    );
    expect(group.count(is('workerExit', (e) => e.pid === first))).toBe(0);
    expect(statusProcesses(await group.status())).toBe(3);
    for (const ref of [long, ...more]) expect((await group.answer(ref, 30_000)).event).toBe('result');
    expect(successor.pid).not.toBe(first);
    expect(mostAlive(group.events)).toBeLessThanOrEqual(3);
    expect(watch!.most).toBeLessThanOrEqual(3);
  }, 60_000);

  it("a retired temporary PIN keeps its replaced process's place until that process exits", async () => {
    const { group } = start({
      minWorkers: 1,
      maxWorkers: 3,
      concurrencyPerWorker: 2,
      executeTimes: 1,
      recycleJitter: 0,
      idleTimeout: 300,
      scaleInterval: 50,
    });
    await group.waitEvent(is('started'), 'started');
    const permanent = group.events.find(is('workerReady'))!.pid;
    // PIN 0 is full for a while (it recycles after its first task: both run to their end)
    const full = [1, 2].map((x) => group.command('submit', { payload: { x, sleepMs: 12_000 } }));
    await group.waitEvent(is('taskStart'), 'PIN 0 full', 2);
    // a temporary worker on PIN 1 takes a short and a long task; after the short one it is
    // recycled beside itself, and its idle successor retires while the long task still runs
    const short = group.command('submit', { payload: { x: 3, sleepMs: 50 } });
    const long = group.command('submit', { payload: { x: 4, sleepMs: 8000 } });
    const temporary = await group.waitEvent(
      is('workerReady', (e) => e.pin === 1),
      'a temporary worker',
    );
    expect((await group.answer(short)).event).toBe('result');
    const successor = await group.waitEvent(
      is('workerReady', (e) => e.pin === 1 && e.pid !== temporary.pid),
      "PIN 1's successor",
    );
    await group.waitEvent(
      is('workerExit', (e) => e.pid === successor.pid && e.reason === 'idle'),
      'the successor retired idle',
    );
    expect(pidAlive(temporary.pid as number)).toBe(true);
    expect(pidAlive(permanent as number)).toBe(true);
    // the master still counts it: status shows both processes alive
    const retired = await group.status();
    expect(watch!.workers()).toHaveLength(2);
    expect(statusProcesses(retired)).toBe(2);
    // a backlog now: PIN 1's old process still holds a place, so one temporary worker fits
    const starts = group.count(is('workerStart'));
    const more = Array.from({ length: 4 }, (_, x) =>
      group.command('submit', { payload: { x: 10 + x, sleepMs: 1500 } }),
    );
    await group.waitEvent(is('scaleUp'), 'a scale up', 2);
    await group.waitEvent(is('workerStart'), 'a new worker', starts + 1);
    expect(group.count(is('workerExit', (e) => e.pid === temporary.pid))).toBe(0);
    expect(statusProcesses(await group.status())).toBe(3);
    for (const ref of [long, ...more]) expect((await group.answer(ref, 30_000)).event).toBe('result');
    expect(mostAlive(group.events)).toBeLessThanOrEqual(3);
    expect(watch!.most).toBeLessThanOrEqual(3);
    for (const ref of full) expect((await group.answer(ref, 30_000)).event).toBe('result');
  }, 60_000);

  it('a scale up starts a PIN once a process still finishing leaves room', async () => {
    const { group, runDir, first, long } = await recycledWhileFinishing(5000);
    // two processes on PIN 0 now: PINs 1 and 2 make four, so one of them waits for the old one
    const scaled = new Manage({ baseTitle: 'pool', runDir }).scale(3);
    await group.waitEvent(
      is('workerStart', (e) => e.pin === 1),
      'PIN 1 started',
    );
    expect(statusProcesses(await group.status())).toBe(3);
    expect(group.count(is('workerStart', (e) => e.pin === 2))).toBe(0);
    expect(await scaled).toMatchObject({ from: 1, to: 3, killed: 0 });
    expect(group.count(is('workerExit', (e) => e.pid === first))).toBe(1);
    expect((await group.answer(long)).event).toBe('result');
    const after = await group.status();
    expect(after.workers.map((w) => [w.pin, w.kind])).toEqual([
      [0, 'permanent'],
      [1, 'permanent'],
      [2, 'permanent'],
    ]);
    expect(mostAlive(group.events)).toBeLessThanOrEqual(3);
    expect(watch!.most).toBeLessThanOrEqual(3);
  }, 60_000);

  it('temporary PINs stay below maxWorkers: a scale up over a retired temporary PIN, with another temporary worker above it, holds the bound', async () => {
    const { group, runDir } = start({
      minWorkers: 2,
      maxWorkers: 4,
      idleTimeout: 300,
      scaleInterval: 50,
    });
    await group.waitEvent(is('started'), 'started');
    const busy = [0, 1].map((x) => group.command('submit', { payload: { x, sleepMs: 10_000 } }));
    await group.waitEvent(is('taskStart'), 'PINs 0 and 1 busy', 2);
    // a temporary worker on PIN 2 for a short task, then one on PIN 3 for a long one
    const short = group.command('submit', { payload: { x: 2, sleepMs: 1500 } });
    await group.waitEvent(
      is('taskStart', (e) => e.pin === 2),
      'the short task on PIN 2',
    );
    const long = group.command('submit', { payload: { x: 3, sleepMs: 8000 } });
    await group.waitEvent(
      is('taskStart', (e) => e.pin === 3),
      'the long task on PIN 3',
    );
    expect((await group.answer(short)).event).toBe('result');
    await group.waitEvent(
      is('workerExit', (e) => e.pin === 2 && e.reason === 'idle'),
      'PIN 2 retired',
    );
    // a permanent PIN 2 starts while PIN 3's temporary worker runs: four processes, maxWorkers
    expect(await new Manage({ baseTitle: 'pool', runDir }).scale(3)).toMatchObject({
      from: 2,
      to: 3,
      killed: 0,
    });
    const status = await group.status();
    expect(status.workers.map((w) => [w.pin, w.kind])).toEqual([
      [0, 'permanent'],
      [1, 'permanent'],
      [2, 'permanent'],
      [3, 'temporary'],
    ]);
    expect(statusProcesses(status)).toBe(4);
    for (const ref of [...busy, long]) expect((await group.answer(ref, 30_000)).event).toBe('result');
    expect(mostAlive(group.events)).toBeLessThanOrEqual(4);
    expect(watch!.most).toBeLessThanOrEqual(4);
  }, 60_000);
});

describe('temporary workers', () => {
  it('one that crashes is not started again; a backlog brings a new one', async () => {
    const { group } = start({
      minWorkers: 1,
      maxWorkers: 2,
      maxAttempts: 1,
      idleTimeout: 60_000,
      scaleInterval: 50,
    });
    await group.waitEvent(is('started'), 'started');
    const busy = group.command('submit', { payload: { x: 0, sleepMs: 10_000 } });
    await group.waitEvent(is('taskStart'), 'PIN 0 busy');
    const lost = group.command('submit', { payload: { x: 1, sleepMs: 10_000 } });
    const running = await group.waitEvent(
      is('taskStart', (e) => e.kind === 'temporary'),
      'a task on a temporary worker',
    );
    process.kill(running.pid as number, 'SIGKILL');
    await group.waitEvent(
      is('workerExit', (e) => e.pid === running.pid && e.reason === 'crash'),
      'its exit',
    );
    expect((await group.answer(lost)).code).toBe('ETASKFAILED');
    const status = await group.status();
    expect(status.workers.map((w) => [w.pin, w.kind])).toEqual([[0, 'permanent']]);
    expect(status.pool).toMatchObject({ permanent: 1, temporary: 0 });
    expect(group.count(is('workerStart', (e) => e.pin === 1))).toBe(1);
    // the autoscaler starts one again when the backlog calls for it
    const next = group.command('submit', { payload: { x: 2, sleepMs: 100 } });
    expect((await group.answer(next)).value).toMatchObject({ pin: 1, kind: 'temporary' });
    expect(group.count(is('scaleUp'))).toBe(2);
    expect((await group.answer(busy, 30_000)).event).toBe('result');
  }, 40_000);

  it('one running a task when the pool stops finishes it, then exits with reason stop', async () => {
    const { group } = start({ minWorkers: 1, maxWorkers: 2, idleTimeout: 60_000, scaleInterval: 50 });
    await group.waitEvent(is('started'), 'started');
    const refs = [0, 1].map((x) => group.command('submit', { payload: { x, sleepMs: 1500 } }));
    const running = await group.waitEvent(
      is('taskStart', (e) => e.kind === 'temporary'),
      'a task on a temporary worker',
    );
    group.command('stop');
    expect(await group.waitExit(30_000)).toEqual({ code: 0, signal: null });
    for (const ref of refs) expect((await group.answer(ref)).event).toBe('result');
    expect(group.events.find(is('workerExit', (e) => e.pid === running.pid))).toMatchObject({
      reason: 'stop',
      signal: null,
    });
    expect(group.count(is('taskRetry'))).toBe(0);
  }, 40_000);
});

describe('scale by signal', () => {
  it('SIGTTIN bursts queued behind a reload each count: two bursts add two workers', async () => {
    const { group } = start({ minWorkers: 1, maxWorkers: 3, idleTimeout: 60_000, scaleInterval: 50 });
    await group.waitEvent(is('started'), 'started');
    const first = group.events.find(is('workerReady'))!.pid as number;
    // the reload waits for PIN 0's task to end on its old process
    const long = group.command('submit', { payload: { x: 0, sleepMs: 4000 } });
    await group.waitEvent(is('taskStart'), 'the long task running');
    const reload = group.command('reload');
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 0 && e.pid !== first),
      "PIN 0's successor",
    );
    group.signal('SIGTTIN');
    // a status round trip: the first burst has been taken in
    await group.status();
    group.signal('SIGTTIN');
    await group.status();
    expect((await group.answer(reload)).result).toMatchObject({ replaced: 1, aborted: false });
    expect((await group.answer(long)).event).toBe('result');
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 2),
      'a worker on PIN 2',
    );
    const status = await group.status();
    expect(status.pool).toMatchObject({ permanent: 3, temporary: 0 });
  }, 40_000);
});

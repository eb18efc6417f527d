import { afterEach, describe, expect, it } from 'vitest';
import { type FixtureEvent, type RunningGroup, startFixture, tempDir } from '../support/group.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function run(scenario: string, name: string, env: Record<string, string> = {}): RunningGroup {
  const { dir, cleanup } = tempDir();
  const group = startFixture('core/api-edges.mjs', {
    env: { SCENARIO: scenario, GROUP_NAME: name, GROUP_CONFIG: JSON.stringify({ runDir: dir }), ...env },
  });
  cleanups.push(cleanup, () => group.kill());
  return group;
}

const event = (group: RunningGroup, name: string, timeoutMs?: number): Promise<FixtureEvent> =>
  group.waitEvent((e) => e.event === name, name, 1, timeoutMs);

describe('sendTo and broadcast', () => {
  it('sendTo is true for every message queued to a live worker, however full the channel; the worker gets them all', async () => {
    const group = run('send', 'api-edges-send');
    // 200 messages of 64 kB fill the pipe many times over, and Node's back-pressure hint says
    // false, but stay under the bound of what the master holds for a worker (16 MiB)
    const burst = await event(group, 'burst', 60_000);
    expect(burst).toMatchObject({ trues: 200, falses: 0 });
    const final = await event(group, 'final');
    expect(final.returned).toBe(true);
    // every message of the burst, and the final one, arrived
    const received = await group.waitEvent(
      (e) => e.event === 'message' && (e.data as { received?: number }).received !== undefined,
      'the worker counted what it received',
      1,
      60_000,
    );
    expect((received.data as { received: number }).received).toBe(201);
    // a PIN with no process is the one false
    expect((await event(group, 'absentPin')).returned).toBe(false);
  });

  it('a value JSON cannot carry throws EPAYLOAD naming the problem, from sendTo (also to a starting worker) and broadcast', async () => {
    const group = run('send', 'api-edges-payload', { BURST: '0' });
    const early = await event(group, 'early');
    expect(early.code).toBe('EPAYLOAD');
    expect(early.message).toMatch(
      /^drover: the message to worker 0 of 'api-edges-payload' cannot be sent as JSON \(.*BigInt.*\); send plain data/,
    );
    const bigint = await event(group, 'bigint');
    expect(bigint.code).toBe('EPAYLOAD');
    expect(bigint.message).toMatch(/cannot be sent as JSON \(Do not know how to serialize a BigInt\)/);
    expect((await event(group, 'cycle')).message).toMatch(/cannot be sent as JSON \(.*circular/i);
    expect((await event(group, 'function')).message).toMatch(/cannot be sent as JSON \(it is a function\)/);
    const broadcast = await event(group, 'broadcastBigint');
    expect(broadcast.code).toBe('EPAYLOAD');
    expect(broadcast.message).toMatch(
      /^drover: the broadcast message of 'api-edges-payload' cannot be sent as JSON \(Do not know how to serialize a BigInt\)/,
    );
    // none of the refused messages reached the worker: it counted only the final one
    const received = await group.waitEvent(
      (e) => e.event === 'message' && (e.data as { received?: number }).received !== undefined,
      'the worker counted what it received',
    );
    expect((received.data as { received: number }).received).toBe(1);
  });

  it('a PIN that is not an integer >= 0 is refused with EINVAL naming it; a PIN with no process is false', async () => {
    const group = run('send', 'api-edges-pin', { BURST: '0' });
    const text = await event(group, 'stringPin');
    expect(text.code).toBe('EINVAL');
    expect(text.message).toBe(
      `drover: sendTo() of 'api-edges-pin' got PIN "0"; a PIN is an integer >= 0 (a worker's pin in workerReady or status()); convert one read from text with Number()`,
    );
    expect((await event(group, 'negativePin')).message).toMatch(/got PIN -1;/);
    expect((await event(group, 'fractionPin')).message).toMatch(/got PIN 0.5;/);
    expect(await event(group, 'absentPin')).toMatchObject({ returned: false });
  });
});

describe('start() called twice at once', () => {
  it('the second call shares the first: one master, its pid file kept, stop() stops it and the process ends', async () => {
    const group = run('twice', 'api-edges-twice');
    const started = await event(group, 'started', 30_000);
    expect(started.results).toEqual([{ pid: group.pid }, { pid: group.pid }]);
    expect(started.pidFile).toBe(true);
    const stopped = await event(group, 'stopped', 30_000);
    expect(stopped.pidFile).toBe(false);
    // nothing is left to keep it alive (no keeper writing the pid file back, no second master)
    expect((await group.waitExit(15_000)).code).toBe(0);
    expect(group.output).not.toMatch(/run files were removed|already running/);
  });
});

describe('ManageMultiple with a group whose workers all finished', () => {
  it('reload() and restart() leave the finished group out instead of failing it as "stopping"', async () => {
    const group = run('multi', 'api-edges-mm');
    await event(group, 'finished', 30_000);
    const reloaded = await event(group, 'reloaded', 30_000);
    const results = reloaded.results as Array<{ baseTitle: string; aborted: boolean }>;
    expect(results.map((r) => r.baseTitle)).toEqual(['api-edges-mm-on']);
    expect(results[0]?.aborted).toBe(false);
    expect(await event(group, 'restarted', 30_000)).toBeTruthy();
    await event(group, 'stopped', 30_000);
    expect(group.output).not.toMatch(/the group is stopping/);
    expect(group.count((e) => e.event === 'reloadFailed' || e.event === 'restartFailed')).toBe(0);
    expect((await group.waitExit(15_000)).code).toBe(0);
  });
});

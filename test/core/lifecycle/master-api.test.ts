// docs/manage.md: manage.sendTo(pin, data) reaches that PIN's worker alone and is false for a PIN
// without a process; the master's `stop` event comes once every worker has exited.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, type FixtureEvent, pidAlive, RunningGroup, tempDir } from '../../support/group.js';
import type { GroupStatus } from '../../../packages/core/src/status.js';
import { is, readyPids } from './helpers.js';

/** The messaging fixture, driven by JSON lines on its stdin. */
class MessagingGroup extends RunningGroup {
  private refs = 0;

  /** Sends a command; resolves with the answer that carries its ref. */
  command(cmd: string, fields: Record<string, unknown> = {}): Promise<FixtureEvent> {
    const ref = ++this.refs;
    this.proc.stdin?.write(`${JSON.stringify({ cmd, ref, ...fields })}\n`);
    return this.waitEvent((e) => e.ref === ref, `the answer to ${cmd} #${ref}`);
  }

  async sendTo(pin: number, data: unknown): Promise<boolean> {
    const answer = await this.command('sendTo', { pin, data });
    expect(answer.event).toBe('sent');
    return answer.returned as boolean;
  }

  /** The echoes of `token` the workers sent back. */
  echoes(token: string): FixtureEvent[] {
    return this.events.filter(
      is('message', (e) => (e.data as { echo?: { token?: string } }).echo?.token === token),
    );
  }
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function startMessaging(config: Record<string, unknown> = {}): MessagingGroup {
  const { dir, cleanup } = tempDir('drover-messaging-');
  const proc = spawn(
    process.execPath,
    ['--title=drover:Master:messaging', join(FIXTURES, 'core/messaging.mjs')],
    {
      env: { ...process.env, NO_COLOR: '1', GROUP_CONFIG: JSON.stringify({ runDir: dir, ...config }) },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const group = new MessagingGroup(proc);
  cleanups.push(async () => {
    await group.kill();
    cleanup();
  });
  return group;
}

describe('manage.sendTo(pin, data)', () => {
  it("reaches that PIN's worker and no other; false for a PIN without a process", async () => {
    const group = startMessaging({ maxWorkerNum: 3 });
    await group.waitEvent(is('started'), 'started');
    const pids = readyPids(group);
    expect([...pids.keys()].sort()).toEqual([0, 1, 2]);

    for (const pin of [2, 0, 1]) expect(await group.sendTo(pin, { token: `to-${pin}` })).toBe(true);
    // a last message to every PIN: messages to one worker arrive in order, so once these are
    // echoed, any copy of the tokens above that went astray has been echoed too
    for (const pin of [0, 1, 2]) expect(await group.sendTo(pin, { token: 'last' })).toBe(true);
    await group.waitFor(
      'the last message echoed by every worker',
      () => new Set(group.echoes('last').map((e) => e.pin)).size === 3,
    );
    expect(group.echoes('last').map((e) => e.pin)).toHaveLength(3);

    for (const pin of [0, 1, 2]) {
      const echoes = group.echoes(`to-${pin}`);
      expect(echoes, `echoes of the message to PIN ${pin}`).toHaveLength(1);
      expect(echoes[0]).toMatchObject({
        pin,
        pid: pids.get(pin),
        data: { echo: { token: `to-${pin}` }, pin },
      });
    }

    // no such PIN
    expect(await group.sendTo(7, { token: 'nowhere' })).toBe(false);
    // not a PIN at all: refused, not false (docs/manage.md)
    expect(await group.command('sendTo', { pin: -1, data: { token: 'nowhere' } })).toMatchObject({
      event: 'rejected',
      code: 'EINVAL',
    });
    // a PIN a scale down emptied
    expect((await group.command('scale', { workers: 2 })).event).toBe('scaled');
    expect(pidAlive(pids.get(2)!)).toBe(false);
    expect(await group.sendTo(2, { token: 'scaled-away' })).toBe(false);
    expect(await group.sendTo(1, { token: 'still-there' })).toBe(true);
    await group.waitFor('the echo from PIN 1', () => group.echoes('still-there').length === 1);
    expect(group.echoes('still-there')[0]).toMatchObject({ pin: 1, pid: pids.get(1) });
    expect(group.echoes('nowhere')).toEqual([]);
    expect(group.echoes('scaled-away')).toEqual([]);
  });
});

// docs/manage.md "Messages": the master holds at most 10,000 messages (or 16 MiB) for a worker
// that does not read its channel as fast as they come; past that, messages to it are refused, said
// once in the log (why: it reads nothing, or it reads slower than the sender) and in its status,
// until it reads again.
describe('messages to a worker that does not read them', () => {
  it('are refused past the bound, with one warning and a status field, and taken again once it reads', async () => {
    const group = startMessaging({ maxWorkerNum: 2 });
    await group.waitEvent(is('started'), 'started');
    const pids = readyPids(group);
    const stopped = pids.get(0)!;
    const warning = `worker 0 (pid ${stopped}) does not read its messages`;
    let accepted = 0;
    process.kill(stopped, 'SIGSTOP');
    try {
      // 12,000 messages of 1 KB in one go to a process that reads none
      const many = await group.command('sendMany', { pin: 0, count: 12_000, size: 1000 });
      expect(many).toMatchObject({ event: 'sentMany', accepted: 10_000, firstRefused: 10_000 });
      accepted = many.accepted as number;
      expect(await group.sendTo(0, { token: 'refused' })).toBe(false);
      // a broadcast skips it and reaches the other worker, and says so
      const broadcast = await group.command('broadcastMany', { count: 10, size: 10 });
      expect(broadcast).toMatchObject({ event: 'broadcastMany', returned: { sent: [1], skipped: [0] } });
      expect(await group.sendTo(1, { token: 'to-1' })).toBe(true);
      await group.waitFor('the echo from PIN 1', () => group.echoes('to-1').length === 1);
      expect(group.echoes('to-1')[0]).toMatchObject({ data: { received: 11 } });

      await group.waitFor('the warning', () => group.output.includes(warning));
      expect(group.output.split(warning).length - 1).toBe(1);
      const line = group.output.slice(group.output.indexOf(warning)).split('\n')[0];
      // less what the kernel's socket buffer took before the worker stopped reading
      expect(
        Number(/(\d+) messages \(\d+\.\d MiB\) wait in the master for it/.exec(line)?.[1]),
      ).toBeGreaterThan(9_000);
      expect(line).toContain('sendTo() returns false, broadcast() skips it');
      // told once the master saw it read nothing for a while, not taken for a slow reader
      expect(line).toMatch(/it has read none for \d+\.\ds/);
      expect(line).toContain('its process is stopped');
      expect(line).toContain('set hangTimeout');
      expect(group.output).not.toContain('slower than they are sent');
      const status = (await group.command('status')).status as GroupStatus;
      expect(status.workers[0]).toMatchObject({
        pid: stopped,
        suspended: true,
        messageBacklog: { messages: expect.any(Number), bytes: expect.any(Number), refused: 2_000 + 1 + 10 },
      });
      // less what the kernel's socket buffer took before the worker stopped reading
      expect(status.workers[0]?.messageBacklog?.messages).toBeGreaterThan(9_000);
      expect(status.workers[1]?.messageBacklog).toBeUndefined();
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
    await group.waitFor('the line that it reads again', () =>
      group.output.includes(`worker 0 (pid ${stopped}) reads its messages again: 2011 refused`),
    );
    expect(await group.sendTo(0, { token: 'after' })).toBe(true);
    await group.waitFor('the echo after it read', () => group.echoes('after').length === 1);
    // every accepted message arrived, and none of the refused ones
    expect(group.echoes('after')[0]).toMatchObject({ pid: stopped, data: { received: accepted + 1 } });
    const after = (await group.command('status')).status as GroupStatus;
    expect(after.workers[0]?.messageBacklog).toBeUndefined();
  });

  it('from a worker that reads them, slower than they come: the warning gives its rate against the sender, and no hangTimeout advice', async () => {
    // hangTimeout set, and long: the warning says it would replace the worker, rather than advise it
    const group = startMessaging({ maxWorkerNum: 1, hangTimeout: 600_000 });
    await group.waitEvent(is('started'), 'started');
    const pid = readyPids(group).get(0)!;
    // 12,000 messages of 1 KB in one go, each costing the worker 1 ms: it reads them all along
    const many = await group.command('sendMany', { pin: 0, count: 12_000, size: 1000, spin: 1 });
    expect(many).toMatchObject({ event: 'sentMany', accepted: 10_000, firstRefused: 10_000 });
    const slow = `worker 0 (pid ${pid}) reads its messages slower than they are sent to it`;
    await group.waitFor('the warning', () => group.output.includes(slow));
    const line = group.output.slice(group.output.indexOf(slow)).split('\n')[0];
    expect(line).toMatch(
      /^worker 0 \(pid \d+\) reads its messages slower than they are sent to it: it took \d+ in \d+\.\ds \(\d+\/s\) while 12\d{3} were sent \(\d+\/s\)\. \d+ messages \([\d.]+ MiB\) wait in the master for it: it reached the most the master holds for a worker \(10000 messages or 16 MiB\)/,
    );
    expect(line).toContain('sendTo() returns false, broadcast() skips it');
    expect(line).toContain('make the work it does for each message lighter');
    expect(line).toContain(
      'its heartbeats wait behind these messages, so hangTimeout (10m) replaces it as hung',
    );
    expect(line).not.toMatch(/blocked|stopped|set hangTimeout/);
    expect(group.output).not.toContain('does not read its messages');
    const [, taken, sent] = /it took (\d+) in [\d.]+s \(\d+\/s\) while (\d+) were sent/.exec(line) ?? [];
    // the kernel's socket buffer alone takes under 1,000 of them: the worker read
    expect(Number(taken)).toBeGreaterThan(0);
    expect(Number(taken)).toBeLessThan(Number(sent));
    await group.waitFor(
      'the line that it caught up',
      () => group.output.includes(`worker 0 (pid ${pid}) caught up with its messages`),
      45_000,
    );
    expect(group.output.split(slow).length - 1).toBe(1);
    const status = (await group.command('status')).status as GroupStatus;
    expect(status.workers[0]?.messageBacklog).toBeUndefined();
  }, 60_000);

  it('a broadcast says which PINs it was sent to: all of them while every worker reads', async () => {
    const group = startMessaging({ maxWorkerNum: 2 });
    await group.waitEvent(is('started'), 'started');
    const broadcast = await group.command('broadcastMany', { count: 1 });
    expect(broadcast).toMatchObject({ event: 'broadcastMany', returned: { sent: [0, 1], skipped: [] } });
  });

  it('in a burst to a worker that reads them at once: told as a sender faster than the worker, not as a blocked worker', async () => {
    const group = startMessaging({ maxWorkerNum: 1 });
    await group.waitEvent(is('started'), 'started');
    const pid = readyPids(group).get(0)!;
    const many = await group.command('sendMany', { pin: 0, count: 20_000, size: 10 });
    expect(many).toMatchObject({ event: 'sentMany', accepted: 10_000, firstRefused: 10_000 });
    await group.waitFor('the line that it caught up', () =>
      group.output.includes(`worker 0 (pid ${pid}) caught up with its messages`),
    );
    expect(group.output).toContain(
      `worker 0 (pid ${pid}) reads its messages slower than they are sent to it`,
    );
    expect(group.output).not.toMatch(/does not read its messages|set hangTimeout|reads its messages again/);
    expect(await group.sendTo(0, { token: 'after' })).toBe(true);
    await group.waitFor('the echo after it read', () => group.echoes('after').length === 1);
    expect(group.echoes('after')[0]).toMatchObject({ data: { received: 10_001 } });
  });
});

describe("the master's stop event", () => {
  it('is emitted once on SIGTERM, after every worker has exited', async () => {
    const group = startMessaging({ maxWorkerNum: 2 });
    await group.waitEvent(is('started'), 'started');
    const pids = [...readyPids(group).values()];
    group.signal('SIGTERM');
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.count(is('stop'))).toBe(1);
    const stopAt = group.events.findIndex(is('stop'));
    for (const pid of pids) {
      const exitAt = group.events.findIndex(is('workerExit', (e) => e.pid === pid));
      expect(exitAt, `workerExit of ${pid}`).toBeGreaterThanOrEqual(0);
      expect(exitAt).toBeLessThan(stopAt);
      expect(group.events[exitAt]).toMatchObject({ reason: 'stop', code: 0 });
    }
  });
});

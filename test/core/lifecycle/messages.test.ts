import { afterEach, describe, expect, it } from 'vitest';
import { is, type LoopGroup, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('master and worker messages', () => {
  it('worker -> master: structured values arrive in order, tagged with the PIN', async () => {
    current = startLoop({ maxWorkerNum: 2 }, { sendSeq: 200 });
    const { group } = current;
    await group.waitEvent(
      is('message', (e) => (e.data as { seq: number }).seq === 199),
      'last message',
      2,
    );
    for (const pin of [0, 1]) {
      const seqs = group.events
        .filter(is('message', (e) => e.pin === pin))
        .map((e) => (e.data as { seq: number }).seq);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
  });

  // 40 messages of 20 kB are more than the channel's pipe holds: most still wait in the worker
  // when it ends, and process.exit() would drop them
  // (a failed init fails the start, which stops the other workers, maybe before their own init:
  // one worker there)
  it.each([
    ['worker.done()', 'done', 2],
    ['a throw in work', 'throw', 2],
    ['a throw in init', 'failInit', 1],
  ])('worker -> master: what a worker sent right before %s arrives whole', async (_, then, workers) => {
    current = startLoop({ maxWorkerNum: workers }, { lastSends: { count: 40, size: 20_000, then } });
    const { group } = current;
    const ends = await group.waitFor('every first worker ended', () => {
      const seen = new Map<number, number>();
      for (const e of group.events.filter(is('lastReceived')))
        if (!seen.has(e.pin as number)) seen.set(e.pin as number, e.count as number);
      return seen.size === workers ? seen : undefined;
    });
    expect([...ends].sort((a, b) => a[0] - b[0])).toEqual(
      Array.from({ length: workers }, (_, pin) => [pin, 40]),
    );
  });

  it('master -> worker: broadcast reaches every worker, in order', async () => {
    current = startLoop({ maxWorkerNum: 2 }, { broadcastSeq: 300 });
    const { group } = current;
    const done = await group.waitFor('both confirmations', () => {
      const found = group.events.filter(
        is('message', (e) => (e.data as { receivedInOrder?: number }).receivedInOrder !== undefined),
      );
      return found.length >= 2 ? found : undefined;
    });
    expect(done.map((e) => e.pin).sort()).toEqual([0, 1]);
    expect(
      group.count(is('message', (e) => (e.data as { outOfOrder?: number }).outOfOrder !== undefined)),
    ).toBe(0);
  });

  it("worker output reaches the master's log with a [baseTitle:pin #pid] prefix", async () => {
    current = startLoop({ maxWorkerNum: 2 }, { printEach: true });
    const { group } = current;
    const line = await group.waitFor('a prefixed line', () =>
      /\[loop:1 #(\d+)\] execution 1 on pin 1/.exec(group.output),
    );
    const ready = group.events.find(is('workerReady', (e) => e.pin === 1))!;
    expect(Number(line[1])).toBe(ready.pid);
  });

  it('a malformed drover message from a worker is ignored with one warning; the group runs on', async () => {
    const sendRaw = [
      { $drover: 'fatal' },
      { $drover: 'fatal', error: 42 },
      { $drover: 'results', results: 5 },
      { $drover: 'results', results: [null] },
      { $drover: 'done', code: 'x' },
      { $drover: 'report' },
      { $drover: 'recycle', executions: -1 },
      { $drover: 'ready', loop: 'yes' },
      { $drover: 'pong', seq: 'x' },
      { $drover: 'from-a-newer-runtime' },
    ];
    current = startLoop({ maxWorkerNum: 1, executeTimes: 0 }, { sendRaw, reportExecutionEnd: true });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    await group.waitEvent(
      is('message', (e) => (e.data as { rawSent?: number }).rawSent === 10),
      'all sent',
    );
    // the worker keeps executing and stays the same process: no recycle, no done, no crash
    const pid = group.events.find(is('workerReady'))?.pid as number;
    const n = group.count(is('executionEnd'));
    await group.waitEvent(is('executionEnd'), 'executions go on', n + 3);
    expect(group.count(is('workerExit'))).toBe(0);
    const { Manage } = await import('@drover/core');
    const status = await new Manage({ baseTitle: 'loop', runDir }).status();
    expect(status.workers[0]).toMatchObject({ pid, state: expect.stringMatching(/ready|busy/) });
    // one line per malformed type; the unknown type passes silently
    for (const type of ['results', 'done', 'report', 'recycle', 'ready', 'pong'])
      expect(group.output.split(`ignored a malformed '${type}' message`).length - 1).toBe(1);
    expect(group.output).not.toContain('from-a-newer-runtime');
    // a fatal without a usable error still reaches the log, described
    expect(group.output).toContain('worker error: (the worker reported undefined as its error)');
    expect(group.output).toContain('worker error: (the worker reported number 42 as its error)');
  });
});

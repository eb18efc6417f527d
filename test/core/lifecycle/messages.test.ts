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
});

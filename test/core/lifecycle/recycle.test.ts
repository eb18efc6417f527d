import { afterEach, describe, expect, it } from 'vitest';
import { is, type LoopGroup, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('recycling without killing work', () => {
  it('after executeTimes executions a worker is replaced, never mid-execution', async () => {
    current = startLoop(
      { maxWorkerNum: 2, executeTimes: 5, recycleJitter: 0, executeUSleep: 0 },
      { workMs: 30, reportExecutionEnd: true },
    );
    const { group } = current;
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.reason === 'recycle'),
      'a recycle',
    );
    const ends = group.events.filter(is('executionEnd', (e) => e.pid === exit.pid));
    expect(ends.map((e) => e.n)).toEqual([1, 2, 3, 4, 5]);
    expect(exit.code).toBe(0);
    // The successor on the same PIN was ready before the old one exited.
    const successor = group.events.find(is('workerReady', (e) => e.pin === exit.pin && e.pid !== exit.pid));
    expect(successor).toBeDefined();
    expect(successor!.t as number).toBeLessThanOrEqual(exit.t as number);
  });

  it('after limitSeconds a worker is replaced', async () => {
    current = startLoop({ maxWorkerNum: 1, limitSeconds: 1, recycleJitter: 0 });
    const { group } = current;
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.reason === 'recycle'),
      'age recycle',
    );
    const started = group.events.find(is('workerReady', (e) => e.pid === exit.pid))!;
    expect((exit.t as number) - (started.t as number)).toBeGreaterThanOrEqual(1000);
  });

  it('a worker over maxMemory is replaced', async () => {
    current = startLoop({ maxWorkerNum: 1, maxMemory: '1M', checkWorkerInterval: 200 });
    const { group } = current;
    await group.waitEvent(
      is('workerExit', (e) => e.reason === 'recycle'),
      'memory recycle',
    );
    await group.waitFor('the reason logged', () => group.output.includes('worker over maxMemory, recycling'));
  });
});

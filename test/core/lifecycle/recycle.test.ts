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
    // The successor on the same PIN starts once the old one has exited: never two loops on a PIN.
    const successor = await group.waitEvent(
      is('workerStart', (e) => e.pin === exit.pin && (e.t as number) >= (exit.t as number)),
      'the successor',
    );
    expect(successor.pid).not.toBe(exit.pid);
    const between = group.events.filter(
      is(
        'workerStart',
        (e) => e.pin === exit.pin && e.pid !== exit.pid && (e.t as number) < (exit.t as number),
      ),
    );
    expect(between).toEqual([]);
  });

  it('after limitSeconds a worker is replaced once its execution ended, not beside it', async () => {
    // executions of 1.5 s: the age limit falls inside one
    current = startLoop(
      { maxWorkerNum: 1, limitSeconds: 1, recycleJitter: 0, executeUSleep: 0 },
      { workMs: 1500, reportExecutionEnd: true },
    );
    const { group } = current;
    const exit = await group.waitEvent(
      is('workerExit', (e) => e.reason === 'recycle'),
      'age recycle',
    );
    const started = group.events.find(is('workerReady', (e) => e.pid === exit.pid))!;
    expect((exit.t as number) - (started.t as number)).toBeGreaterThanOrEqual(1000);
    // its last execution ended, then it exited, then the successor started
    const lastEnd = group.events.filter(is('executionEnd', (e) => e.pid === exit.pid)).at(-1)!;
    expect(lastEnd.t as number).toBeLessThanOrEqual(exit.t as number);
    const successor = await group.waitEvent(
      is('workerStart', (e) => e.pin === 0 && e.pid !== exit.pid),
      'the successor',
    );
    expect(successor.t as number).toBeGreaterThanOrEqual(exit.t as number);
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

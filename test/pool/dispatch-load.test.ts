// docs/pool.md: tasks go to the least loaded worker, the lowest PIN first on a tie. Here the loads
// differ (a short task ends on one PIN while a long one runs on the other), so the next task must
// go where the room is, whatever its turn would be in a rotation over the PINs.
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('dispatch by load', () => {
  it('sends the next task to the PIN whose short task ended, again and again, not to the busy one', async () => {
    // two tasks in flight per worker; a long task outlasts the test
    current = startPool({ minWorkers: 2, concurrencyPerWorker: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'the pool to start');
    const pins: number[] = [];
    let starts = 0;
    const send = async (x: number, long: boolean) => {
      const ref = group.command('submit', { payload: long ? { x, sleepMs: 20_000 } : { x } });
      const start = await group.waitEvent(is('taskStart'), `task ${x} to leave for a worker`, ++starts);
      pins.push(start.pin as number);
      // a short task: its result is back, so its worker's load is down again
      if (!long) expect(await group.answer(ref)).toMatchObject({ event: 'result', value: { x } });
    };
    await send(0, true); //  loads 0/0 -> PIN 0 (tie), then 1/0
    await send(1, false); // loads 1/0 -> PIN 1, ends: 1/0
    await send(2, false); // loads 1/0 -> PIN 1, ends: 1/0
    await send(3, true); //  loads 1/0 -> PIN 1, then 1/1
    await send(4, true); //  loads 1/1 -> PIN 0 (tie), then 2/1
    await send(5, true); //  loads 2/1 -> PIN 1, then 2/2
    expect(pins).toEqual([0, 1, 1, 1, 0, 1]);
    expect(group.count(is('taskDone'))).toBe(2);
  });
});

// docs/pool.md: tasks go to the least loaded worker, the lowest PIN first on a tie.
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('dispatch', () => {
  it('gives each task to the least loaded worker, the lowest PIN first on a tie', async () => {
    // two tasks in flight per worker; every task runs far longer than the test takes to send them
    current = startPool({ minWorkers: 2, concurrencyPerWorker: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const pins: number[] = [];
    for (let x = 0; x < 4; x++) {
      group.command('submit', { payload: { x, sleepMs: 10_000 } });
      const start = await group.waitEvent(is('taskStart'), `task ${x} to leave for a worker`, x + 1);
      pins.push(start.pin as number);
    }
    // loads 0/0 -> PIN 0; 1/0 -> PIN 1; 1/1 -> PIN 0; 2/1 -> PIN 1
    expect(pins).toEqual([0, 1, 0, 1]);
    expect(group.count(is('taskDone'))).toBe(0);
  });
});

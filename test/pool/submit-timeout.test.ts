// docs/pool.md, "Submitting": timeoutMs stops the waiting, not the task; a timeout rejects with ETIMEOUT.
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('submit(payload, { timeoutMs })', () => {
  it('rejects with ETIMEOUT when the result is late; the task itself runs to its end', async () => {
    current = startPool({ minWorkers: 1 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');

    const late = await group.submit({ x: 1, sleepMs: 3000 }, { timeoutMs: 300 }, 15_000);
    expect(late).toMatchObject({ event: 'rejected', code: 'ETIMEOUT' });
    const done = await group.waitEvent(is('taskDone'), 'the task to end anyway', 1, 15_000);
    expect(late.message).toBe(
      `drover: no result for task '${done.taskId}' within 300 ms; raise timeoutMs, or check that a consumer is running (stats())`,
    );
    expect(done.t as number).toBeGreaterThan(late.t as number);

    // a result within the time resolves as usual
    const inTime = await group.submit({ x: 2 }, { timeoutMs: 10_000 }, 15_000);
    expect(inTime).toMatchObject({ event: 'result', value: { x: 2, doubled: 4 } });
  });
});

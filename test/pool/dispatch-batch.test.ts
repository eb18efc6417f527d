// docs/pool.md, Dispatch: tasks that become ready in the same turn of the master's event loop go
// to a worker in one IPC message. The fixture's worker records each `tasks` message it receives.
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool } from './helpers.js';
import { startProbePool } from './probe.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('dispatch in batches', () => {
  it('sends the tasks of one submitBulk, ready in the same turn, to a worker in one message', async () => {
    // one worker with room for all of them
    current = startProbePool({ minWorkers: 1, concurrencyPerWorker: 4 });
    const { group } = current;
    await group.waitEvent(is('started'), 'the pool to start');

    const answer = await group.answer(group.command('bulk', { payloads: [1, 2, 3, 4].map((x) => ({ x })) }));
    expect(answer.event, JSON.stringify(answer)).toBe('bulkResult');
    const values = answer.values as Array<{ x: number; pid: number; received: number[] }>;
    expect(values.map((v) => v.x)).toEqual([1, 2, 3, 4]);
    expect(new Set(values.map((v) => v.pid)).size).toBe(1);
    // the worker received one `tasks` message, carrying the four tasks, before any of them ran
    for (const v of values) expect(v.received).toEqual([4]);

    // a task submitted on its own later is a message of its own
    const single = await group.submit({ x: 5 });
    expect((single.value as { received: number[] }).received).toEqual([4, 1]);
  });
});

// docs/pool.md: close() closes a producer's connection to the queue; in the master the pool stops
// with stop(). A close() in the master is refused (ENOTPRODUCER) and leaves the pool as it was.
import { afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool } from './helpers.js';
import { startProbePool } from './probe.js';

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('close() in the master', () => {
  it('is refused with ENOTPRODUCER, saying to call stop(); the pool keeps its queue and runs tasks', async () => {
    current = startProbePool();
    const { group } = current;
    await group.waitEvent(is('started'), 'the pool to start');

    const refused = await group.answer(group.command('close'));
    expect(refused).toMatchObject({ event: 'rejected', code: 'ENOTPRODUCER' });
    expect(refused.message).toMatch(/^drover: close\(\) is for producer processes of pool 'probe'/);
    expect(refused.hint).toMatch(/in the master, call stop\(\)/);

    // the queue is still open: a submit after the refused close() runs as before
    const result = await group.submit({ x: 7 });
    expect(result).toMatchObject({ event: 'result', value: { x: 7, pin: 0 } });
    // and the pool still stops the way the error says
    const stopped = await group.answer(group.command('stop'));
    expect(stopped.event).toBe('stopped');
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
  });
});

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type PoolGroup, type StartedPool, is, startPoolScript } from './helpers.js';

const SCRIPT = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/kept-results.mjs');
/** 3 000 results of 10 KB: about 30 MB of heap when they are kept, nothing when they are not. */
const N = 3_000;
const KB = 10;
/** well under the 30 MB of kept results, well over what the pool's own bookkeeping may grow by */
const SLACK_MB = 10;

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

async function heapMb(group: PoolGroup): Promise<number> {
  return (await group.answer(group.command('heap'))).mb as number;
}

async function burst(group: PoolGroup, idPrefix?: string, n = N): Promise<void> {
  const answer = await group.answer(group.command('burst', { n, kb: KB, idPrefix }), 60_000);
  expect(answer).toMatchObject({ resolved: n, failed: [] });
}

describe('pool: results that no one can read are not kept', () => {
  it('a bounded pool (maxQueued) keeps no result of a submit without an id', async () => {
    current = startPoolScript(SCRIPT, { maxQueued: 100_000 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    await burst(group); // the first submits of a pool have a test of their own
    const before = await heapMb(group);
    await burst(group);
    // before: +30 MB (10 000 results of 10 KB kept 100 MB, for keepResults' 5 minutes)
    expect(await heapMb(group)).toBeLessThan(before + SLACK_MB);
  }, 90_000);

  it('the first submits of a pool, while it looks its queue up, keep no result either', async () => {
    current = startPoolScript(SCRIPT);
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const before = await heapMb(group);
    await burst(group);
    expect(await heapMb(group)).toBeLessThan(before + SLACK_MB);
  }, 90_000);

  it('results kept for their id leave after keepResults.ageMs, though nothing new is stored', async () => {
    // long enough for the burst to end before its first results are due to leave
    current = startPoolScript(SCRIPT, { keepResults: { ageMs: 5_000 } });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    await burst(group, undefined, 200);
    const before = await heapMb(group);
    await burst(group, 'kept');
    // kept, as asked: the measure sees them
    expect(await heapMb(group)).toBeGreaterThan(before + 2 * SLACK_MB);
    // before: they stayed until the next result was stored, however long that took
    const deadline = Date.now() + 30_000;
    let now = await heapMb(group);
    while (now >= before + SLACK_MB && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      now = await heapMb(group);
    }
    expect(now).toBeLessThan(before + SLACK_MB);
  }, 90_000);
});

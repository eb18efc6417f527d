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

});

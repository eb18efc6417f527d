import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { DroverError } from '../../packages/core/src/errors.js';
import type { BullMQBackend } from '../../packages/core/src/queue/bullmq.js';
import { resolveRedisConnection } from '../../packages/core/src/queue/redisConnection.js';
import type { PrivateRedis } from '../pool/redis.js';
import { uniqueQueue, within } from './contract.js';
import {
  backendOn,
  cleanUpOwnRedis,
  hasRedisServer,
  outcomeOf,
  ownRedis,
  waitsRegistered,
} from './ownRedis.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'finish-unseen.mjs');
const NO_RETRY = { maxAttempts: 1, backoffMs: () => 0 };

cleanUpOwnRedis();

/** Ids of this process's admin and events connections (BullMQ names the events reader `<prefix>:<base64 queue>:qe`). */
async function readerIds(server: PrivateRedis, queue: string): Promise<string[]> {
  const client = new Redis(resolveRedisConnection(server.url) as RedisOptions);
  const names = [`drover:${queue}:admin`, `drover:${Buffer.from(queue).toString('base64')}:qe`];
  try {
    const list = (await client.client('LIST')) as string;
    return list
      .split('\n')
      .filter((line) => names.some((name) => line.includes(` name=${name} `)))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
  } finally {
    client.disconnect();
  }
}

/**
 * Another process finishes `finish` and trims the events stream while this process's event loop
 * is blocked: the results' events are gone before this process reads them.
 */
function finishUnseen(server: PrivateRedis, queue: string, finish: string[], kill: string[] = []): void {
  const output = execFileSync(
    process.execPath,
    [fixture, JSON.stringify({ url: server.url, queue, finish, kill })],
    {
      timeout: 30_000,
      encoding: 'utf8',
    },
  );
  expect(output).toContain('"event":"finished"');
}

/** A producer waiting for `older` tasks that do not run for an hour, then for one that completes and one that fails. */
async function waitingProducer(server: PrivateRedis, queue: string, stalledIntervalMs: number) {
  const backend = await backendOn(server, queue, { stalledIntervalMs, retry: NO_RETRY });
  const older = await backend.enqueue(
    Array.from({ length: 20 }, (_, k) => ({ payload: `later-${k}`, delayMs: 3_600_000 })),
  );
  const [ok, failing] = await backend.enqueue([{ payload: 'x' }, { payload: 'fail' }]);
  const olderWaits = older.map((id) => outcomeOf(backend.waitForResult(id)));
  const okWait = outcomeOf(backend.waitForResult(ok!));
  const failingWait = outcomeOf(backend.waitForResult(failing!));
  await waitsRegistered(backend, 22);
  return { backend, ok: ok!, failing: failing!, okWait, failingWait, olderWaits };
}

async function expectSettled(
  backend: BullMQBackend<string, string>,
  okWait: Promise<unknown>,
  failingWait: Promise<unknown>,
  failing: string,
): Promise<void> {
  // before: both waited until close(), their jobs completed and failed in Redis
  expect(await within(okWait, 15_000, 'the completed task whose event was trimmed')).toBe('x done');
  const failed = (await within(
    failingWait,
    15_000,
    'the failed task whose event was trimmed',
  )) as DroverError;
  expect(failed).toMatchObject({ code: 'ETASKFAILED' });
  expect(failed.message).toContain(`task '${failing}'`);
  expect(failed.message).toContain('it fails');
  // the tasks that did not run yet are still waited for, not unknown
  expect((backend as unknown as { waiters: { size: number } }).waiters.size).toBe(20);
}

describe.skipIf(!hasRedisServer)('bullmq: results whose event left the events stream unread', () => {
  it('the probe settles waits whose job finished, behind older waits still pending', async () => {
    const server = await ownRedis();
    const queue = uniqueQueue('unseen');
    const { backend, ok, failing, okWait, failingWait } = await waitingProducer(server, queue, 500);
    finishUnseen(server, queue, [ok, failing]);
    await expectSettled(backend, okWait, failingWait, failing);
  }, 60_000);

  it('a reconnect settles them at once, without waiting for the probe', async () => {
    const server = await ownRedis();
    const queue = uniqueQueue('unseen-reconnect');
    // a probe a minute away: only the reconnect can settle them within the test's deadlines
    const { backend, ok, failing, okWait, failingWait } = await waitingProducer(server, queue, 60_000);
    const cut = await readerIds(server, queue);
    expect(cut).toHaveLength(2);
    finishUnseen(server, queue, [ok, failing], cut);
    await expectSettled(backend, okWait, failingWait, failing);
  }, 60_000);
});

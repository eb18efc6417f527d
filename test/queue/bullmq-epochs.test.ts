import { Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { DroverError } from '../../packages/core/src/errors.js';
import { resolveRedisConnection } from '../../packages/core/src/queue/redisConnection.js';
import type { PrivateRedis } from '../pool/redis.js';
import { uniqueQueue, waitFor, within } from './contract.js';
import {
  backendOn,
  cleanUpOwnRedis,
  hasRedisServer,
  outcomeOf,
  ownRedis,
  waitsRegistered,
} from './ownRedis.js';

cleanUpOwnRedis();

async function flushAll(server: PrivateRedis): Promise<void> {
  const client = new Redis(resolveRedisConnection(server.url) as RedisOptions);
  try {
    await client.flushall();
  } finally {
    client.disconnect();
  }
}

/**
 * Producer A waits for tasks nobody runs yet; Redis loses the queue's keys (`lose`); then A and
 * another producer B (its own connections, as another process) enqueue new tasks, which a
 * consumer runs at once. No old wait may get a new task's result: each rejects with ETASKLOST.
 */
async function newTasksAfterLoss(lose: (server: PrivateRedis) => Promise<void>): Promise<void> {
  const server = await ownRedis();
  const queue = uniqueQueue('epochs');
  const errors: Error[] = [];
  const a = await backendOn(server, queue, { errors });
  const old = await a.enqueue([0, 1, 2, 3, 4].map((k) => ({ payload: `old-${k}` })));
  const oldWaits = old.map((id) => outcomeOf(a.waitForResult(id)));
  await waitsRegistered(a, old.length);
  await lose(server);
  // B starts on the emptied Redis: BullMQ's own counter would give its jobs the old ids again
  const b = await backendOn(server, queue);
  const fromB = await b.enqueue([0, 1, 2, 3, 4].map((k) => ({ payload: `new-b-${k}` })));
  const fromA = await within(
    a.enqueue([0, 1, 2, 3, 4].map((k) => ({ payload: `new-a-${k}` }))),
    15_000,
    "A's enqueue after the loss",
  );
  b.consume(async (d) => d.payload, { concurrency: 4 });
  expect(await within(Promise.all(fromB.map((id) => b.waitForResult(id))), 15_000, "B's results")).toEqual(
    [0, 1, 2, 3, 4].map((k) => `new-b-${k}`),
  );
  expect(
    await within(Promise.all(fromA.map((id) => a.waitForResult(id))), 15_000, "A's new results"),
  ).toEqual([0, 1, 2, 3, 4].map((k) => `new-a-${k}`));
  // before: these resolved with the new tasks' results (new-b-0, ... or new-a-0, ...)
  const outcomes = await within(Promise.all(oldWaits), 20_000, 'the old waits');
  for (const [k, outcome] of outcomes.entries()) {
    expect(outcome).toMatchObject({ code: 'ETASKLOST' });
    expect((outcome as DroverError).message).toContain(`task '${old[k]}' is lost`);
  }
  expect(new Set([...old, ...fromA, ...fromB]).size).toBe(15);
  await waitFor('the loss said', () => errors.some((e) => (e as DroverError).code === 'ETASKLOST'));
}

describe.skipIf(!hasRedisServer)('bullmq: generated ids across epochs of the queue keys', () => {
  it("after a real FLUSHALL, new tasks (this producer's and another's) never settle an old wait", async () => {
    await newTasksAfterLoss(flushAll);
  }, 60_000);

  it('after a real restart without persistence, new tasks never settle an old wait', async () => {
    await newTasksAfterLoss(async (server) => {
      await server.kill();
      await server.start();
    });
  }, 60_000);

  it('generated ids are never an integer or a caller-style id, and hints still treat them as generated', async () => {
    const server = await ownRedis();
    const queue = uniqueQueue('ids');
    const a = await backendOn(server, queue);
    const b = await backendOn(server, queue);
    const ids = [
      ...(await a.enqueue([{ payload: 'x' }, { payload: 'y' }])),
      ...(await b.enqueue([{ payload: 'z' }])),
    ];
    for (const id of ids) expect(id).toMatch(/^\d+~[A-Za-z0-9_-]{12}$/);
    expect(new Set(ids).size).toBe(3);
    // a caller's own id keeps its meaning: the same id is the same task
    const [own] = await a.enqueue([{ id: 'order-7', payload: 'o' }]);
    expect(await b.enqueue([{ id: 'order-7', payload: 'other' }])).toEqual([own]);
    const wait = outcomeOf(a.waitForResult(ids[0]!));
    await waitsRegistered(a, 1);
    await a.close();
    const closed = (await wait) as DroverError;
    expect(closed).toMatchObject({ code: 'ECLOSED' });
    expect(closed.hint).toContain(
      `its id was generated, so a new submit would run it twice: read its result with waitForResult('${ids[0]}')`,
    );
  }, 60_000);
});

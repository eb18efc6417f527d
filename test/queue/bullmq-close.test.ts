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

/** Closes the connection of the backend's events reader (BullMQ names it `<prefix>:<base64 queue>:qe`). */
async function dropEventsConnection(server: PrivateRedis, queue: string): Promise<void> {
  const client = new Redis(resolveRedisConnection(server.url) as RedisOptions);
  try {
    const name = `drover:${Buffer.from(queue).toString('base64')}:qe`;
    const lines = ((await client.client('LIST')) as string).split('\n');
    const ids = lines
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
    expect(ids).toHaveLength(1);
    await client.client('KILL', 'ID', ids[0]!);
  } finally {
    client.disconnect();
  }
}

/** The ioredis client of the backend's events reader. */
function eventsClient(backend: unknown): { status: string } {
  return (backend as { eventsReader: { backend: { connection: { _client: { status: string } } } } })
    .eventsReader.backend.connection._client;
}

/** A backend waiting for a task that runs in an hour: its events reader runs. */
async function waitingBackend(server: PrivateRedis, queue: string) {
  const backend = await backendOn(server, queue);
  const [id] = await backend.enqueue([{ payload: 'later', delayMs: 3_600_000 }]);
  const wait = outcomeOf(backend.waitForResult(id!));
  await waitsRegistered(backend, 1);
  return { backend, wait };
}

describe.skipIf(!hasRedisServer)('bullmq: close() while the events reader waits to reconnect', () => {
  it('its connection dropped, Redis up: close() settles, the wait rejects with ECLOSED', async () => {
    const server = await ownRedis();
    const queue = uniqueQueue('close-dropped');
    const { backend, wait } = await waitingBackend(server, queue);
    await dropEventsConnection(server, queue);
    const client = eventsClient(backend);
    await waitFor('the events reader reconnecting', () => client.status === 'reconnecting');
    // before: BullMQ's close waited for an 'end' that a client between two attempts never emits
    await within(backend.close(), 5_000, 'close()');
    expect(await wait).toMatchObject({ code: 'ECLOSED' } satisfies Partial<DroverError>);
  }, 30_000);

  it('Redis down: close() settles instead of waiting for good', async () => {
    const server = await ownRedis();
    const queue = uniqueQueue('close-down');
    const { backend, wait } = await waitingBackend(server, queue);
    await server.kill();
    const client = eventsClient(backend);
    await waitFor('the events reader reconnecting', () => client.status === 'reconnecting');
    await within(backend.close(), 5_000, 'close()');
    expect(await wait).toMatchObject({ code: 'ECLOSED' });
  }, 30_000);
});

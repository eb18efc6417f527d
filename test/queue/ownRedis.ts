import { spawnSync } from 'node:child_process';
import { afterEach } from 'vitest';
import type { DroverError } from '../../packages/core/src/errors.js';
import { type BullMQBackend, createBullMQBackend } from '../../packages/core/src/queue/bullmq.js';
import type { RetryPolicy } from '../../packages/core/src/queue/QueueBackend.js';
import { PrivateRedis } from '../pool/redis.js';
import { RETRY, waitFor } from './contract.js';

/** BullMQ tests that flush, restart or cut off Redis: each test gets a redis-server of its own. */
export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

const servers: PrivateRedis[] = [];
const backends: BullMQBackend[] = [];

/** Registers the cleanup of the file's servers and backends after each test. */
export function cleanUpOwnRedis(): void {
  afterEach(async () => {
    await Promise.all(backends.splice(0).map(closeOrEnd));
    await Promise.all(servers.splice(0).map((server) => server.dispose()));
  });
}

/** Closes a backend; one whose close has not settled within 5 s has its connections ended. */
async function closeOrEnd(backend: BullMQBackend): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = backend.close().then(
    () => true,
    () => true,
  );
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), 5_000);
  });
  if (!(await Promise.race([closed, late]))) backend.terminate();
  clearTimeout(timer);
}

export async function ownRedis(): Promise<PrivateRedis> {
  const server = new PrivateRedis();
  servers.push(server);
  await server.start();
  return server;
}

export interface OwnBackendOptions {
  errors?: Error[];
  stalledIntervalMs?: number;
  retry?: RetryPolicy;
}

/** A backend on `server` (closed after the test), its errors collected in `errors`. */
export async function backendOn(
  server: PrivateRedis,
  queue: string,
  { errors = [], stalledIntervalMs = 3_000, retry = RETRY }: OwnBackendOptions = {},
): Promise<BullMQBackend<string, string>> {
  const backend = await createBullMQBackend<string, string>({
    connection: server.url,
    queue,
    retry,
    leaseMs: 1_500,
    stalledIntervalMs,
    onError: (error) => errors.push(error),
  });
  backends.push(backend as BullMQBackend);
  return backend;
}

/** What a promise settled with: its value, or the error it rejected with. */
export function outcomeOf<T>(promise: Promise<T>): Promise<T | DroverError> {
  return promise.then(
    (value) => value,
    (error: DroverError) => error,
  );
}

/** Waits until `backend` has registered `n` waits and read their jobs' state once. */
export async function waitsRegistered(backend: BullMQBackend<string, string>, n: number): Promise<void> {
  const internals = backend as unknown as { waiters: { size: number }; events?: Promise<unknown> };
  await waitFor(`${n} waits registered`, () => internals.waiters.size === n);
  // a wait reads its job's state once the events reader runs: reads sent after those answer after them
  await internals.events;
  await backend.stats();
  await backend.stats();
}

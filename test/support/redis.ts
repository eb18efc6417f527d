import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { resolveRedisConnection } from '../../packages/core/src/queue/redisConnection.js';

export interface TestRedis {
  /** e.g. `unix:///tmp/drover-redis-x/redis.sock` */
  readonly url: string;
  stop(): Promise<void>;
}

/** Why `redisForTests()` returned null, for the skip message. */
export let redisUnavailableReason = '';

function pingSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    let reply = '';
    socket.setTimeout(1_000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A Redis for the tests: `DROVER_REDIS_URL` when set (CI starts one on a unix socket); else a
 * private `redis-server` on a unix socket in a temp dir, stopped by `stop()`; else null (the
 * reason is in `redisUnavailableReason`).
 */
export async function redisForTests(): Promise<TestRedis | null> {
  const fromEnv = process.env.DROVER_REDIS_URL;
  if (fromEnv) return { url: fromEnv, stop: async () => {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    redisUnavailableReason = 'redis-server is not on PATH and DROVER_REDIS_URL is not set';
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'drover-redis-'));
  const socket = join(dir, 'redis.sock');
  const log = join(dir, 'redis.log');
  const child = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--logfile',
      log,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--proc-title-template',
      'drover-test-redis {unixsocket}',
    ],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited(child);
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (existsSync(socket) && (await pingSocket(socket))) return { url: `unix://${socket}`, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const output = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
  await stop();
  throw new Error(`test redis: redis-server did not answer on ${socket} within 10 s\n${output}`);
}

/** Like `redisForTests()`, but under CI a missing Redis fails `what` instead of skipping it. */
export async function redisOrFailInCI(what: string): Promise<TestRedis | null> {
  const redis = await redisForTests();
  if (!redis && process.env.CI)
    throw new Error(`CI is set, but there is no Redis for ${what}: ${redisUnavailableReason}`);
  return redis;
}

/** Deletes every key under `prefix:` (a test file's own keys), then stops the server if it is private. */
export async function dropKeysAndStop(redis: TestRedis, prefix: string): Promise<void> {
  const client = new Redis(resolveRedisConnection(redis.url) as RedisOptions);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  await redis.stop();
}

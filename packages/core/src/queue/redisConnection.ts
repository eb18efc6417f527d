import { ConfigError } from '../errors.js';

/**
 * Where Redis is: a URL (`redis://[user:pass@]host:port/db`, `rediss://...` for TLS,
 * `unix:///path/to/redis.sock[?db=2]`), a socket path (`/path/to/redis.sock`), or ioredis options
 * (`{ host, port }`, `{ path }`, with any other ioredis option).
 */
export type RedisConnection = string | RedisConnectionOptions;

/** The ioredis options drover reads; any other ioredis option passes through unchanged. */
export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  /** unix socket path */
  path?: string;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
  [option: string]: unknown;
}

const EXPECTED =
  "a Redis URL ('redis://host:6379/0', 'rediss://...', 'unix:///path/redis.sock'), a socket path, or ioredis options";

function parseDb(value: string | null, connection: string): number | undefined {
  if (value === null || value === '') return undefined;
  const db = Number(value);
  if (!Number.isInteger(db) || db < 0)
    throw new ConfigError('connection', connection, `${EXPECTED}; the db must be an integer >= 0`);
  return db;
}

/** Turns any accepted form into ioredis options (a copy; the caller's object is not changed). */
export function resolveRedisConnection(connection: RedisConnection): RedisConnectionOptions {
  if (typeof connection === 'object' && connection !== null && !Array.isArray(connection))
    return { ...connection };
  if (typeof connection !== 'string' || connection === '')
    throw new ConfigError('connection', connection, EXPECTED);
  if (connection.startsWith('/')) return { path: connection };
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    throw new ConfigError('connection', connection, EXPECTED);
  }
  const auth = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
  if (url.protocol === 'unix:' || url.protocol === 'redis+unix:') {
    if (!url.pathname || url.pathname === '/') throw new ConfigError('connection', connection, EXPECTED);
    const db = parseDb(url.searchParams.get('db'), connection);
    return { path: decodeURIComponent(url.pathname), ...auth, ...(db === undefined ? {} : { db }) };
  }
  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    const db = parseDb(url.pathname.replace(/^\//, ''), connection);
    return {
      host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
      port: url.port ? Number(url.port) : 6379,
      ...auth,
      ...(db === undefined ? {} : { db }),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    };
  }
  throw new ConfigError('connection', connection, EXPECTED);
}

/** For messages: where the connection points, without credentials. */
export function describeRedisConnection(options: RedisConnectionOptions): string {
  if (options.path) return `unix socket ${options.path}`;
  return `${options.host ?? 'localhost'}:${options.port ?? 6379}`;
}

// A private redis-server for a bench run: on a unix socket in a fresh 0700 directory, nothing
// saved, its title `drover-bench-redis` so `ps` shows it is ours. With `url` (a Redis the caller
// already runs) nothing is started.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * @param {string | undefined} url
 * @returns {Promise<{ url: string, pid: number | null, stop: () => Promise<void> }>}
 */
export async function startPrivateRedis(url) {
  if (url) return { url, pid: null, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'drover-bench-redis-'));
  const socket = join(dir, 'redis.sock');
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
      '--save',
      '',
      '--appendonly',
      'no',
      '--proc-title-template',
      'drover-bench-redis',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        'bench: redis-server did not start within 10 s (is it installed? apt-get install redis-server)',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // the socket file exists a moment before the server accepts on it
  await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    url: `unix://${socket}`,
    pid: child.pid ?? null,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

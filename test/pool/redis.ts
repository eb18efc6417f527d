import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropKeysAndStop,
  redisOrFailInCI,
  redisUnavailableReason,
  type TestRedis,
} from '../support/redis.js';

/** A Redis for one pool test file (null when there is none, except under CI), with its own key prefix. */
export async function poolRedis(): Promise<{
  redis: TestRedis;
  prefix: string;
  cleanup(): Promise<void>;
} | null> {
  const redis = await redisOrFailInCI("the pool's BullMQ tests");
  if (!redis) return null;
  const prefix = `drover-pool-${process.pid}-${randomUUID().slice(0, 8)}`;
  return { redis, prefix, cleanup: () => dropKeysAndStop(redis, prefix) };
}

export { redisUnavailableReason };

/** A redis-server of a test's own, which the test may freeze (SIGSTOP), kill and start again on the same socket. */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'drover-pool-redis-'));
  readonly socket = join(this.dir, 'redis.sock');
  private child: ChildProcess | null = null;

  get url(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', this.socket, '--dir', this.dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!existsSync(this.socket)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered, leases run out. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    rmSync(this.socket, { force: true });
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

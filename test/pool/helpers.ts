import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, type FixtureEvent, RunningGroup, tempDir } from '../support/group.js';

/** A pool master (test/fixtures/pool/pool.mjs) driven by commands on its stdin. */
export class PoolGroup extends RunningGroup {
  private refs = 0;

  /** Sends a command; returns its ref, which the answer event carries. */
  command(cmd: string, fields: Record<string, unknown> = {}): number {
    const ref = ++this.refs;
    this.proc.stdin?.write(`${JSON.stringify({ cmd, ref, ...fields })}\n`);
    return ref;
  }

  /** Waits for the answer to command `ref` (result, bulkResult, status, rejected, ...). */
  answer(ref: number, timeoutMs?: number): Promise<FixtureEvent> {
    return this.waitEvent((e) => e.ref === ref, `answer to command ${ref}`, 1, timeoutMs);
  }

  async submit(payload: unknown, opts?: Record<string, unknown>, timeoutMs?: number): Promise<FixtureEvent> {
    return this.answer(this.command('submit', { payload, opts }), timeoutMs);
  }

  async status(): Promise<{ workers: Array<Record<string, unknown>>; pool: Record<string, unknown> }> {
    const answer = await this.answer(this.command('status'));
    return answer.status as { workers: Array<Record<string, unknown>>; pool: Record<string, unknown> };
  }

  events_(name: string): FixtureEvent[] {
    return this.events.filter((e) => e.event === name);
  }
}

export interface StartedPool {
  group: PoolGroup;
  runDir: string;
  cleanup(): Promise<void>;
}

/** Starts the pool fixture in a private run dir; `cleanup` kills whatever is left. */
export function startPool(
  config: Record<string, unknown> = {},
  env: Record<string, string> = {},
): StartedPool {
  return startPoolScript(join(FIXTURES, 'pool/pool.mjs'), config, env);
}

/** Starts `script`, a pool master driven by commands on stdin, as `startPool` starts the fixture. */
export function startPoolScript(
  script: string,
  config: Record<string, unknown> = {},
  env: Record<string, string> = {},
): StartedPool {
  const { dir, cleanup } = tempDir('drover-pool-');
  const proc = spawn(process.execPath, ['--title=drover:Master:pool', script], {
    env: { ...process.env, NO_COLOR: '1', POOL_CONFIG: JSON.stringify({ runDir: dir, ...config }), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const group = new PoolGroup(proc);
  return {
    group,
    runDir: dir,
    cleanup: async () => {
      await group.kill();
      cleanup();
    },
  };
}

export const is =
  (event: string, extra: (e: FixtureEvent) => boolean = () => true) =>
  (e: FixtureEvent) =>
    e.event === event && extra(e);

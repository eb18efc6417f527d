import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GroupStatus } from '@drover/core';
import { afterEach, beforeAll } from 'vitest';
import { cliEnv, drover, ensureBuilt, pidAlive, type Result, runNode, waitUntil } from './bin.js';

/**
 * A private run directory and working directory for one test, and everything started in it:
 * `cleanup()` stops every group still running there and SIGKILLs any master that did not go.
 */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'drover-cli-'));
  readonly runDir = join(this.dir, 'run');
  readonly env: NodeJS.ProcessEnv;
  private readonly pids = new Set<number>();

  constructor(extraEnv: Record<string, string> = {}) {
    // private, as a run dir is: one open to others and holding files is refused
    mkdirSync(this.runDir, { mode: 0o700 });
    this.env = cliEnv(this.runDir, extraEnv);
  }

  /** Runs `drover ...args` here (cwd: `cwd` or the sandbox directory). */
  drover(
    args: readonly string[],
    opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<Result> {
    return drover(args, {
      env: { ...this.env, ...opts.env },
      cwd: opts.cwd ?? this.dir,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Runs `node ...argv` here (`env` on top of the sandbox's). */
  node(
    argv: readonly string[],
    opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<Result> {
    return runNode(argv, {
      env: { ...this.env, ...opts.env },
      cwd: opts.cwd ?? this.dir,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Remembers a process to kill in `cleanup()` if it is still alive then. */
  track(pid: number): number {
    this.pids.add(pid);
    return pid;
  }

  /**
   * `drover status --json`, parsed; its master and worker pids are tracked. Exit 3 (a group with a
   * PIN that crash-loops or was given up) still answers.
   */
  async status(): Promise<GroupStatus[]> {
    const result = await this.drover(['status', '--json']);
    if (result.code !== 0 && result.code !== 3)
      throw new Error(`drover status --json exited ${result.code}: ${result.stderr}`);
    const groups = JSON.parse(result.stdout) as GroupStatus[];
    for (const g of groups) {
      this.track(g.master.pid);
      for (const w of g.workers) if (w.pid !== null) this.track(w.pid);
    }
    return groups;
  }

  /** Waits until group `name` runs `count` workers, all ready or busy. */
  waitWorkers(name: string, count: number, timeoutMs = 30_000): Promise<GroupStatus> {
    return waitUntil(
      `${count} ready workers in '${name}'`,
      async () => {
        const group = (await this.status()).find((g) => g.master.baseTitle === name);
        const up = group?.workers.filter((w) => w.state === 'ready' || w.state === 'busy') ?? [];
        return group && group.workers.length === count && up.length === count ? group : undefined;
      },
      timeoutMs,
    );
  }

  async cleanup(): Promise<void> {
    try {
      await this.status().catch(() => []);
      await this.drover(['stop', 'all'], { timeoutMs: 30_000 });
      await waitUntil(
        'the processes of the sandbox to end',
        () => ([...this.pids].every((pid) => !pidAlive(pid)) ? true : undefined),
        15_000,
      ).catch(() => {});
    } finally {
      for (const pid of this.pids) {
        try {
          // a pid reused by an unrelated process meanwhile is left alone
          if (pidAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('drover:')) {
            process.kill(pid, 'SIGKILL');
          }
        } catch {
          // gone meanwhile
        }
      }
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * For a test file: builds the CLI once, and returns `open(env?)`, which gives each test a fresh
 * sandbox that is cleaned up after it (every group it started stopped).
 */
export function sandboxPerTest(): (env?: Record<string, string>) => Sandbox {
  let current: Sandbox | undefined;
  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  }, 60_000);
  return (env) => {
    current = new Sandbox(env);
    return current;
  };
}

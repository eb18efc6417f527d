import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** A JSON event a fixture printed as `EVENT {...}` on stdout. */
export interface FixtureEvent {
  event: string;
  [key: string]: unknown;
}

/**
 * A master process started from a fixture script, with its output collected and its events
 * awaitable with a deadline. `kill()` in afterEach guarantees nothing is left behind.
 */
export class RunningGroup {
  readonly events: FixtureEvent[] = [];
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess) {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output += text;
      buffered += text;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const at = line.indexOf('EVENT ');
        if (at >= 0) {
          try {
            this.events.push(JSON.parse(line.slice(at + 6)) as FixtureEvent);
          } catch {
            // a worker's line that happens to contain the marker
          }
        }
        nl = buffered.indexOf('\n');
      }
      for (const w of this.waiters.splice(0)) w();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const w of this.waiters.splice(0)) w();
    });
    // 'close', not 'exit': all of the process's output has been read by then.
    this.exited = new Promise((resolve) => {
      proc.once('close', (code, signal) => {
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Waits until `predicate` holds over the events and output so far, or fails after `timeoutMs`. */
  async waitFor<T>(
    what: string,
    predicate: () => T | undefined | null | false,
    timeoutMs = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}\n--- output ---\n${this.output.slice(-4000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the n-th (1-based) event matching `match`. */
  waitEvent(
    match: (e: FixtureEvent) => boolean,
    what: string,
    n = 1,
    timeoutMs?: number,
  ): Promise<FixtureEvent> {
    return this.waitFor(
      what,
      () => {
        const hits = this.events.filter(match);
        return hits.length >= n ? hits[n - 1] : undefined;
      },
      timeoutMs,
    );
  }

  count(match: (e: FixtureEvent) => boolean): number {
    return this.events.filter(match).length;
  }

  async waitExit(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `master did not exit within ${timeoutMs} ms\n--- output ---\n${this.output.slice(-4000)}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  /** SIGKILL the master (its workers follow through the orphan rule and the reaper). */
  async kill(): Promise<void> {
    if (this.alive) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

export interface StartOptions {
  env?: Record<string, string>;
  args?: string[];
  execArgv?: string[];
}

/** A private run directory per test, removed by `cleanup()`. */
export function tempDir(prefix = 'drover-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `fixture` (path relative to test/fixtures) as a master under plain node. */
export function startFixture(fixture: string, opts: StartOptions = {}): RunningGroup {
  const proc = spawn(
    process.execPath,
    [...(opts.execArgv ?? []), join(FIXTURES, fixture), ...(opts.args ?? [])],
    {
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new RunningGroup(proc);
}

/** Liveness that treats zombies as dead (PID 1 here reaps slowly). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits until none of `pids` is alive, or fails after `timeoutMs`. */
export async function waitAllDead(pids: number[], timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const alive = pids.filter(pidAlive);
    if (alive.length === 0) return Date.now() - start;
    if (Date.now() - start > timeoutMs)
      throw new Error(`still alive after ${timeoutMs} ms: ${alive.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads `ps`'s view of a process's command line (its title). */
export function psArgs(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

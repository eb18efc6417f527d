import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DroverError } from '../../../packages/core/src/errors.js';

/**
 * Polls `check` until it returns a value other than undefined, null or false, or throws after
 * `timeoutMs`. (null is "not yet" too: `InstanceLock.acquire` answers null while the lock is held.)
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Children started by a test; `killAll` in afterEach leaves none behind. */
export class Children {
  private readonly started: ChildProcess[] = [];

  /** Starts `node -e code` (or a file with args) with stdout piped and line-readable. */
  node(codeOrFile: string, args: string[] = [], opts: { file?: boolean } = {}): LineChild {
    const argv = opts.file ? [codeOrFile, ...args] : ['-e', codeOrFile, ...args];
    return this.track(spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  spawn(command: string, args: string[]): LineChild {
    return this.track(spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  private track(child: ChildProcess): LineChild {
    this.started.push(child);
    return new LineChild(child);
  }

  async killAll(): Promise<void> {
    await Promise.all(
      this.started.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
  }
}

/** A child whose stdout is read as lines. */
export class LineChild {
  readonly lines: string[] = [];
  private buffer = '';
  /** stdio closed after the exit: every line it printed has been read ('exit' can come first) */
  private closed = false;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline = this.buffer.indexOf('\n');
      while (newline !== -1) {
        this.lines.push(this.buffer.slice(0, newline));
        this.buffer = this.buffer.slice(newline + 1);
        newline = this.buffer.indexOf('\n');
      }
    });
    proc.once('close', () => {
      this.closed = true;
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** Waits for a stdout line matching `pattern` and returns it. */
  line(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return waitFor(
      `a line matching ${pattern} from pid ${this.proc.pid}`,
      () => {
        const found = this.lines.find((l) => pattern.test(l));
        if (found !== undefined) return found;
        if (this.closed) {
          throw new Error(
            `pid ${this.proc.pid} exited (${this.proc.exitCode ?? this.proc.signalCode}) before printing ${pattern}`,
          );
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    await this.exited;
  }
}

/** A fresh directory under the real tmpdir; remove it with `rmSync(dir, {recursive: true})`. */
export function tempDir(prefix = 'drover-test-'): string {
  return mkdtempSync(join(realpathSync(tmpdir()), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The built `dist/` file of a core module, for child fixtures (Node 20 cannot run `.ts`).
 * Fails clearly when the build is missing or older than the source.
 */
export function coreDist(module: string): string {
  const built = join(REPO, 'packages/core/dist', `${module}.js`);
  const source = join(REPO, 'packages/core/src', `${module}.ts`);
  const fix = 'build it first: npx tsc -p packages/core/tsconfig.json';
  if (!existsSync(built)) throw new Error(`${built} is missing; ${fix}`);
  if (statSync(built).mtimeMs < statSync(source).mtimeMs)
    throw new Error(`${built} is older than ${source}; ${fix}`);
  return built;
}

/** A fixture file next to the tests. */
export function fixture(name: string): string {
  return join(REPO, 'test/core/infra/fixtures', name);
}

/** The DroverError `fn` throws; fails the test when it throws something else, or nothing. */
export function thrown(fn: () => unknown): DroverError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DroverError);
    return err as DroverError;
  }
  throw new Error('expected a DroverError, nothing was thrown');
}

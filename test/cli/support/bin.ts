import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../../..');
export const BIN = join(ROOT, 'packages/cli/bundle/drover.mjs');
export const CLI_FIXTURES = join(ROOT, 'test/fixtures/cli');

/** What a finished command printed and how it ended. */
export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of every spawned command: no colour unless a test asks, its own run dir, and
 * no NODE_PATH (pnpm's bin shims set one pointing into its private store, which would let the bin
 * find packages it does not depend on, as no shell would).
 */
export function cliEnv(runDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NO_COLOR: _n, FORCE_COLOR: _f, DEBUG: _d, NODE_PATH: _p, ...inherited } = process.env;
  return { ...inherited, NO_COLOR: '1', DROVER_RUN_DIR: runDir, ...extra };
}

/** Runs `node <bundle> ...args` to completion (deadline `timeoutMs`, then SIGKILL). */
export function drover(
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<Result> {
  return runNode([BIN, ...args], opts);
}

/** Runs `node ...argv` to completion (deadline `timeoutMs`, then SIGKILL). */
export function runNode(
  argv: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<Result> {
  return runCommand(process.execPath, argv, opts);
}

/** Runs `file ...argv` to completion (deadline `timeoutMs`, then SIGKILL): `unshare`, `setpriv`, ... */
export function runCommand(
  file: string,
  argv: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      { cwd: opts.cwd ?? ROOT, env: opts.env, timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: unknown; signal?: NodeJS.Signals }) | null;
        resolve({
          code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Starts `node ...argv` and keeps it running, output collected. */
export function spawnNode(
  argv: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string },
): LiveProcess {
  return new LiveProcess(
    spawn(process.execPath, argv, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** A process a test started: its output so far, a deadline-bound wait, and its exit. */
export class LiveProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return waitUntil(
      `output matching ${pattern}`,
      () => this.output.match(pattern) ?? undefined,
      timeoutMs,
      () => this.output.slice(-3000),
    );
  }

  async waitExit(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(`no exit within ${timeoutMs} ms\n--- output ---\n${this.output.slice(-3000)}`),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` saying what it waited for. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Liveness that counts a zombie as dead. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(ts|mjs|js|json)$/.test(entry.name)) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function outdated(output: string, ...sources: string[]): boolean {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sources.some((dir) => newestMtime(dir) > built);
}

/**
 * Runs a build step. tsc emits even when it reports type errors: type checking is `npx tsc` on
 * its own, so here only outputs that were not written count as a failure.
 */
function run(argv: string[], output?: string): void {
  const result = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  // tsc's exit status 2: diagnostics reported, outputs generated.
  const emitted = output !== undefined && result.status === 2 && existsSync(output);
  if (result.status !== 0 && !emitted) {
    throw new Error(`node ${argv.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Builds what spawned commands load, when missing or older than its sources: @drover/core's
 * dist (workers load its bootstrap and entry), the bundled bin, and the dist of @drover/command
 * and @drover/cli for scripts that import `@drover/cli`. Test files run in parallel, so builds
 * take a lock directory.
 */
export async function ensureBuilt(opts: { packages?: boolean } = {}): Promise<void> {
  const lock = join(
    tmpdir(),
    `drover-cli-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`,
  );
  await waitUntil(
    'the build lock',
    () => {
      try {
        mkdirSync(lock);
        return true;
      } catch {
        // a lock older than any build (a few seconds) was left by a killed run
        const stats = statSync(lock, { throwIfNoEntry: false });
        if (stats && Date.now() - stats.mtimeMs > 120_000) rmdirSync(lock);
        return undefined;
      }
    },
    300_000,
  );
  try {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const core = join(ROOT, 'packages/core');
    if (outdated(join(core, 'dist/worker/ScriptMain.js'), join(core, 'src'))) {
      run([tsc, '-p', join(core, 'tsconfig.json')], join(core, 'dist/worker/ScriptMain.js'));
    }
    const cli = join(ROOT, 'packages/cli');
    const command = join(ROOT, 'packages/command');
    if (outdated(BIN, join(cli, 'src'), join(command, 'src'), join(core, 'src'))) {
      run([join(cli, 'build.mjs')]);
    }
    if (opts.packages) {
      if (outdated(join(command, 'dist/index.js'), join(command, 'src'))) {
        run([tsc, '-p', join(command, 'tsconfig.json')], join(command, 'dist/index.js'));
      }
      if (outdated(join(cli, 'dist/index.js'), join(cli, 'src'))) {
        run([tsc, '-p', join(cli, 'tsconfig.json')], join(cli, 'dist/index.js'));
      }
    }
  } finally {
    rmdirSync(lock);
  }
}

/**
 * `stderr` without the notes a command that finds nothing running adds when masters of this user
 * run with another run directory, or (for root) masters of other users run (other tests' groups,
 * which come and go): the end of a not-running error, and the line of `drover status`.
 */
export function withoutElsewhere(stderr: string): string {
  return stderr
    .replace(
      /^drover: but ((a drover master|\d+ drover masters) of this user runs? with another run directory|uid \d+ ).*\n/m,
      '',
    )
    .replace(
      /; but ((a drover master|\d+ drover masters) of this user runs? with another run directory|uid \d+ )[^\n]*\n$/,
      '\n',
    );
}

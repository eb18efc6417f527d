// What an operator sees when a master is stopped, lost its socket file or its log file: one
// line naming the group, its pid and what to do, exit 1, and nothing half-printed on stdout.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI_FIXTURES, ensureBuilt, pidAlive, spawnNode, waitUntil } from './support/bin.js';
import { Sandbox } from './support/sandbox.js';

const loop = join(CLI_FIXTURES, 'loop.mjs');
let sandbox: Sandbox | undefined;
let stopped: number | null = null;

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

afterEach(async () => {
  if (stopped !== null) process.kill(stopped, 'SIGCONT');
  stopped = null;
  await sandbox?.cleanup();
  sandbox = undefined;
}, 60_000);

async function startAlpha(): Promise<{ box: Sandbox; pid: number }> {
  sandbox = new Sandbox();
  const started = await sandbox.drover(['start', loop, '-d', '--name=alpha']);
  expect(started.code, started.stderr).toBe(0);
  const pid = sandbox.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
  return { box: sandbox, pid };
}

async function terminate(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  await waitUntil('the master to stop', () => (pidAlive(pid) ? undefined : true), 20_000);
}

describe('a master that does not answer', () => {
  it('status --json prints nothing on stdout; a new start is refused at once, saying why', async () => {
    const { box, pid } = await startAlpha();
    process.kill(pid, 'SIGSTOP');
    stopped = pid;

    const status = await box.drover(['status', 'alpha', '--json']);
    expect(status.stdout).toBe('');
    expect(status.stderr).toContain(
      `drover: group 'alpha' (pid ${pid}) did not answer: no answer to 'status'`,
    );
    expect(status.stderr).toContain(`'ps -o stat= -p ${pid}' (T: stopped, 'kill -CONT ${pid}' resumes it)`);
    expect(status.code).toBe(1);

    const again = await box.drover(['start', loop, '-d', '--name=alpha']);
    expect(again.stderr.split('\n')[0]).toBe(
      `drover: 'alpha' is already running (pid ${pid}) but does not answer on its control socket '${join(box.runDir, 'alpha.sock')}'; it may be stopped ('ps -o stat= -p ${pid}' shows T; 'kill -CONT ${pid}' resumes it) or hung ('kill -TERM ${pid}' stops it gracefully, 'kill -KILL ${pid}' if that does nothing); start it again once it is gone`,
    );
    expect(again.code).toBe(1);
  }, 60_000);
});

describe('a live master whose socket file was deleted', () => {
  it('while it cannot put it back (stopped), status and stop name the pid and the way out; running again, it does', async () => {
    const { box, pid } = await startAlpha();
    const socket = join(box.runDir, 'alpha.sock');
    // a running master puts its socket back at once: stopped, it cannot
    process.kill(pid, 'SIGSTOP');
    rmSync(socket);
    const expected = `drover: the master of 'alpha' (pid ${pid}) is alive but its control socket '${socket}' is gone, so it cannot be reached; 'kill -TERM ${pid}' stops it gracefully (its workers finish first); starting the group again then creates a new socket\n`;
    try {
      const status = await box.drover(['status', 'alpha']);
      expect(status.stderr).toBe(expected);
      expect(status.code).toBe(1);
      const stop = await box.drover(['stop', 'alpha']);
      expect(stop.stderr).toBe(expected);
      expect(stop.code).toBe(1);
      const stopAll = await box.drover(['stop', 'all']);
      expect(stopAll.stderr).toBe(expected);
      expect(stopAll.code).toBe(1);
      const again = await box.drover(['start', loop, '-d', '--name=alpha']);
      expect(again.stderr.split('\n')[0]).toBe(expected.trimEnd());
      expect(again.code).toBe(1);
      process.kill(pid, 'SIGCONT');
      await waitUntil('the socket to be back', () => existsSync(socket) || undefined, 10_000);
      const back = await box.drover(['status', 'alpha']);
      expect(back.code, back.stderr).toBe(0);
      expect(back.stdout).toContain('alpha');
    } finally {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
      await terminate(pid);
    }
  }, 60_000);
});

describe('drover logs', () => {
  it('a log path that is a directory is named, with the fix', async () => {
    sandbox = new Sandbox();
    const path = join(sandbox.runDir, 'logs', 'ghost.log');
    mkdirSync(path, { recursive: true });
    const result = await sandbox.drover(['logs', 'ghost']);
    expect(result.stderr).toBe(
      `drover: the log file of group 'ghost', ${path}, is not a file (a directory or another kind); remove or rename it, and drover writes its log there again\n`,
    );
    expect(result.code).toBe(1);
  });

  it.each([[[] as string[]], [['--follow']]])(
    'a reader that closes the pipe early (| head) ends %j with exit 0 and no stack trace',
    async (extra) => {
      sandbox = new Sandbox();
      mkdirSync(join(sandbox.runDir, 'logs'), { mode: 0o700 });
      const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}\n`).join('');
      writeFileSync(join(sandbox.runDir, 'logs', 'long.log'), lines, { mode: 0o600 });
      const child = spawn(process.execPath, [BIN, 'logs', 'long', '--lines=50000', ...extra], {
        env: sandbox.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      // the reader takes its first lines and goes, as head does
      await new Promise((done) => child.stdout.once('data', done));
      child.stdout.destroy();
      const deadline = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(deadline);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    },
  );

  it('on a terminal, control characters in a log line are shown escaped; into a pipe, as they are', async () => {
    sandbox = new Sandbox();
    mkdirSync(join(sandbox.runDir, 'logs'), { mode: 0o700 });
    // what the daemon's raw output could hold: a title change and a screen clear
    writeFileSync(join(sandbox.runDir, 'logs', 'raw.log'), 'plain\n\x1b]0;owned\x07\x1b[2Jcleared\n', {
      mode: 0o600,
    });
    const onTerminal = await new Promise<string>((done, fail) =>
      execFile(
        'script',
        ['-qec', `${process.execPath} ${BIN} logs raw`, '/dev/null'],
        { env: sandbox!.env, timeout: 30_000 },
        (error, stdout) => (error ? fail(error) : done(stdout)),
      ),
    );
    expect(onTerminal.replaceAll('\r', '')).toBe('plain\n\\x1b]0;owned\\x07\\x1b[2Jcleared\n');
    const piped = await sandbox.drover(['logs', 'raw']);
    expect(piped.stdout).toBe('plain\n\x1b]0;owned\x07\x1b[2Jcleared\n');
  });

  it('a log file deleted under a running group is begun again, and logs reads the new one', async () => {
    const { box } = await startAlpha();
    const file = join(box.runDir, 'logs', 'alpha.log');
    rmSync(file);
    const shown = await waitUntil('the new log file', async () => {
      const result = await box.drover(['logs', 'alpha', '-n', '50']);
      return result.code === 0 && result.stdout.includes('writing a new one') ? result : undefined;
    });
    expect(shown.stdout).toContain(
      `log file '${file}' was removed or moved away while written: writing a new one`,
    );
    expect(shown.stderr).toBe('');
  }, 60_000);

  it('a group running in the foreground has no log file, and logs says where its lines go', async () => {
    sandbox = new Sandbox();
    const box = sandbox;
    const master = spawnNode([BIN, 'start', loop, '--name=front'], { env: box.env, cwd: box.dir });
    try {
      box.track(master.pid);
      await box.waitWorkers('front', 1);
      const result = await box.drover(['logs', 'front']);
      expect(result.stderr).toBe(
        `drover: group 'front' (pid ${master.pid}) writes no log file: it runs in the foreground, and its log goes to the terminal it was started from; start it with -d for a log file\n`,
      );
      expect(result.code).toBe(1);
    } finally {
      await master.kill();
    }
  }, 60_000);

  it("a config file's group with its own logDir is read from any directory, in the file its master writes", async () => {
    sandbox = new Sandbox();
    const box = sandbox;
    const app = join(box.dir, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'drover.config.json'),
      JSON.stringify({ groups: [{ baseTitle: 'own', script: loop, logDir: 'own-logs' }] }),
    );
    // an older run's log at the default path must not be taken for the running master's
    mkdirSync(join(box.runDir, 'logs'), { mode: 0o700 });
    writeFileSync(join(box.runDir, 'logs', 'own.log'), 'stale line of an older run\n', { mode: 0o600 });
    const started = await box.drover(['start', '-d'], { cwd: app });
    expect(started.code, started.stderr).toBe(0);
    box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    await box.waitWorkers('own', 1);
    const result = await box.drover(['logs', 'own', '-n=50']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/\[own:master #\d+\] master started/);
    expect(result.stdout).not.toContain('stale line');
    expect(result.code).toBe(0);
  }, 60_000);
});

// A master killed while `drover stop` or `drover reload` waits for it: the command says that the
// master ended before it finished (exit 1), where it used to report a stop as done; a stop that
// the master completes still says `stopped` (exit 0).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, type LiveProcess, pidAlive, spawnNode, waitUntil, withoutElsewhere } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/**
 * Executions of WORK_MS (a stop waits for the one under way); while the file `slow-init` exists in
 * its directory, a new worker takes 30 s to become ready (a reload is then in progress).
 */
const LONG_WORK = `import { existsSync } from 'node:fs';
export async function init() {
  if (existsSync('slow-init')) await new Promise((resolve) => setTimeout(resolve, 30_000));
}
export async function work(worker) {
  console.log(\`execution begins on \${worker.pin}\`);
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.WORK_MS)));
  console.log(\`execution done on \${worker.pin}\`);
}
`;

/** Starts group 'long' (two workers, executions of `workMs`) and waits until both execute. */
async function startLong(box: Sandbox, workMs: number): Promise<{ pid: number; workers: number[] }> {
  writeFileSync(join(box.dir, 'long.mjs'), LONG_WORK);
  const started = await box.drover(['start', 'long.mjs', '-d', '-w', '2', '--name=long'], {
    env: { WORK_MS: String(workMs) },
  });
  expect(started.code, started.stderr).toBe(0);
  const pid = box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
  const group = await box.waitWorkers('long', 2);
  await waitUntil('both workers in an execution', () =>
    (logOf(box).match(/execution begins on/g)?.length ?? 0) >= 2 ? true : undefined,
  );
  return { pid, workers: group.workers.map((w) => w.pid!) };
}

function logOf(box: Sandbox): string {
  return readFileSync(join(box.runDir, 'logs', 'long.log'), 'utf8');
}

/** Runs `drover ...args` in the background, until `logLine` shows the master at work on it. */
async function underWay(box: Sandbox, args: string[], logLine: RegExp): Promise<LiveProcess> {
  const command = spawnNode([BIN, ...args], { env: box.env, cwd: box.dir });
  box.track(command.pid);
  await waitUntil(
    `the log line ${logLine}`,
    () => logLine.test(logOf(box)) || undefined,
    20_000,
    () => logOf(box).slice(-2000),
  );
  return command;
}

async function gone(pids: number[]): Promise<void> {
  await waitUntil('the processes to end', () => (pids.every((p) => !pidAlive(p)) ? true : undefined), 20_000);
}

describe('a master killed in the middle of a request', () => {
  it('drover stop: exit 1, saying the master ended before it finished the stop', async () => {
    const box = openSandbox();
    // executions longer than the stop timeout: the stop is under way for 10 s
    const { pid, workers } = await startLong(box, 60_000);
    const stop = await underWay(box, ['stop', 'long'], /\[long:master #\d+\] stopping reason=stop/);
    expect(logOf(box)).not.toMatch(/\] stopped\n/);
    process.kill(pid, 'SIGKILL');

    expect(await stop.waitExit(30_000)).toEqual({ code: 1, signal: null });
    expect(stop.output).toBe(
      `drover: the master of 'long' (pid ${pid}) ended before it finished the stop (killed?), so its workers did not stop gracefully: ` +
        `a worker whose master is gone ends within a second, its execution done or not; ` +
        `'drover logs long' shows how far it got; the group no longer runs ('drover start' starts it again)\n`,
    );
    await gone(workers);
    // what the master left is the business of discovery, which says so once and removes it
    const status = await box.drover(['status', 'long']);
    expect(status).toMatchObject({
      code: 3,
      stderr: `drover: 'long' (pid ${pid}) is no longer running: its master ended without stopping (killed, or crashed); removed its stale files; its log: ${join(box.runDir, 'logs', 'long.log')}\n`,
    });
    expect(existsSync(join(box.runDir, 'long.pid'))).toBe(false);
    const again = await box.drover(['status', 'long']);
    expect(withoutElsewhere(again.stderr)).toBe(
      `drover: no group named 'long' is running in ${box.runDir}; start it again ('start')\n`,
    );
  }, 90_000);

  it('drover reload: exit 1, saying the master ended before it finished the reload', async () => {
    const box = openSandbox();
    const { pid, workers } = await startLong(box, 1000);
    // the successors take 30 s to become ready: the reload is under way
    writeFileSync(join(box.dir, 'slow-init'), '');
    const reload = await underWay(box, ['reload', 'long'], /\[long:master #\d+\] reload started/);
    process.kill(pid, 'SIGKILL');

    expect(await reload.waitExit(30_000)).toEqual({ code: 1, signal: null });
    expect(reload.output).toBe(
      `drover: the master of 'long' (pid ${pid}) ended before it finished the reload (killed?), and its workers with it: ` +
        `a worker whose master is gone ends within a second, its execution done or not; ` +
        `'drover logs long' shows how far it got; the group no longer runs ('drover start' starts it again)\n`,
    );
    await gone(workers);
  }, 90_000);

  it('a stop the master finishes says stopped, exit 0, once the executions under way are done', async () => {
    const box = openSandbox();
    const { pid, workers } = await startLong(box, 1500);
    const stop = await underWay(box, ['stop', 'long'], /\[long:master #\d+\] stopping reason=stop/);
    expect(await stop.waitExit(30_000)).toEqual({ code: 0, signal: null });
    expect(stop.output).toBe(`stopped 'long' (pid ${pid})\n`);
    expect(logOf(box)).toMatch(/\] stopped\n/);
    await gone([pid, ...workers]);
    // every execution begun was finished
    const begun = logOf(box).match(/execution begins on/g)?.length;
    expect(logOf(box).match(/execution done on/g)?.length).toBe(begun);
  }, 90_000);
});

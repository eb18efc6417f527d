// A group whose master ended without stopping (kill -9, the OOM killer, a crash) leaves a trace:
// the reaper appends a line to the group's log, and the first command that finds its stale pid
// file says so once on stderr (with its log), `drover status` exiting 3 for that run. So does a
// group that gave up (every worker given up, restart.maxRestarts): its master leaves why.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES, pidAlive, ROOT, waitUntil, withoutElsewhere } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** A plain script whose worker is wedged in synchronous code 1 s after it loads: only SIGKILL ends it. */
const STUCK = `setTimeout(() => { for (;;) {} }, 1000);
setInterval(() => {}, 1000);
`;

/** Starts `name` (one worker, wedged) in the background; resolves with the master's and the worker's pids. */
async function startStuck(box: Sandbox, name: string): Promise<{ master: number; worker: number }> {
  writeFileSync(join(box.dir, 'stuck.mjs'), STUCK);
  const started = await box.drover(['start', 'stuck.mjs', '-d', `--name=${name}`]);
  expect(started.code, started.stderr).toBe(0);
  const master = box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
  const group = await box.waitWorkers(name, 1);
  return { master, worker: group.workers[0]!.pid! };
}

/** kill -9 of the master; resolves once its worker is gone too (the reaper's work). */
async function killMaster(master: number, worker: number): Promise<void> {
  process.kill(master, 'SIGKILL');
  await waitUntil('the master and its worker to end', () =>
    !pidAlive(master) && !pidAlive(worker) ? true : undefined,
  );
}

function ended(box: Sandbox, name: string, pid: number): string {
  return `drover: '${name}' (pid ${pid}) is no longer running: its master ended without stopping (killed, or crashed); removed its stale files; its log: ${join(box.runDir, 'logs', `${name}.log`)}\n`;
}

describe('a master that ended without stopping', () => {
  it('drover status says so once, with its log, and exits 3; the next status is plain', async () => {
    const box = openSandbox();
    // a group that keeps running beside it
    const other = await box.drover(['start', join(CLI_FIXTURES, 'plain.mjs'), '-d', '--name=fixcli-keep']);
    expect(other.code, other.stderr).toBe(0);
    box.track(Number(/\(pid (\d+)\)/.exec(other.stdout)?.[1]));
    const { master, worker } = await startStuck(box, 'fixcli-dead');
    await killMaster(master, worker);

    const first = await box.drover(['status']);
    expect(first.stderr).toBe(ended(box, 'fixcli-dead', master));
    expect(first.code).toBe(3);
    expect(first.stdout).toMatch(/^group {2}fixcli-keep\nTYPE /);
    expect(existsSync(join(box.runDir, 'fixcli-dead.pid'))).toBe(false);
    expect(existsSync(join(box.runDir, 'fixcli-dead.sock'))).toBe(false);

    const second = await box.drover(['status']);
    expect(second).toMatchObject({ code: 0, stderr: '' });

    // the reaper killed the wedged worker, and said so in the group's log
    const log = readFileSync(join(box.runDir, 'logs', 'fixcli-dead.log'), 'utf8');
    expect(log).toMatch(
      new RegExp(
        `\\n\\S+Z error +\\[fixcli-dead:reaper #\\d+\\] the master \\(pid ${master}\\) ended without stopping its workers \\(killed, or crashed\\): killed the processes it left \\(pids ${worker}\\)\\n$`,
      ),
    );
  }, 90_000);

  it('drover status <name> of it: the line alone and exit 3 (--json: []); then exit 1, not running, start it again', async () => {
    const box = openSandbox();
    const { master, worker } = await startStuck(box, 'fixcli-gone');
    await killMaster(master, worker);

    const first = await box.drover(['status', 'fixcli-gone', '--json']);
    expect(first).toMatchObject({ code: 3, stdout: '[]\n', stderr: ended(box, 'fixcli-gone', master) });
    const second = await box.drover(['status', 'fixcli-gone']);
    expect(second).toMatchObject({ code: 1, stdout: '' });
    // (as a command that lost the race to say it: the group's log is there, so it ran before)
    expect(withoutElsewhere(second.stderr)).toBe(
      `drover: no group named 'fixcli-gone' is running in ${box.runDir}; start it again ('start')\n`,
    );
  }, 90_000);

  it('drover stop <name> of it: the line, then the error', async () => {
    const box = openSandbox();
    const { master, worker } = await startStuck(box, 'fixcli-stop');
    await killMaster(master, worker);

    const stop = await box.drover(['stop', 'fixcli-stop']);
    expect(stop).toMatchObject({ code: 1, stdout: '' });
    expect(withoutElsewhere(stop.stderr)).toBe(
      ended(box, 'fixcli-stop', master) +
        `drover: no group named 'fixcli-stop' is running in ${box.runDir}; start it again ('start')\n`,
    );
  }, 90_000);

  it('a library that looked first (runningGroups, Manage of a group not running) leaves it for drover status to say', async () => {
    const box = openSandbox();
    const { master, worker } = await startStuck(box, 'fixcli-lib');
    await killMaster(master, worker);

    const look = join(box.dir, 'look.mjs');
    writeFileSync(
      look,
      `import { runningGroups } from ${JSON.stringify(join(ROOT, 'packages/core/bundle/control.js'))};
import { Manage } from ${JSON.stringify(join(ROOT, 'packages/core/bundle/index.js'))};
const runDir = process.env.DROVER_RUN_DIR;
console.log(JSON.stringify(await runningGroups(runDir)));
await new Manage({ baseTitle: 'fixcli-health', runDir }).status().catch((err) => console.log(err.code));
`,
    );
    expect(await box.node([look])).toMatchObject({ code: 0, stdout: '[]\nENOTRUNNING\n' });
    expect(existsSync(join(box.runDir, 'fixcli-lib.pid'))).toBe(false);
    expect(existsSync(join(box.runDir, 'fixcli-lib.sock'))).toBe(false);

    const first = await box.drover(['status']);
    expect(first.code).toBe(3);
    expect(withoutElsewhere(first.stderr)).toBe(ended(box, 'fixcli-lib', master));
    expect(existsSync(join(box.runDir, 'fixcli-lib.ended'))).toBe(false);
    const second = await box.drover(['status']);
    expect(second.code).toBe(0);
    expect(withoutElsewhere(second.stderr)).toBe('');
  }, 90_000);

  it('a master started again over its stale pid file leaves it for drover status to say', async () => {
    const box = openSandbox();
    const { master, worker } = await startStuck(box, 'fixcli-again');
    await killMaster(master, worker);

    const again = await box.drover(['start', 'stuck.mjs', '-d', '--name=fixcli-again']);
    expect(again.code, again.stderr).toBe(0);
    const now = box.track(Number(/\(pid (\d+)\)/.exec(again.stdout)?.[1]));
    const first = await box.drover(['status', 'fixcli-again']);
    expect(first.stderr).toBe(
      `drover: 'fixcli-again' (pid ${master}) ended without stopping (killed, or crashed) before the master that runs it now started; its log: ${join(box.runDir, 'logs', 'fixcli-again.log')}\n`,
    );
    expect(first.code).toBe(3);
    expect(first.stdout).toContain(String(now));
    expect((await box.drover(['status', 'fixcli-again'])).stderr).toBe('');
  }, 90_000);
});

/** A group of one worker that gives up after one restart once `mark` exists. */
function writeGiveUpConfig(box: Sandbox, name: string, mark: string): void {
  writeFileSync(
    join(box.dir, 'drover.config.json'),
    JSON.stringify({
      groups: [
        {
          baseTitle: name,
          script: join(CLI_FIXTURES, 'crash-pin.mjs'),
          maxWorkerNum: 1,
          env: { CRASH_MARK: mark },
          restart: { initialDelayMs: 100, maxRestarts: 1 },
        },
      ],
    }),
  );
}

describe('a group that gave up', () => {
  it('drover status says once why it ended, with its log, and exits 3; the next status is plain', async () => {
    const box = openSandbox();
    const mark = join(box.dir, 'crash-mark');
    writeGiveUpConfig(box, 'fixcli-quit', mark);
    const started = await box.drover(['start', '-d']);
    expect(started.code, started.stderr).toBe(0);
    const group = await box.waitWorkers('fixcli-quit', 1);
    const master = group.master.pid;

    writeFileSync(mark, '');
    await waitUntil('the master to give up and exit', () => (pidAlive(master) ? undefined : true), 30_000);
    expect(existsSync(join(box.runDir, 'fixcli-quit.pid'))).toBe(false);
    expect(existsSync(join(box.runDir, 'fixcli-quit.ended'))).toBe(true);

    const first = await box.drover(['status']);
    expect(first.code).toBe(3);
    expect(withoutElsewhere(first.stderr)).toMatch(
      new RegExp(
        `^drover: 'fixcli-quit' \\(pid ${master}\\) gave up and is no longer running: worker 0 given up after 1 restart\\(s\\) \\(restart\\.maxRestarts\\), last exit code 1, crash, \\d+s ago: Error: PIN 0 refuses to start: the mark is present; start it again \\('start'\\) once the cause is fixed; its log: ${join(box.runDir, 'logs', 'fixcli-quit.log')}\n$`,
      ),
    );
    expect(existsSync(join(box.runDir, 'fixcli-quit.ended'))).toBe(false);
    const second = await box.drover(['status']);
    expect(second.code).toBe(0);
    expect(withoutElsewhere(second.stderr)).toBe('');
  }, 90_000);

  it('a master started again over its record leaves it for drover status to say', async () => {
    const box = openSandbox();
    const mark = join(box.dir, 'crash-mark');
    writeGiveUpConfig(box, 'fixcli-requit', mark);
    expect((await box.drover(['start', '-d'])).code).toBe(0);
    const master = (await box.waitWorkers('fixcli-requit', 1)).master.pid;
    writeFileSync(mark, '');
    await waitUntil('the master to give up and exit', () => (pidAlive(master) ? undefined : true), 30_000);

    rmSync(mark);
    const again = await box.drover(['start', '-d']);
    expect(again.code, again.stderr).toBe(0);
    const now = box.track(Number(/\(pid (\d+)\)/.exec(again.stdout)?.[1]));
    const first = await box.drover(['status', 'fixcli-requit']);
    expect(first.stderr).toMatch(
      new RegExp(
        `^drover: 'fixcli-requit' \\(pid ${master}\\) gave up before the master that runs it now started: worker 0 given up after 1 restart\\(s\\) .*; its log: ${join(box.runDir, 'logs', 'fixcli-requit.log')}\n$`,
      ),
    );
    expect(first.code).toBe(3);
    expect(first.stdout).toContain(String(now));
    expect((await box.drover(['status', 'fixcli-requit'])).stderr).toBe('');
  }, 90_000);

  it('a background start of a config file says at once that one of its groups gave up', async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'quits.mjs'), 'export async function work() {\n  process.exit(3);\n}\n');
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({
        groups: [
          { baseTitle: 'fixcli-stays', script: join(CLI_FIXTURES, 'plain.mjs'), maxWorkerNum: 1 },
          {
            baseTitle: 'fixcli-quits',
            script: 'quits.mjs',
            maxWorkerNum: 1,
            restart: { initialDelayMs: 100, maxRestarts: 1 },
          },
        ],
      }),
    );
    const started = await box.drover(['start', '-d']);
    expect(started.code).toBe(1);
    expect(started.stderr).toMatch(
      /^drover: 'fixcli-stays', 'fixcli-quits' did not start in the background: 'fixcli-quits' gave up: worker 0 given up after 1 restart\(s\) \(restart\.maxRestarts\), last exit code 3, crash, \d+s ago; its daemon \(pid \d+\) was stopped and no longer runs/,
    );
    // said by the start: not again by the next status, which finds nothing running
    const status = await box.drover(['status']);
    expect(status.code).toBe(0);
    expect(withoutElsewhere(status.stderr)).toBe('');
  }, 90_000);
});

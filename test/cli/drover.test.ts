// The `drover` bin end to end, spawned from its bundle: background start, status from other
// processes, reload, scale, restart, logs, stop; the foreground master and Ctrl-C; a config file.
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Process } from '@drover/core';
import { describe, expect, it } from 'vitest';
import { psArgs } from '../support/group.js';
import { BIN, CLI_FIXTURES, pidAlive, spawnNode, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const loop = join(CLI_FIXTURES, 'loop.mjs');
const plain = join(CLI_FIXTURES, 'plain.mjs');
const broken = join(CLI_FIXTURES, 'broken.mjs');

/** The test's sandbox, cleaned up after it. */
const openSandbox = sandboxPerTest();

function title(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]!.trim();
}

function waitDead(pids: readonly number[], what: string): Promise<true> {
  return waitUntil(what, () => (pids.every((pid) => !pidAlive(pid)) ? true : undefined), 20_000);
}

describe('drover start -d and the commands that follow it', () => {
  it('starts in the background; status, reload, scale, restart, logs and stop work from other processes', async () => {
    const box = openSandbox();

    const started = await box.drover(['start', loop, '-w', '2', '-d', '--name', 'alpha']);
    expect(started.stderr).toBe('');
    const match = /^started 'alpha' in the background \(pid (\d+)\); log: (\S+)\n$/.exec(started.stdout);
    expect(match, started.stdout).not.toBeNull();
    expect(started.code).toBe(0);
    const pid = box.track(Number(match![1]));
    expect(match![2]).toBe(join(box.runDir, 'logs', 'alpha.log'));
    expect(title(pid)).toBe('drover:Master:alpha');

    // the table, from a second process
    const table = await box.drover(['status']);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    // every group's table under its name
    expect(table.stdout).toMatch(
      new RegExp(`^group {2}alpha\\nTYPE +PID +TITLE .*\\nMaster +${pid} +drover:Master:alpha +running `),
    );
    for (const header of ['PIN', 'STATE', 'MEMORY', 'CPU', 'EXECUTIONS', 'RESTARTS', 'LAST EXIT']) {
      expect(table.stdout).toContain(header);
    }
    expect(table.stdout).toMatch(/\n +0 +\d+ +drover:Worker:alpha:0 +(ready|busy) /);
    expect(table.stdout).toMatch(/\n +1 +\d+ +drover:Worker:alpha:1 +(ready|busy) /);

    // the same data as JSON, for all groups and for the named one
    const [group] = await box.status();
    expect(group!.master).toMatchObject({
      pid,
      baseTitle: 'alpha',
      title: 'drover:Master:alpha',
      targetWorkers: 2,
    });
    expect(group!.workers.map((w) => w.pin)).toEqual([0, 1]);
    const firstPids = group!.workers.map((w) => w.pid as number);
    for (const workerPid of firstPids) expect(pidAlive(workerPid)).toBe(true);
    const named = await box.drover(['status', 'alpha', '--json']);
    expect(named.code).toBe(0);
    expect((JSON.parse(named.stdout) as Array<{ master: { pid: number } }>).map((g) => g.master.pid)).toEqual(
      [pid],
    );

    // a second start of the same name is refused; an unknown name lists what runs
    const again = await box.drover(['start', loop, '-d', '--name=alpha']);
    expect(again.stderr).toBe(
      `drover: 'alpha' is already running (pid ${pid}); stop it first (drover stop alpha, or stop() on its Manage), or give the new group another name (--name, baseTitle)\n`,
    );
    expect(again.code).toBe(1);
    // (a name no other test runs: a master of it elsewhere would be named too)
    const unknown = await box.drover(['stop', 'fixcli-unknown']);
    expect(unknown.stderr).toBe(
      `drover: no group named 'fixcli-unknown' is running in ${box.runDir}; running there: alpha\n`,
    );
    expect(unknown.code).toBe(1);
    const unknownStatus = await box.drover(['status', 'fixcli-unknown']);
    expect(unknownStatus.stderr).toBe(
      `drover: no group named 'fixcli-unknown' is running in ${box.runDir}; running there: alpha\n`,
    );
    expect(unknownStatus.code).toBe(1);

    // rolling reload: every worker replaced, the master stays
    const reload = await box.drover(['reload', 'alpha']);
    expect(reload).toMatchObject({ code: 0, stdout: "reloaded 'alpha': 2 worker(s) replaced\n", stderr: '' });
    await waitDead(firstPids, 'the workers replaced by the reload to exit');
    const reloaded = await box.waitWorkers('alpha', 2);
    expect(reloaded.master.pid).toBe(pid);
    for (const w of reloaded.workers) expect(firstPids).not.toContain(w.pid);

    // scale up
    const scale = await box.drover(['scale', 'alpha', '3']);
    expect(scale).toMatchObject({ code: 0, stdout: "scaled 'alpha' from 2 to 3 worker(s)\n", stderr: '' });
    const scaled = await box.waitWorkers('alpha', 3);
    expect(scaled.workers.map((w) => w.pin)).toEqual([0, 1, 2]);

    // restart: all workers stopped, then started again
    const restartPids = scaled.workers.map((w) => w.pid as number);
    const restart = await box.drover(['restart', 'alpha']);
    expect(restart).toMatchObject({ code: 0, stdout: "restarted the workers of 'alpha'\n", stderr: '' });
    await waitDead(restartPids, 'the workers stopped by the restart to exit');
    expect((await box.waitWorkers('alpha', 3)).master.pid).toBe(pid);
    // exactly one process per PIN, none unsupervised
    const workerProcesses = Process.children(pid).filter((child) =>
      psArgs(child).startsWith('drover:Worker:alpha:'),
    );
    expect(workerProcesses).toHaveLength(3);

    // the log: the last lines, then followed until Ctrl-C
    const logs = await box.drover(['logs', 'alpha', '-n=5']);
    expect(logs.code).toBe(0);
    const lines = logs.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z \w+ +\[alpha:(\d+|master) #\d+\] /);
    const follow = spawnNode([BIN, 'logs', 'alpha', '-f', '-n=0'], { env: box.env, cwd: box.dir });
    try {
      await follow.waitForOutput(/\[alpha:\d #\d+\] loop worker \d at \d+\n/);
      follow.proc.kill('SIGINT');
      expect(await follow.waitExit()).toEqual({ code: 0, signal: null });
    } finally {
      await follow.kill();
    }

    // stop: the master and every worker end; nothing is left in the run directory's view
    const workerPids = (await box.status())[0]!.workers.map((w) => w.pid as number);
    const stop = await box.drover(['stop', 'alpha']);
    expect(stop).toMatchObject({ code: 0, stdout: `stopped 'alpha' (pid ${pid})\n`, stderr: '' });
    await waitDead([pid, ...workerPids], 'the stopped group to exit');
    // (masters of other tests, in other run directories, may be named on stderr)
    expect(await box.drover(['status'])).toMatchObject({
      code: 0,
      stdout: `no drover group is running in ${box.runDir}\n`,
    });
    expect(await box.drover(['status', '--json'])).toMatchObject({ code: 0, stdout: '[]\n' });
    expect(await box.drover(['stop', 'all'])).toMatchObject({
      code: 0,
      stdout: `no drover group is running in ${box.runDir}\n`,
    });
    // a reload or restart of nothing did not happen: a deploy script must hear it
    for (const [command, verb] of [
      ['reload', 'reloaded'],
      ['restart', 'restarted'],
    ] as const) {
      const none = await box.drover([command, 'all']);
      expect(none).toMatchObject({ code: 1, stdout: '' });
      // with no master of this user elsewhere (other tests may run some), the generic advice
      expect(none.stderr).toMatch(
        new RegExp(
          `^drover: no drover group is running in ${box.runDir}, so none was ${verb}; (start one first, or set DROVER_RUN_DIR to the run directory of the groups|but (a drover master|\\d+ drover masters) of this user runs? with another run directory: .*)\\n$`,
        ),
      );
    }
  }, 180_000);

  it('a group whose script fails as it loads: exit 1 with the reason, nothing left running', async () => {
    const box = openSandbox();
    const result = await box.drover(['start', broken, '-w=2', '-d']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^drover: 'broken' did not start in the background: .*broken fixture: cannot load/,
    );
    expect(await box.status()).toEqual([]);
  }, 120_000);

  it('--name that took the script as its value says so, exit 2', async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'app.mjs'), 'setInterval(() => {}, 1000);\n');
    const result = await box.drover(['start', '--name', 'app.mjs']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "drover: option --name took 'app.mjs' as its value, so no script was given; give the group's name after it: drover start app.mjs --name <name>",
    );
  });

  it('a group name with a config file that cannot be read: the error says both', async () => {
    const box = openSandbox();
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({ groups: [{ baseTitle: 'web', script: 'x.mjs', readyWhen: 'listen' }] }),
    );
    const result = await box.drover(['start', 'web', '-d']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^drover: script 'web' does not exist, and the config file cannot be read to look for a group of that name: .*'readyWhen' is "listen"/,
    );
  });

  it('-w max starts one worker per CPU this process may run on', async () => {
    const box = openSandbox();
    const started = await box.drover(['start', loop, '-w', 'max', '-d', '--name', 'cpus']);
    expect(started.code, started.stderr).toBe(0);
    const [group] = await box.status();
    expect(group!.master.targetWorkers).toBe(availableParallelism());
    expect(group!.workers).toHaveLength(availableParallelism());
  }, 120_000);
});

describe('drover start in the foreground', () => {
  it('is the master itself (title drover:Master:<name>) and stops cleanly on SIGINT', async () => {
    const box = openSandbox();
    const master = spawnNode([BIN, 'start', plain, '-w=2', '--name=front', '--', '--flag=1'], {
      env: box.env,
      cwd: box.dir,
    });
    try {
      box.track(master.pid);
      const group = await box.waitWorkers('front', 2);
      expect(group.master.pid).toBe(master.pid);
      expect(title(master.pid)).toBe('drover:Master:front');
      await master.waitForOutput(/\[front:0 #\d+\] plain script up, argv \["--flag=1"\]/);
      const workerPids = group.workers.map((w) => w.pid as number);

      master.proc.kill('SIGINT');
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
      await waitDead(workerPids, 'the workers of the stopped foreground master to exit');
      expect(master.output).toMatch(/SIGINT received: graceful stop/);
      expect(await box.status()).toEqual([]);
    } finally {
      await master.kill();
    }
  }, 120_000);
});

describe('drover start with a config file', () => {
  it('in the foreground, the process is the master of every group, titled after them', async () => {
    const box = openSandbox();
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({
        groups: [
          { baseTitle: 'fg-web', script: plain, maxWorkerNum: 1 },
          { baseTitle: 'fg-jobs', script: plain, maxWorkerNum: 1 },
        ],
      }),
    );
    const master = spawnNode([BIN, 'start'], { env: box.env, cwd: box.dir });
    try {
      box.track(master.pid);
      await box.waitWorkers('fg-web', 1);
      await box.waitWorkers('fg-jobs', 1);
      expect(title(master.pid)).toBe('drover:Master:fg-web,fg-jobs');
      // one of them stopped: the title names the one left
      expect((await box.drover(['stop', 'fg-web'])).code).toBe(0);
      await waitUntil('the title to drop fg-web', () =>
        title(master.pid) === 'drover:Master:fg-jobs' ? true : undefined,
      );
      master.proc.kill('SIGTERM');
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
    } finally {
      await master.kill();
    }
  }, 120_000);

  it('in the foreground, a title longer than the command line leaves room for is not set cut', async () => {
    const box = openSandbox();
    const long = (n: number) => `fg-${'x'.repeat(55)}-${n}`;
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({
        groups: [
          { baseTitle: long(1), script: plain, maxWorkerNum: 1 },
          { baseTitle: long(2), script: plain, maxWorkerNum: 1 },
          { baseTitle: long(3), script: plain, maxWorkerNum: 1 },
        ],
      }),
    );
    const master = spawnNode([BIN, 'start'], { env: box.env, cwd: box.dir });
    try {
      box.track(master.pid);
      await box.waitWorkers(long(3), 1);
      expect(title(master.pid)).not.toMatch(/^drover:Master:/);
      master.proc.kill('SIGTERM');
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
    } finally {
      await master.kill();
    }
  }, 120_000);

  it('starts two groups from drover.config.mjs; each is stopped by its name or with all', async () => {
    const box = openSandbox();
    writeFileSync(
      join(box.dir, 'drover.config.mjs'),
      `export default {
  groups: [
    { baseTitle: 'web', script: ${JSON.stringify(plain)}, maxWorkerNum: 1 },
    { baseTitle: 'jobs', script: ${JSON.stringify(loop)}, maxWorkerNum: 2, logDir: 'jobs-logs' },
  ],
};
`,
    );
    const started = await box.drover(['start', '-d']);
    expect(started.stderr).toBe('');
    const match = new RegExp(
      `^started 'web', 'jobs' from ${join(box.dir, 'drover.config.mjs')} in the background \\(pid (\\d+)\\)\\n$`,
    ).exec(started.stdout);
    expect(match, started.stdout).not.toBeNull();
    expect(started.code).toBe(0);
    const pid = box.track(Number(match![1]));

    const groups = await box.status();
    expect(groups.map((g) => [g.master.baseTitle, g.master.pid, g.workers.length])).toEqual([
      ['jobs', pid, 2],
      ['web', pid, 1],
    ]);
    // a group with its own logDir: `drover logs` in the config's directory reads it there
    const jobsLog = await box.drover(['logs', 'jobs', '-n=100']);
    expect(jobsLog.code).toBe(0);
    expect(jobsLog.stdout).toMatch(/\[jobs:0 #\d+\] loop worker 0 ready\n/);
    expect(readFileSync(join(box.dir, 'jobs-logs', 'jobs.log'), 'utf8')).toContain('loop worker 1 ready');

    expect(await box.drover(['scale', 'x', '1'])).toMatchObject({
      code: 1,
      stderr: `drover: no group named 'x' is running in ${box.runDir}; running there: jobs, web\n`,
    });

    // `all` reaches every group, each through its own socket
    expect(await box.drover(['reload', 'all'])).toMatchObject({
      code: 0,
      stdout: "reloaded 'jobs': 2 worker(s) replaced\nreloaded 'web': 1 worker(s) replaced\n",
      stderr: '',
    });
    expect(await box.drover(['restart', 'all'])).toMatchObject({
      code: 0,
      stdout: "restarted the workers of 'jobs'\nrestarted the workers of 'web'\n",
      stderr: '',
    });
    await box.waitWorkers('jobs', 2);
    await box.waitWorkers('web', 1);

    expect(await box.drover(['stop', 'web'])).toMatchObject({
      code: 0,
      stdout: `stopped 'web' (pid ${pid})\n`,
    });
    expect((await box.status()).map((g) => g.master.baseTitle)).toEqual(['jobs']);

    // the whole file while one of its groups runs: refused, and the others start by name
    const whole = await box.drover(['start', '-d']);
    expect(whole.code).toBe(1);
    expect(whole.stderr).toBe(
      "drover: 'jobs' of the config file is already running; start the others by name: drover start web -d\n",
    );

    // one group of the config file, by its name, while the other runs on
    const again = await box.drover(['start', 'web', '-d']);
    expect(again.stderr).toBe('');
    const againMatch = new RegExp(
      `^started 'web' from ${join(box.dir, 'drover.config.mjs')} in the background \\(pid (\\d+)\\)\\n$`,
    ).exec(again.stdout);
    expect(againMatch, again.stdout).not.toBeNull();
    const webPid = box.track(Number(againMatch![1]));
    expect((await box.status()).map((g) => [g.master.baseTitle, g.master.pid])).toEqual([
      ['jobs', pid],
      ['web', webPid],
    ]);
    // a name that is neither a file nor a group of the config file is a missing script
    expect(await box.drover(['start', 'nosuch'])).toMatchObject({ code: 1, stdout: '' });

    expect(await box.drover(['stop', 'all'])).toMatchObject({
      code: 0,
      stdout: `stopped 'jobs' (pid ${pid})\nstopped 'web' (pid ${webPid})\n`,
    });
    await waitDead([pid, webPid], 'the daemons to exit');
    expect(await box.status()).toEqual([]);
  }, 120_000);
});

// ManageProcessTemplate: a script's own `<start|stop|restart|reload|status> -[d]`, in process for
// its command line, and spawned as a user's script runs it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manage, ManageMultiple } from '@drover/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManageProcessTemplate } from '../../packages/cli/src/index.js';
import { capture } from '../command/support/capture.js';
import { CLI_FIXTURES, ensureBuilt, pidAlive, spawnNode, waitUntil } from './support/bin.js';
import { Sandbox } from './support/sandbox.js';

const app = join(CLI_FIXTURES, 'app.mjs');
const multiApp = join(CLI_FIXTURES, 'multi-app.mjs');

let sandbox: Sandbox | undefined;

/** The environment process `pid` was started with. */
function workerEnv(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The test's sandbox, cleaned up after it. */
function openSandbox(env?: Record<string, string>): Sandbox {
  sandbox = new Sandbox(env);
  return sandbox;
}

afterEach(async () => {
  await sandbox?.cleanup();
  sandbox = undefined;
}, 60_000);

describe('ManageProcessTemplate in process', () => {
  function template(runDir: string) {
    return new ManageProcessTemplate(new Manage({ baseTitle: 'tpl', runDir }), { bin: 'app' });
  }

  it('usage errors exit 2 with one line and a pointer to help', async () => {
    const box = openSandbox();
    const cases: Array<[string[], string]> = [
      [
        [],
        "app: missing action: expected one of start, stop, restart, reload, status\nRun 'app --help' for usage.\n",
      ],
      [
        ['strat'],
        "app: unknown action 'strat' (did you mean 'start'?); expected one of start, stop, restart, reload, status\nRun 'app --help' for usage.\n",
      ],
      [
        ['start', '--json'],
        "app: option --json does not apply to 'start'; it is accepted by: status\nRun 'app start --help' for usage.\n",
      ],
      [
        ['status', '-d'],
        "app: option -d does not apply to 'status'; it is accepted by: start\nRun 'app status --help' for usage.\n",
      ],
      [
        ['stop', 'now'],
        "app: unexpected argument 'now' for 'stop' (it takes no arguments)\nRun 'app stop --help' for usage.\n",
      ],
      [
        ['start', '--daemn'],
        "app: unknown option --daemn (did you mean --daemon?)\nRun 'app start --help' for usage.\n",
      ],
    ];
    for (const [argv, stderr] of cases) {
      const out = capture();
      expect(await template(box.runDir).run(argv, out.io), argv.join(' ')).toBe(2);
      expect(out.stderr()).toBe(stderr);
      expect(out.stdout()).toBe('');
    }
  });

  it('commands for a group that is not running exit 1', async () => {
    const box = openSandbox();
    for (const action of ['stop', 'restart', 'reload', 'status']) {
      const out = capture();
      expect(await template(box.runDir).run([action], out.io), action).toBe(1);
      expect(out.stderr()).toBe("app: no group named 'tpl' is running; start it first ('start')\n");
    }
    const multi = new ManageMultiple({ runDir: box.runDir })
      .addManage(new Manage({ baseTitle: 'a' }))
      .addManage(new Manage({ baseTitle: 'b' }));
    const out = capture();
    expect(await new ManageProcessTemplate(multi, { bin: 'multi' }).run(['stop'], out.io)).toBe(1);
    expect(out.stderr()).toBe("multi: none of the groups 'a', 'b' is running; start them first ('start')\n");
  });

  it('help lists the five actions and the three options', async () => {
    const out = capture();
    expect(
      await new ManageProcessTemplate(new Manage({ baseTitle: 'tpl' }), { bin: 'app' }).run(
        ['--help'],
        out.io,
      ),
    ).toBe(0);
    expect(out.stdout()).toMatch(
      /^Usage: app start \[-d\]\n +app stop\n +app \(restart\|reload\) \[--update-env\]\n +app status \[--json\]\n/,
    );
    expect(out.stdout()).toContain('--update-env');
    expect(out.stdout()).toContain('-d, --daemon');
    expect(out.stdout()).toContain('--json');
  });
});

describe('ManageProcessTemplate in a script', () => {
  beforeAll(async () => {
    await ensureBuilt({ packages: true });
  }, 300_000);

  it('start -d, status, reload, restart and stop of the script’s own group', async () => {
    const box = openSandbox({ APP_NAME: 'tplapp' });
    const started = await box.node([app, 'start', '-d']);
    expect(started.stderr).toBe('');
    const match = /^started 'tplapp' in the background \(pid (\d+)\); log: (\S+)\n$/.exec(started.stdout);
    expect(match, started.stdout).not.toBeNull();
    expect(started.code).toBe(0);
    const pid = box.track(Number(match![1]));
    expect(match![2]).toBe(join(box.runDir, 'logs', 'tplapp.log'));

    const table = await box.node([app, 'status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`\\nMaster +${pid} +drover:Master:tplapp +running `));
    expect(table.stdout).toMatch(/\n +1 +\d+ +drover:Worker:tplapp:1 +(ready|busy) /);
    const json = await box.node([app, 'status', '--json']);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as { master: { pid: number }; workers: Array<{ pid: number }> };
    expect(status.master.pid).toBe(pid);
    expect(status.workers).toHaveLength(2);
    for (const w of status.workers) box.track(w.pid);

    // the workers run this same script with `start -d`: there it ran the work, not a second daemon
    const log = await box.drover(['logs', 'tplapp', '-n=100']);
    expect(log.stdout).toMatch(/\[tplapp:0 #\d+\] app worker 0 working/);
    expect(log.stdout).toMatch(/\[tplapp:1 #\d+\] app worker 1 working/);

    expect(await box.node([app, 'reload'])).toMatchObject({
      code: 0,
      stdout: "reloaded 'tplapp': 2 worker(s) replaced\n",
    });
    expect(await box.node([app, 'restart'])).toMatchObject({
      code: 0,
      stdout: "restarted the workers of 'tplapp'\n",
    });
    await box.waitWorkers('tplapp', 2);
    expect(await box.node([app, 'stop'])).toMatchObject({
      code: 0,
      stdout: "stopped 'tplapp'\n",
      stderr: '',
    });
    await waitUntil('the master to exit', () => (pidAlive(pid) ? undefined : true));
    expect(await box.node([app, 'status'])).toMatchObject({
      code: 1,
      stderr: "app: no group named 'tplapp' is running; start it first ('start')\n",
    });
  }, 180_000);

  it('start in the foreground runs the master; SIGINT stops it', async () => {
    const box = openSandbox({ APP_NAME: 'tplfront' });
    const master = spawnNode([app, 'start'], { env: box.env, cwd: box.dir });
    try {
      box.track(master.pid);
      const group = await box.waitWorkers('tplfront', 2);
      expect(group.master.pid).toBe(master.pid);
      master.proc.kill('SIGINT');
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
      expect(await box.status()).toEqual([]);
    } finally {
      await master.kill();
    }
  }, 120_000);

  it('reload and restart --update-env: the shell environment and the script’s own env as it is now', async () => {
    const box = openSandbox({ APP_NAME: 'tplenv' });
    expect((await box.node([app, 'start', '-d'])).code).toBe(0);
    let workers = await box.waitWorkers('tplenv', 2);
    const envOf = (pid: number) => workerEnv(box.track(pid));
    expect(envOf(workers.workers[0]!.pid!).TPL_FOO).toBeUndefined();

    expect(
      await box.node([app, 'reload', '--update-env'], { env: { TPL_FOO: 'one', APP_OWN: 'mine' } }),
    ).toMatchObject({
      code: 0,
      stdout:
        "reloaded 'tplenv': 2 worker(s) replaced, with the environment of this shell and the script's own env (added APP_OWN OWN TPL_FOO)\n",
    });
    workers = await box.waitWorkers('tplenv', 2);
    for (const w of workers.workers) expect(envOf(w.pid!)).toMatchObject({ TPL_FOO: 'one', OWN: 'mine' });

    // without the flag the update stays; a shell without TPL_FOO and APP_OWN takes them away
    expect((await box.node([app, 'reload'], { env: { TPL_FOO: 'ignored' } })).code).toBe(0);
    workers = await box.waitWorkers('tplenv', 2);
    expect(envOf(workers.workers[1]!.pid!).TPL_FOO).toBe('one');
    expect(await box.node([app, 'restart', '--update-env'])).toMatchObject({
      code: 0,
      stdout:
        "restarted the workers of 'tplenv', with the environment of this shell and the script's own env (removed APP_OWN OWN TPL_FOO)\n",
    });
    workers = await box.waitWorkers('tplenv', 2);
    for (const w of workers.workers) {
      const env = envOf(w.pid!);
      expect(env.TPL_FOO).toBeUndefined();
      expect(env.OWN).toBeUndefined();
    }
    expect((await box.node([app, 'stop'])).code).toBe(0);
  }, 180_000);

  it('reload --update-env over a ManageMultiple: each group its own env, the line names both', async () => {
    const box = openSandbox({ APP_NAME: 'pairenv' });
    expect((await box.node([multiApp, 'start', '-d'])).code).toBe(0);
    await box.waitWorkers('pairenv-b', 2);
    const reloaded = await box.node([multiApp, 'reload', '--update-env'], { env: { APP_OWN: 'two' } });
    expect(reloaded).toMatchObject({
      code: 0,
      stdout:
        "reloaded 'pairenv-a', 'pairenv-b': 3 worker(s) replaced, with the environment of this shell and the script's own env: 'pairenv-a' (added APP_OWN; changed OWN_A), 'pairenv-b' (added APP_OWN)\n",
    });
    const a = await box.waitWorkers('pairenv-a', 1);
    expect(workerEnv(box.track(a.workers[0]!.pid!))).toMatchObject({ APP_OWN: 'two', OWN_A: 'two' });
    const b = await box.waitWorkers('pairenv-b', 2);
    expect(workerEnv(box.track(b.workers[0]!.pid!)).OWN_A).toBeUndefined();
    expect((await box.node([multiApp, 'stop'])).code).toBe(0);
  }, 180_000);

  it('restart and stop say how many workers were killed at stopTimeout, for one group or several', async () => {
    const box = openSandbox({ APP_NAME: 'tplkill', APP_STUCK: '1', APP_STOP_TIMEOUT: '300' });
    expect((await box.node([app, 'start', '-d'])).code).toBe(0);
    await box.waitWorkers('tplkill', 2);
    const note = '1 worker(s) did not finish within stopTimeout 300ms and were killed';
    expect(await box.node([app, 'restart'])).toMatchObject({
      code: 0,
      stdout: `restarted the workers of 'tplkill'; ${note}\n`,
    });
    await box.waitWorkers('tplkill', 2);
    expect(await box.node([app, 'stop'])).toMatchObject({ code: 0, stdout: `stopped 'tplkill'; ${note}\n` });

    const multi = { APP_NAME: 'pairkill' };
    expect((await box.node([multiApp, 'start', '-d'], { env: multi })).code).toBe(0);
    await box.waitWorkers('pairkill-a', 1);
    await box.waitWorkers('pairkill-b', 2);
    expect(await box.node([multiApp, 'stop'], { env: multi })).toMatchObject({
      code: 0,
      stdout: `stopped 'pairkill-a', 'pairkill-b'; 'pairkill-a': ${note}; 'pairkill-b': ${note}\n`,
    });
  }, 180_000);

  it('over a ManageMultiple: one daemon for both groups, status of both, stop of both', async () => {
    const box = openSandbox({ APP_NAME: 'pair' });
    const started = await box.node([multiApp, 'start', '-d']);
    const match = /^started 'pair-a', 'pair-b' in the background \(pid (\d+)\); log: \S+pair-a\.log\n$/.exec(
      started.stdout,
    );
    expect(match, `${started.stdout}${started.stderr}`).not.toBeNull();
    expect(started.code).toBe(0);
    const pid = box.track(Number(match![1]));

    const json = await box.node([multiApp, 'status', '--json']);
    expect(json.code).toBe(0);
    const groups = JSON.parse(json.stdout) as Array<{
      master: { pid: number; baseTitle: string };
      workers: unknown[];
    }>;
    expect(groups.map((g) => [g.master.baseTitle, g.master.pid, g.workers.length])).toEqual([
      ['pair-a', pid, 1],
      ['pair-b', pid, 2],
    ]);
    await box.status();

    expect(await box.node([multiApp, 'stop'])).toMatchObject({
      code: 0,
      stdout: "stopped 'pair-a', 'pair-b'\n",
    });
    await waitUntil('the daemon to exit', () => (pidAlive(pid) ? undefined : true));
  }, 120_000);
});

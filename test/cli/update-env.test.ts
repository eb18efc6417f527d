// `drover reload|restart <name|all> --update-env` (docs/cli.md): the new workers, and every later
// one, run with the environment of the shell that ran the command, plus the group's entry's env
// read again from the config file it was started from; without the flag nothing changes.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Manage } from '@drover/core';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES, drover, pidAlive, type Result, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();
const REPORT = join(CLI_FIXTURES, 'env-report.mjs');
/** Variables this test sets itself: never taken from the environment vitest runs in. */
const OWN = ['FOO', 'BAR', 'SHELL_A', 'SHELL_B', 'NEW', 'ENV_REPORT_FAIL'];

/** Runs drover in `box` with exactly the sandbox's environment plus `vars` (none of OWN otherwise). */
function run(
  box: Sandbox,
  args: string[],
  vars: Record<string, string> = {},
  cwd = box.dir,
): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...box.env };
  for (const name of OWN) delete env[name];
  return drover(args, { env: { ...env, ...vars }, cwd, timeoutMs: 60_000 });
}

function ok(result: Result): Result {
  expect(result.code, `exit code; stderr: ${result.stderr}`).toBe(0);
  return result;
}

/** A directory the workers write their environment to, one `<pid>.json` each. */
function reportDir(box: Sandbox): string {
  const dir = join(box.dir, 'reports');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The environment worker `pid` reported at its start. */
function envOf(dir: string, pid: number): Promise<Record<string, string>> {
  const file = join(dir, `${pid}.json`);
  return waitUntil(
    `the environment report of worker ${pid}`,
    () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : undefined),
    15_000,
  );
}

/** The pids of group `name`'s current workers (all ready) and the environment each reported. */
async function workerEnvs(
  box: Sandbox,
  dir: string,
  name: string,
  count: number,
): Promise<{ pids: number[]; envs: Record<string, string>[] }> {
  const group = await box.waitWorkers(name, count);
  const pids = group.workers.map((w) => w.pid as number);
  return { pids, envs: await Promise.all(pids.map((pid) => envOf(dir, pid))) };
}

/** The values of FOO and BAR (undefined when absent) each worker reported. */
function fooBar(envs: Record<string, string>[]): Array<{ FOO?: string; BAR?: string }> {
  return envs.map((e) => ({ FOO: e.FOO, BAR: e.BAR }));
}

async function startScriptGroup(box: Sandbox, name: string, workers: number, vars: Record<string, string>) {
  const dir = reportDir(box);
  ok(await run(box, ['start', '-d', '-w', String(workers), '--name', name, REPORT, dir], vars));
  return dir;
}

/** Waits until the pids of `name`'s workers are none of `before`, all ready. */
async function replacedWorkers(box: Sandbox, dir: string, name: string, count: number, before: number[]) {
  return waitUntil(
    `new workers in '${name}'`,
    async () => {
      const now = await workerEnvs(box, dir, name, count);
      return now.pids.some((pid) => before.includes(pid)) ? undefined : now;
    },
    30_000,
  );
}

describe('drover reload <name> --update-env', () => {
  it("new workers get this shell's environment (FOO=2, no BAR); it stays for later reloads and respawns; without the flag nothing changes", async () => {
    const box = openSandbox();
    const name = `ue-reload-${process.pid}`;
    const dir = await startScriptGroup(box, name, 2, { FOO: '1', BAR: '1' });
    const first = await workerEnvs(box, dir, name, 2);
    expect(fooBar(first.envs)).toEqual([
      { FOO: '1', BAR: '1' },
      { FOO: '1', BAR: '1' },
    ]);

    // without the flag: replaced, with the environment the group was started with
    const plain = ok(await run(box, ['reload', name], { FOO: '9' }));
    expect(plain.stdout).toBe(`reloaded '${name}': 2 worker(s) replaced\n`);
    const second = await workerEnvs(box, dir, name, 2);
    expect(second.pids.some((pid) => first.pids.includes(pid))).toBe(false);
    expect(fooBar(second.envs)).toEqual([
      { FOO: '1', BAR: '1' },
      { FOO: '1', BAR: '1' },
    ]);

    const updated = ok(await run(box, ['reload', name, '--update-env'], { FOO: '2' }));
    expect(updated.stdout).toBe(
      `reloaded '${name}': 2 worker(s) replaced, with the environment of this shell (changed FOO; removed BAR)\n`,
    );
    const third = await workerEnvs(box, dir, name, 2);
    expect(third.pids.some((pid) => second.pids.includes(pid))).toBe(false);
    expect(fooBar(third.envs)).toEqual([{ FOO: '2' }, { FOO: '2' }]);

    // a later reload without the flag keeps the updated environment
    ok(await run(box, ['reload', name], { FOO: '7', BAR: '7' }));
    const fourth = await workerEnvs(box, dir, name, 2);
    expect(fourth.pids.some((pid) => third.pids.includes(pid))).toBe(false);
    expect(fooBar(fourth.envs)).toEqual([{ FOO: '2' }, { FOO: '2' }]);

    // and so does a respawn after a crash
    process.kill(fourth.pids[0] as number, 'SIGKILL');
    const respawned = await waitUntil(
      'the respawn of PIN 0',
      async () => {
        const now = await workerEnvs(box, dir, name, 2);
        return now.pids[0] !== fourth.pids[0] ? now : undefined;
      },
      30_000,
    );
    expect(fooBar(respawned.envs)).toEqual([{ FOO: '2' }, { FOO: '2' }]);
  }, 120_000);

  it('a reload that fails keeps the old workers and does not keep the update: the next plain reload uses the env the group had', async () => {
    const box = openSandbox();
    const name = `ue-fail-${process.pid}`;
    const dir = await startScriptGroup(box, name, 1, { FOO: '1', BAR: '1' });
    const before = await workerEnvs(box, dir, name, 1);

    const failed = await run(box, ['reload', name, '--update-env'], { FOO: '2', ENV_REPORT_FAIL: '1' });
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toContain(`reload of '${name}' stopped after 0 worker(s)`);
    expect(failed.stderr).toContain('the environment update was not kept');
    const kept = await workerEnvs(box, dir, name, 1);
    expect(kept.pids).toEqual(before.pids);
    expect(pidAlive(before.pids[0] as number)).toBe(true);

    ok(await run(box, ['reload', name]));
    const after = await replacedWorkers(box, dir, name, 1, before.pids);
    expect(fooBar(after.envs)).toEqual([{ FOO: '1', BAR: '1' }]);
    expect(after.envs[0]?.ENV_REPORT_FAIL).toBeUndefined();
  }, 90_000);

  it("with 'all', every running group gets the update", async () => {
    const box = openSandbox();
    const names = [`ue-all-a-${process.pid}`, `ue-all-b-${process.pid}`];
    const dir = await startScriptGroup(box, names[0] as string, 1, { FOO: '1', BAR: '1' });
    await startScriptGroup(box, names[1] as string, 1, { FOO: '1', BAR: '1' });
    const before = await Promise.all(names.map((name) => workerEnvs(box, dir, name, 1)));

    const result = ok(await run(box, ['reload', 'all', '--update-env'], { FOO: '3' }));
    for (const name of names) {
      expect(result.stdout).toContain(
        `reloaded '${name}': 1 worker(s) replaced, with the environment of this shell (changed FOO; removed BAR)\n`,
      );
    }
    for (const [i, name] of names.entries()) {
      const after = await replacedWorkers(box, dir, name, 1, before[i]?.pids ?? []);
      expect(fooBar(after.envs), name).toEqual([{ FOO: '3' }]);
    }
  }, 120_000);

  it('a request whose env is not a record of strings is refused with EPROTOCOL; the group keeps running untouched', async () => {
    const box = openSandbox();
    const name = `ue-proto-${process.pid}`;
    const dir = await startScriptGroup(box, name, 1, { FOO: '1' });
    const before = await workerEnvs(box, dir, name, 1);

    const answer = await exchange(
      join(box.runDir, `${name}.sock`),
      '{"id":1,"cmd":"reload","args":{"env":{"FOO":5}}}\n',
    );
    expect(answer).toMatchObject({ id: 1, ok: false, error: { code: 'EPROTOCOL' } });
    expect(answer.error?.message).toContain("'args.env.FOO' is 5");
    expect(answer.error?.message).toContain('expected a string');

    const notRecord = await exchange(
      join(box.runDir, `${name}.sock`),
      '{"id":2,"cmd":"restart","args":{"configEnv":["FOO=2"]}}\n',
    );
    expect(notRecord).toMatchObject({ id: 2, ok: false, error: { code: 'EPROTOCOL' } });
    expect(notRecord.error?.message).toContain("'args.configEnv' is an array");

    const after = await workerEnvs(box, dir, name, 1);
    expect(after.pids).toEqual(before.pids);
  }, 60_000);
});

describe('a reload with --update-env that meets a crash', () => {
  it('the worker respawned while the reload runs gets the update too', async () => {
    const box = openSandbox();
    const name = `ue-crash-${process.pid}`;
    // each worker takes 1.5 s to be ready: a respawn can happen while the reload still runs
    const dir = await startScriptGroup(box, name, 2, { FOO: '1', ENV_REPORT_DELAY_MS: '1500' });
    const first = await workerEnvs(box, dir, name, 2);
    const reload = run(box, ['reload', name, '--update-env'], { FOO: '2', ENV_REPORT_DELAY_MS: '1500' });
    const reported = () =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => Number.parseInt(f, 10));
    const fresh = () => reported().filter((pid) => !first.pids.includes(pid));
    // PIN 0 replaced, and PIN 1's successor started: the reload has gone past PIN 0
    const successor0 = await waitUntil(
      "PIN 0 replaced, PIN 1's successor starting",
      async () => {
        const pin0 = (await box.status())[0]?.workers.find((w) => w.pin === 0)?.pid;
        return pin0 && !first.pids.includes(pin0) && fresh().length >= 2 ? pin0 : undefined;
      },
      30_000,
    );
    process.kill(successor0!, 'SIGKILL');
    expect((await reload).code).toBe(0);
    const after = await waitUntil(
      'two ready workers, none of them PIN 0 killed',
      async () => {
        const now = await workerEnvs(box, dir, name, 2);
        return now.pids.includes(successor0!) ? undefined : now;
      },
      30_000,
    );
    expect(after.envs.map((e) => e.FOO)).toEqual(['2', '2']);
  }, 90_000);
});

describe('Manage.reload({ env, configEnv }) from another process', () => {
  it("configEnv alone replaces the group's env on the master's; env replaces the base, without drover's own variables", async () => {
    const box = openSandbox();
    const name = `ue-api-${process.pid}`;
    const dir = await startScriptGroup(box, name, 1, { FOO: '1', BAR: '1' });
    const first = await workerEnvs(box, dir, name, 1);
    const manage = new Manage({ baseTitle: name, runDir: box.runDir });

    expect(await manage.reload({ configEnv: { FOO: 'own' } })).toEqual({
      replaced: 1,
      started: 0,
      notStarted: [],
      aborted: false,
    });
    const second = await replacedWorkers(box, dir, name, 1, first.pids);
    expect(fooBar(second.envs)).toEqual([{ FOO: 'own', BAR: '1' }]);

    // 100 kB: more than a control line held before (64 KiB), as a large environment may be
    const big = 'x'.repeat(100_000);
    const result = await manage.reload({
      env: {
        BAR: 'api',
        BIG: big,
        DROVER_DAEMON: '1',
        DROVER_DAEMON_GROUPS: name,
        DROVER_RUN_DIR: box.runDir,
      },
    });
    expect(result).toEqual({ replaced: 1, started: 0, notStarted: [], aborted: false });
    const third = await replacedWorkers(box, dir, name, 1, second.pids);
    // the group's env from the update before stays on top
    expect(fooBar(third.envs)).toEqual([{ FOO: 'own', BAR: 'api' }]);
    expect(third.envs[0]?.BIG).toBe(big);
    expect(third.envs[0]?.DROVER_DAEMON).toBeUndefined();
    expect(third.envs[0]?.DROVER_DAEMON_GROUPS).toBeUndefined();
    expect(third.envs[0]?.PATH).toBeUndefined();

    // over what a master reads: refused before it is sent, saying what to do
    await expect(manage.reload({ env: { HUGE: 'x'.repeat(1_100_000) } })).rejects.toMatchObject({
      code: 'E2BIG',
      message: expect.stringContaining('unset the large variables first'),
    });

    await expect(manage.restart({ env: { FOO: 5 as unknown as string } })).rejects.toMatchObject({
      code: 'EPROTOCOL',
      message: expect.stringContaining("'args.env.FOO' is 5"),
    });
    expect((await workerEnvs(box, dir, name, 1)).pids).toEqual(third.pids);
  }, 90_000);
});

describe('drover restart <name> --update-env', () => {
  it("the new workers get this shell's environment; a restart without the flag keeps it", async () => {
    const box = openSandbox();
    const name = `ue-restart-${process.pid}`;
    const dir = await startScriptGroup(box, name, 2, { FOO: '1', BAR: '1' });
    const first = await workerEnvs(box, dir, name, 2);

    const plain = ok(await run(box, ['restart', name], { FOO: '9' }));
    expect(plain.stdout).toBe(`restarted the workers of '${name}'\n`);
    const second = await replacedWorkers(box, dir, name, 2, first.pids);
    expect(fooBar(second.envs)).toEqual([
      { FOO: '1', BAR: '1' },
      { FOO: '1', BAR: '1' },
    ]);

    const updated = ok(await run(box, ['restart', name, '--update-env'], { FOO: '2' }));
    expect(updated.stdout).toBe(
      `restarted the workers of '${name}', with the environment of this shell (changed FOO; removed BAR)\n`,
    );
    const third = await replacedWorkers(box, dir, name, 2, second.pids);
    expect(fooBar(third.envs)).toEqual([{ FOO: '2' }, { FOO: '2' }]);

    ok(await run(box, ['restart', name], { FOO: '8', BAR: '8' }));
    const fourth = await replacedWorkers(box, dir, name, 2, third.pids);
    expect(fooBar(fourth.envs)).toEqual([{ FOO: '2' }, { FOO: '2' }]);
  }, 120_000);

  it('stop takes no --update-env (a usage error, exit 2)', async () => {
    const box = openSandbox();
    const result = await run(box, ['stop', 'x', '--update-env']);
    expect(result.code).toBe(2);
  });
});

describe('--update-env for a group of a config file', () => {
  /** A config file in `<sandbox>/app` with one group, written again by `write`. */
  function configFile(box: Sandbox, dir: string, name: string) {
    const app = join(box.dir, 'app');
    mkdirSync(app, { recursive: true });
    const file = join(app, 'drover.config.json');
    const write = (entry: Record<string, unknown>) =>
      writeFileSync(
        file,
        JSON.stringify({ groups: [{ baseTitle: name, script: REPORT, args: [dir], ...entry }] }),
      );
    return { app, file, write };
  }

  it("reads the entry again: its env on top of the shell's; other changed keys are named in a warning and not applied", async () => {
    const box = openSandbox();
    const name = `ue-file-${process.pid}`;
    const dir = reportDir(box);
    const config = configFile(box, dir, name);
    config.write({ env: { FOO: 'file1' } });
    ok(await run(box, ['start', '-d'], { SHELL_A: 'a', FOO: 'shell' }, config.app));
    const first = await workerEnvs(box, dir, name, 1);
    expect(first.envs[0]).toMatchObject({ FOO: 'file1', SHELL_A: 'a' });

    config.write({ env: { FOO: 'file2', NEW: 'n' }, maxWorkerNum: 2, stopTimeout: 5000 });
    // from another directory: the master knows the file it was started from
    const result = ok(await run(box, ['reload', name, '--update-env'], { SHELL_B: 'b', FOO: 'shell' }));
    expect(result.stdout).toBe(
      `reloaded '${name}': 1 worker(s) replaced, with the environment of this shell and the env of its entry in ${config.file} (added NEW SHELL_B; changed FOO; removed SHELL_A)\n`,
    );
    expect(result.stderr).toContain(
      `'${name}': its entry in ${config.file} also changed 'maxWorkerNum', 'stopTimeout'`,
    );
    expect(result.stderr).toContain('--update-env does not apply');
    const after = await replacedWorkers(box, dir, name, 1, first.pids);
    expect(after.envs[0]).toMatchObject({ FOO: 'file2', NEW: 'n', SHELL_B: 'b' });
    expect(after.envs[0]?.SHELL_A).toBeUndefined();

    // restart reads it again too
    config.write({ env: { FOO: 'file3' }, maxWorkerNum: 2, stopTimeout: 5000 });
    ok(await run(box, ['restart', name, '--update-env'], { SHELL_B: 'b' }));
    const restarted = await replacedWorkers(box, dir, name, 1, after.pids);
    expect(restarted.envs[0]).toMatchObject({ FOO: 'file3', SHELL_B: 'b' });
    expect(restarted.envs[0]?.NEW).toBeUndefined();
  }, 120_000);

  it('what a JS config file puts in process.env (dotenv) reaches the new workers as it reached the first', async () => {
    const box = openSandbox();
    const name = `ue-dotenv-${process.pid}`;
    const dir = reportDir(box);
    const app = join(box.dir, 'app');
    mkdirSync(app, { recursive: true });
    const file = join(app, 'drover.config.mjs');
    const write = (secret: string) =>
      writeFileSync(
        file,
        `process.env.FROM_DOTENV = ${JSON.stringify(secret)};\nexport default { groups: [${JSON.stringify({ baseTitle: name, script: REPORT, args: [dir] })}] };\n`,
      );
    write('one');
    ok(await run(box, ['start', '-d'], {}, app));
    const first = await workerEnvs(box, dir, name, 1);
    expect(first.envs[0]?.FROM_DOTENV).toBe('one');
    write('two');
    ok(await run(box, ['reload', name, '--update-env']));
    const after = await replacedWorkers(box, dir, name, 1, first.pids);
    expect(after.envs[0]?.FROM_DOTENV).toBe('two');
  }, 120_000);

  // root reloading a group of another user's run directory would run the file that user names
  it.skipIf(process.getuid?.() !== 0)(
    'a run directory of another user: its config file is not run, exit 1, the workers untouched',
    async () => {
      const box = openSandbox();
      const name = `ue-foreign-${process.pid}`;
      const dir = reportDir(box);
      const config = configFile(box, dir, name);
      config.write({ env: { FOO: 'file1' } });
      ok(await run(box, ['start', '-d'], {}, config.app));
      const first = await workerEnvs(box, dir, name, 1);
      chownSync(box.runDir, 65534, 0);
      try {
        const refused = await run(box, ['reload', name, '--update-env']);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(
          `the run directory '${box.runDir}' belongs to uid 65534, not to this user (uid 0): its config file '${config.file}' is not run here`,
        );
      } finally {
        chownSync(box.runDir, 0, 0);
      }
      expect((await box.waitWorkers(name, 1)).workers.map((w) => w.pid)).toEqual(first.pids);
    },
    120_000,
  );

  it('an invalid config file fails with exit 1 naming file, entry, key and value; the old workers keep running untouched', async () => {
    const box = openSandbox();
    const name = `ue-bad-${process.pid}`;
    const dir = reportDir(box);
    const config = configFile(box, dir, name);
    config.write({ env: { FOO: 'file1' } });
    ok(await run(box, ['start', '-d'], {}, config.app));
    const before = await workerEnvs(box, dir, name, 1);

    config.write({ env: { FOO: 'file2' }, maxWorkerNum: -1 });
    for (const action of ['reload', 'restart']) {
      const result = await run(box, [action, name, '--update-env'], { FOO: 'shell' });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(`cannot update the environment of '${name}'`);
      expect(result.stderr).toContain(
        `config file '${config.file}', entry 0 ('${name}'): 'maxWorkerNum' is -1`,
      );
      expect(result.stderr).toContain('its workers keep running as they are');
    }
    const after = await workerEnvs(box, dir, name, 1);
    expect(after.pids).toEqual(before.pids);
    expect(after.envs[0]?.FOO).toBe('file1');

    // an entry that is gone is no update either
    writeFileSync(config.file, JSON.stringify({ groups: [{ baseTitle: 'other', script: REPORT }] }));
    const gone = await run(box, ['reload', name, '--update-env']);
    expect(gone.code, gone.stderr).toBe(1);
    expect(gone.stderr).toContain(`has no group named '${name}' any more`);
    expect((await workerEnvs(box, dir, name, 1)).pids).toEqual(before.pids);
  }, 90_000);
});

/** Sends one raw line to a control socket and returns the parsed answer. */
function exchange(
  socket: string,
  line: string,
): Promise<{ id: unknown; ok: boolean; error?: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const client = net.connect(socket);
    let data = '';
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`no answer on ${socket} within 10 s`));
    }, 10_000);
    client.on('data', (chunk) => {
      data += chunk.toString();
      const nl = data.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        client.destroy();
        resolve(JSON.parse(data.slice(0, nl)));
      }
    });
    client.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client.write(line);
  });
}

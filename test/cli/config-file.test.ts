// Config files from the command line (docs/cli.md, docs/operations.md): `drover start <file>`
// starts the file's groups from any directory; a JavaScript file always runs with its own
// directory as the working directory (a start, `--update-env`); a plain reload or restart says
// which edits of the entry it does not apply; mistakes in names and keys get the right hint.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { psArgs } from '../support/group.js';
import { type Result, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** A worker that writes its cwd and environment to `$REPORT_DIR/<pid>.json`, then idles. */
const REPORTER = `import { writeFileSync } from 'node:fs';
writeFileSync(process.env.REPORT_DIR + '/' + process.pid + '.json', JSON.stringify({
  cwd: process.cwd(), FOO: process.env.FOO, FIXCFG_SECRET: process.env.FIXCFG_SECRET,
}));
setInterval(() => {}, 1000);
`;

interface Report {
  cwd: string;
  FOO?: string;
  FIXCFG_SECRET?: string;
}

/** `box.dir/app` with the reporter script, a `.env`, and `drover.config.mjs` written by `config`. */
function app(box: Sandbox): { dir: string; reports: string; other: string } {
  const dir = join(box.dir, 'app');
  const reports = join(box.dir, 'reports');
  const other = join(box.dir, 'other');
  for (const d of [dir, reports, other]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dir, 'w.mjs'), REPORTER);
  writeFileSync(join(dir, 'w2.mjs'), REPORTER);
  writeFileSync(join(dir, '.env'), 'FIXCFG_SECRET=first\n');
  // what a config file found in the wrong directory would read
  writeFileSync(join(other, '.env'), 'FIXCFG_SECRET=WRONG-other-dir\n');
  return { dir, reports, other };
}

function writeConfig(dir: string, entries: string): string {
  const file = join(dir, 'drover.config.mjs');
  writeFileSync(file, `process.loadEnvFile('.env');\nexport default [${entries}];\n`);
  return file;
}

function entry(name: string, reports: string, extra = '', foo?: string): string {
  const fooKey = foo === undefined ? '' : `, FOO: '${foo}'`;
  return `{ baseTitle: '${name}', script: './w.mjs', env: { REPORT_DIR: ${JSON.stringify(reports)}, FIXCFG_SECRET: process.env.FIXCFG_SECRET${fooKey} }${extra} }`;
}

function ok(result: Result): Result {
  expect(result.code, `exit code; stderr: ${result.stderr}`).toBe(0);
  return result;
}

async function reportsOf(box: Sandbox, reports: string, name: string, count: number): Promise<Report[]> {
  const group = await box.waitWorkers(name, count);
  return Promise.all(
    group.workers.map((w) =>
      waitUntil(
        `the report of worker ${w.pid}`,
        () => {
          const file = join(reports, `${w.pid}.json`);
          return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Report) : undefined;
        },
        15_000,
      ),
    ),
  );
}

describe('drover start <config file>', () => {
  it("from another directory starts the file's groups, run from the file's directory; with a group name, that one only", async () => {
    const box = openSandbox();
    const { dir, reports, other } = app(box);
    const a = `fixconfig-a-${process.pid}`;
    const b = `fixconfig-b-${process.pid}`;
    const file = writeConfig(dir, `${entry(a, reports)}, ${entry(b, reports)}`);

    const started = ok(await box.drover(['start', '../app/drover.config.mjs', '-d'], { cwd: other }));
    expect(started.stdout).toBe(
      `started '${a}', '${b}' from ${file} in the background (pid ${started.stdout.match(/pid (\d+)/)?.[1]})\n`,
    );
    for (const name of [a, b]) {
      // the workers' directory and the .env the config read are the file's, not the caller's
      expect(await reportsOf(box, reports, name, 1)).toEqual([{ cwd: dir, FIXCFG_SECRET: 'first' }]);
    }
    // no group runs the config file as a script
    expect((await box.status()).map((g) => g.master.baseTitle).sort()).toEqual([a, b].sort());
    ok(await box.drover(['stop', 'all']));

    // one group by name; a name the file does not have is refused with its groups and the nearest
    ok(await box.drover(['start', file, b, '-d'], { cwd: other }));
    expect((await box.status()).map((g) => g.master.baseTitle)).toEqual([b]);
    const typo = await box.drover(['start', file, `${b}x`, '-d'], { cwd: other });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toBe(
      `drover: config file '${file}' has no group named '${b}x' (its groups: '${a}', '${b}'); did you mean '${b}'? (drover start ${file} ${b})\n`,
    );
  });

  it('a group name the file in this directory does not have: says so, lists its groups, suggests the nearest', async () => {
    const box = openSandbox();
    const { dir, reports } = app(box);
    const file = writeConfig(dir, `${entry('fixconfig-web', reports)}, ${entry('fixconfig-jobs', reports)}`);
    const result = await box.drover(['start', 'fixconfig-wbe', '-d'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `drover: config file '${file}' has no group named 'fixconfig-wbe' (its groups: 'fixconfig-web', 'fixconfig-jobs'), and no script of that name exists (${join(dir, 'fixconfig-wbe')}); did you mean 'fixconfig-web'? (drover start fixconfig-web)\n`,
    );
    expect(await box.status()).toEqual([]);
  });
});

describe('a JavaScript config file read again', () => {
  it("reload --update-env from another directory runs the file in its own directory (its own .env), and the caller's cwd is kept", async () => {
    const box = openSandbox();
    const { dir, reports, other } = app(box);
    const name = `fixconfig-ue-${process.pid}`;
    writeConfig(dir, entry(name, reports));
    ok(await box.drover(['start', '-d'], { cwd: dir }));
    expect(await reportsOf(box, reports, name, 1)).toEqual([{ cwd: dir, FIXCFG_SECRET: 'first' }]);

    writeFileSync(join(dir, '.env'), 'FIXCFG_SECRET=second\n');
    const before = (await box.waitWorkers(name, 1)).workers.map((w) => w.pid);
    const reloaded = ok(await box.drover(['reload', name, '--update-env'], { cwd: other }));
    expect(reloaded.stdout).toContain('changed FIXCFG_SECRET');
    const after = await waitUntil(
      'the new worker',
      async () => {
        const now = await reportsOf(box, reports, name, 1);
        const pids = (await box.waitWorkers(name, 1)).workers.map((w) => w.pid);
        return pids.some((pid) => before.includes(pid)) ? undefined : now;
      },
      30_000,
    );
    expect(after).toEqual([{ cwd: dir, FIXCFG_SECRET: 'second' }]);
  });

  it('a plain reload or restart after an edit of a JSON entry says which keys changed and what applies them; exit 0', async () => {
    const box = openSandbox();
    const { dir, reports } = app(box);
    const name = `fixconfig-ed-${process.pid}`;
    const file = join(dir, 'drover.config.json');
    const write = (extra: Record<string, unknown>) =>
      writeFileSync(
        file,
        JSON.stringify({
          groups: [{ baseTitle: name, script: './w.mjs', env: { REPORT_DIR: reports, FOO: '1' }, ...extra }],
        }),
      );
    write({ maxWorkerNum: 1 });
    ok(await box.drover(['start', '-d'], { cwd: dir }));
    await box.waitWorkers(name, 1);

    // unchanged: nothing said
    const same = ok(await box.drover(['reload', name], { cwd: dir }));
    expect(same.stderr).toBe('');

    write({ maxWorkerNum: 2, execArgv: ['--no-warnings'], script: './w2.mjs' });
    for (const command of ['reload', 'restart']) {
      const result = ok(await box.drover([command, name], { cwd: box.dir }));
      expect(result.stderr).toBe(
        `drover: warning: '${name}': its entry in ${file} changed 'execArgv', 'maxWorkerNum', 'script', which this command does not apply (it renews the workers as the group was started); drover scale ${name} 2 applies 'maxWorkerNum' (until the next start, the file's count then); a stop and a start applies 'execArgv', 'script' (drover stop ${name}, then drover start ${file} ${name})\n`,
      );
    }
    // what runs is still what was started
    expect((await reportsOf(box, reports, name, 1)).map((r) => r.FOO)).toEqual(['1']);
    // the master keeps no env values of its entry
    const [group] = await box.status();
    expect(group?.master.run?.source?.entry).not.toHaveProperty('env');
  });

  it('a plain reload or restart does not run a JavaScript config file', async () => {
    const box = openSandbox();
    const { dir, reports } = app(box);
    const name = `fixconfig-js-${process.pid}`;
    const ran = join(box.dir, 'config-ran');
    writeFileSync(
      join(dir, 'drover.config.mjs'),
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(ran)}, 'x');\nexport default [{ baseTitle: '${name}', script: './w.mjs', env: { REPORT_DIR: ${JSON.stringify(reports)} } }];\n`,
    );
    ok(await box.drover(['start', '-d'], { cwd: dir }));
    await box.waitWorkers(name, 1);
    const before = readFileSync(ran, 'utf8').length;
    ok(await box.drover(['reload', name], { cwd: dir }));
    ok(await box.drover(['restart', name], { cwd: dir }));
    expect(readFileSync(ran, 'utf8').length).toBe(before);
  });
});

describe('mistakes in a config file', () => {
  async function refused(box: Sandbox, file: string, text: string): Promise<string> {
    writeFileSync(join(box.dir, file), text);
    const result = await box.drover(['start', '-d']);
    expect(result.code, result.stderr).toBe(1);
    expect(await box.status()).toEqual([]);
    return result.stderr;
  }

  it("PM2's keys get drover's names; a function default export is said to be one", async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'w.mjs'), 'setInterval(() => {}, 1000);\n');
    const path = join(box.dir, 'drover.config.js');
    expect(
      await refused(
        box,
        'drover.config.js',
        "module.exports = { apps: [{ name: 'x', script: './w.mjs' }] };",
      ),
    ).toContain(
      `config file '${path}': 'apps' is an array (1 items); expected no such key: the file holds { groups: [...] } (did you mean 'groups'? PM2's apps are drover's groups)`,
    );
    expect(
      await refused(
        box,
        'drover.config.js',
        "module.exports = [{ name: 'fixconfig-x', script: './w.mjs' }];",
      ),
    ).toContain(
      `entry 0 ('fixconfig-x'): 'name' is "fixconfig-x"; expected a known key (did you mean 'baseTitle'`,
    );
    expect(
      await refused(
        box,
        'drover.config.js',
        "module.exports = [{ baseTitle: 'fixconfig-x', script: './w.mjs', instances: 4 }];",
      ),
    ).toContain("'instances' is 4; expected a known key (did you mean 'maxWorkerNum'");
    expect(
      await refused(
        box,
        'drover.config.js',
        "module.exports = [{ baseTitle: 'fixconfig-x', script: './w.mjs', env_production: {} }];",
      ),
    ).toContain("'env_production' is an object; expected a known key (did you mean 'env'");
    expect(
      await refused(
        box,
        'drover.config.js',
        "module.exports = { baseTitle: 'fixconfig-x', script: './w.mjs' };",
      ),
    ).toContain("'baseTitle' is a key of one group's entry; wrap the entry");
    expect(await refused(box, 'drover.config.js', 'module.exports = () => ({ groups: [] });')).toBe(
      `drover: config file '${path}': its default export is a function; drover does not call it; export the value itself: export default { groups: [...] } (or module.exports = { groups: [...] }), or an array of entries; compute it at the top of the file\n`,
    );
  });

  it('a cwd, user or group that does not exist is refused before any group starts, naming the file, the entry and the key; the other groups are not held up', async () => {
    const box = openSandbox();
    const marker = join(box.dir, 'ran');
    writeFileSync(
      join(box.dir, 'w.mjs'),
      `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x'); setInterval(() => {}, 1000);\n`,
    );
    const path = join(box.dir, 'drover.config.json');
    const write = (bad: object) =>
      JSON.stringify({
        groups: [
          { baseTitle: 'fixconfig-ok', script: './w.mjs' },
          { baseTitle: 'fixconfig-bad', script: './w.mjs', ...bad },
        ],
      });
    expect(await refused(box, 'drover.config.json', write({ cwd: './nodir' }))).toBe(
      `drover: config file '${path}', entry 1 ('fixconfig-bad'): 'cwd' is "./nodir"; expected an existing directory ('${join(box.dir, 'nodir')}' is not one; relative paths start at '${box.dir}')\n`,
    );
    expect(await refused(box, 'drover.config.json', write({ user: 'fixconfig-nosuchuser' }))).toBe(
      `drover: config file '${path}', entry 1 ('fixconfig-bad'): 'user' is "fixconfig-nosuchuser"; expected an existing user name in /etc/passwd, or a numeric uid\n`,
    );
    expect(await refused(box, 'drover.config.json', write({ group: 'fixconfig-nosuchgroup' }))).toBe(
      `drover: config file '${path}', entry 1 ('fixconfig-bad'): 'group' is "fixconfig-nosuchgroup"; expected an existing group name in /etc/group, or a numeric gid\n`,
    );
    // the foreground too: refused before any worker ran
    const foreground = await box.drover(['start']);
    expect(foreground.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
    // the file's other group is not held up by it
    ok(await box.drover(['start', 'fixconfig-ok', '-d']));
    await box.waitWorkers('fixconfig-ok', 1);
    ok(await box.drover(['logs', 'fixconfig-ok', '-n', '1']));
  });
});

describe('drover logs all', () => {
  it('says that logs takes one group, and names the running ones', async () => {
    const box = openSandbox();
    const { dir, reports } = app(box);
    const name = `fixconfig-lg-${process.pid}`;
    writeConfig(dir, entry(name, reports));
    ok(await box.drover(['start', '-d'], { cwd: dir }));
    await box.waitWorkers(name, 1);
    const result = await box.drover(['logs', 'all']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `drover: logs takes the name of one group, not 'all'; running: ${name}; e.g. drover logs ${name}\nRun 'drover logs --help' for usage.\n`,
    );
  });
});

describe('a daemon that runs several groups of a config file', () => {
  it('leaves a group it no longer runs out of its process title', async () => {
    const box = openSandbox();
    const { dir, reports } = app(box);
    const file = writeConfig(dir, `${entry('title-a', reports)}, ${entry('title-b', reports)}`);
    ok(await box.drover(['start', file, '-d']));
    const [a] = (await box.status()).filter((g) => g.master.baseTitle === 'title-a');
    const daemon = a!.master.pid;
    expect(psArgs(daemon)).toBe('drover:Master:title-a,title-b');
    ok(await box.drover(['stop', 'title-b']));
    await waitUntil(
      "the daemon's title without title-b",
      () => psArgs(daemon) === 'drover:Master:title-a' || undefined,
    );
    expect((await box.status()).map((g) => g.master.baseTitle)).toEqual(['title-a']);
  });
});

describe('a config file that fails to load', () => {
  it('names the line of a syntax error, as node --check does', async () => {
    const box = openSandbox();
    const dir = join(box.dir, 'broken');
    mkdirSync(dir);
    const file = join(dir, 'drover.config.mjs');
    writeFileSync(file, "export default [\n  { baseTitle: 'a' script: './w.mjs' },\n];\n");
    const result = await box.drover(['start', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `drover: config file '${file}' failed to load (Unexpected identifier 'script') at ${file}:2;`,
    );
  });
});

// A restart stops every worker before it starts any: one whose entry script is gone, unreadable
// or does not parse is refused first, with nothing stopped, naming the script and the fix.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

const APP = `console.log('app up');
setInterval(() => {}, 1000);
`;

async function workerPids(box: Sandbox): Promise<number[]> {
  const group = (await box.status()).find((g) => g.master.baseTitle === 'ent');
  return (group?.workers ?? []).map((w) => w.pid ?? -1);
}

describe('restart with a broken entry script', () => {
  it('is refused with nothing stopped when the script is gone or does not parse; a fixed one restarts', async () => {
    const box = openSandbox();
    const app = join(box.dir, 'app.mjs');
    writeFileSync(app, APP);
    const started = await box.drover(['start', 'app.mjs', '-d', '-w', '2', '--name=ent']);
    expect(started.code, started.stderr).toBe(0);
    const pids = (await box.waitWorkers('ent', 2)).workers.map((w) => w.pid);

    renameSync(app, `${app}.gone`);
    const gone = await box.drover(['restart', 'ent']);
    expect(gone).toMatchObject({ code: 1, stdout: '' });
    expect(gone.stderr).toBe(
      `drover: cannot restart 'ent': its entry script '${app}' no longer exists (ENOENT); nothing was stopped: its workers keep running the code they loaded; put the script back (or, for another path, stop the group and start it with the new one), then try again\n`,
    );
    expect(await workerPids(box)).toEqual(pids);

    writeFileSync(app, `${APP}const broken = ;\n`);
    const broken = await box.drover(['restart', 'ent']);
    expect(broken).toMatchObject({ code: 1, stdout: '' });
    expect(broken.stderr).toBe(
      `drover: cannot restart 'ent': its entry script '${app}' does not parse: SyntaxError: Unexpected token ';' at ${app}:3; nothing was stopped: its workers keep running the code they loaded; fix it ('node --check ${app}' shows where), then try again\n`,
    );
    expect(await workerPids(box)).toEqual(pids);

    writeFileSync(app, APP);
    const restarted = await box.drover(['restart', 'ent']);
    expect(restarted).toMatchObject({ code: 0, stdout: "restarted the workers of 'ent'\n", stderr: '' });
    const after = (await box.waitWorkers('ent', 2)).workers.map((w) => w.pid);
    expect(after.some((pid) => pids.includes(pid))).toBe(false);
  }, 90_000);

  it('lets through a script that a loader in NODE_OPTIONS runs (the group env, or the master started with it)', async () => {
    const box = openSandbox();
    // a hook that drops the lines starting with %%: node --check alone calls them a syntax error
    const hook = join(box.dir, 'hook.cjs');
    writeFileSync(
      hook,
      `const Module = require('node:module');
const { readFileSync } = require('node:fs');
const js = Module._extensions['.js'];
Module._extensions['.js'] = (module, file) =>
  file.endsWith('/app.js') ? module._compile(readFileSync(file, 'utf8').replace(/^%%.*$/gm, ''), file) : js(module, file);
`,
    );
    writeFileSync(join(box.dir, 'app.js'), `%% a line only the hook understands\n${APP}`);
    const nodeOptions = `--require "${hook}"`;
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({
        groups: [
          { baseTitle: 'ent', script: './app.js', maxWorkerNum: 2, env: { NODE_OPTIONS: nodeOptions } },
        ],
      }),
    );
    const started = await box.drover(['start', '-d']);
    expect(started.code, started.stderr).toBe(0);
    await box.waitWorkers('ent', 2);
    const restarted = await box.drover(['restart', 'ent']);
    expect(restarted).toMatchObject({ code: 0, stdout: "restarted the workers of 'ent'\n", stderr: '' });
    await box.waitWorkers('ent', 2);
    expect((await box.drover(['stop', 'ent'])).code).toBe(0);

    const shell = await box.drover(['start', 'app.js', '-d', '-w', '2', '--name=ent2'], {
      env: { NODE_OPTIONS: nodeOptions },
    });
    expect(shell.code, shell.stderr).toBe(0);
    await box.waitWorkers('ent2', 2);
    const again = await box.drover(['restart', 'ent2']);
    expect(again).toMatchObject({ code: 0, stdout: "restarted the workers of 'ent2'\n", stderr: '' });
    await box.waitWorkers('ent2', 2);
  }, 120_000);
});

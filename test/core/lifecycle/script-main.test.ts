// Script mode (`drover start <script>`): the script is each worker's main module, as under plain
// node, whatever its module format; its init/work exports run in the loop; a script that fails to
// load makes start() fail with the script's own error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningGroup, startFixture, tempDir } from '../../support/group.js';
import { is } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Writes `files` into a fresh directory and starts a group running `main` (a path in it). */
function startScript(files: Record<string, string>, main: string, args: string[] = []) {
  const { dir, cleanup } = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const group = startFixture('core/script-master.mjs', {
    env: {
      SCRIPT: join(dir, main),
      SCRIPT_ARGS: JSON.stringify(args),
      GROUP_CONFIG: JSON.stringify({ runDir: join(dir, 'run'), maxWorkerNum: 1 }),
    },
    execArgv: ['--title=drover:Master:plain'],
  });
  cleanups.push(async () => {
    await group.kill();
    cleanup();
  });
  return { group, script: join(dir, main) };
}

const emit = `const emit = (event, data) => process.stdout.write('EVENT ' + JSON.stringify({ event, ...data }) + '\\n');`;

const cjsLoop = `${emit}
emit('loaded', { main: require.main === module, argv: process.argv.slice(1) });
exports.init = async (worker) => ({ pin: worker.pin });
exports.work = async (worker, resources) => {
  if (worker.getExecuteTimes() === 0) emit('looping', { pin: resources.pin });
  await new Promise((r) => setTimeout(r, 20));
};
`;

const esmLoop = `${emit}
await new Promise((r) => setTimeout(r, 10)); // top-level await: ready only after it
emit('loaded', { argv: process.argv.slice(1) });
export async function init(worker) { return { pin: worker.pin }; }
export async function work(worker, resources) {
  if (worker.getExecuteTimes() === 0) emit('looping', { pin: resources.pin });
  await new Promise((r) => setTimeout(r, 20));
}
`;

async function expectLoop(group: RunningGroup, script: string, args: string[]) {
  const loaded = await group.waitEvent(is('loaded'), 'the script loading in the worker');
  expect(loaded.argv).toEqual([script, ...args]);
  await group.waitEvent(is('started'), 'start() to resolve');
  await group.waitEvent(
    is('looping', (e) => e.pin === 0),
    'the work export to run with the init result',
  );
  return loaded;
}

describe('script mode: the script is the main module', () => {
  it('runs a CommonJS script as main, with its own argv, and loops its exports', async () => {
    const { group, script } = startScript({ 'job.cjs': cjsLoop }, 'job.cjs', ['--flag', 'x']);
    const loaded = await expectLoop(group, script, ['--flag', 'x']);
    expect(loaded.main).toBe(true);
  });

  it('runs an ES module (.mjs, top-level await) and loops its exports', async () => {
    const { group, script } = startScript({ 'job.mjs': esmLoop }, 'job.mjs', ['a']);
    await expectLoop(group, script, ['a']);
  });

  it('follows the package type for .js: "module" in package.json makes it an ES module', async () => {
    const { group, script } = startScript(
      { 'app/package.json': '{"type":"module"}', 'app/job.js': esmLoop },
      'app/job.js',
    );
    await expectLoop(group, script, []);
  });

  it('runs a .js file with ES module syntax and no package type (Node detects it) and loops its exports', async () => {
    const { group, script } = startScript({ 'loose/job.js': esmLoop }, 'loose/job.js');
    await expectLoop(group, script, []);
  });

  it('runs a plain CommonJS script that starts itself under `require.main === module`', async () => {
    const { group } = startScript(
      {
        'plain.cjs': `${emit}
if (require.main === module) {
  emit('mainRan', {});
  setInterval(() => {}, 1000);
}`,
      },
      'plain.cjs',
    );
    await group.waitEvent(is('mainRan'), 'the script to run its main branch');
    await group.waitEvent(is('started'), 'start() to resolve once the plain script has loaded');
  });

  it('loads node:crypto neither in the master nor in a worker (5 ms of CPU each, and MiBs of RSS)', async () => {
    const { group } = startScript(
      {
        'job.cjs': `${emit}
exports.work = async (worker) => {
  if (worker.getExecuteTimes() === 0) emit('looping', { crypto: process.moduleLoadList.includes('NativeModule crypto') });
  await new Promise((r) => setTimeout(r, 20));
};`,
      },
      'job.cjs',
    );
    const started = await group.waitEvent(is('started'), 'start() to resolve');
    const looping = await group.waitEvent(is('looping'), 'the worker to run its first execution');
    expect(started.crypto).toBe(false);
    expect(looping.crypto).toBe(false);
  });

  for (const [format, name, text] of [
    ['CommonJS', 'bad.cjs', `throw new Error('config file /etc/bad.conf is missing');`],
    [
      'ES module',
      'bad.mjs',
      `await Promise.resolve();\nthrow new Error('config file /etc/bad.conf is missing');`,
    ],
  ] as const) {
    it(`fails start() with the error of a ${format} script that throws while loading`, async () => {
      const { group } = startScript({ [name]: text }, name);
      const failed = await group.waitEvent(is('startFailed'), 'start() to reject');
      expect(String(failed.message)).toContain('config file /etc/bad.conf is missing');
      expect((await group.waitExit()).code).toBe(1);
    });
  }
});

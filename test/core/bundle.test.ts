import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { is, startLoop } from './lifecycle/helpers.js';

// The built package, as workers load it (`pnpm build` runs before the tests).
const bundleDir = join(import.meta.dirname, '../../packages/core/bundle');

const MASTER_CLASSES = ['Master', 'ControlServer', 'ControlClient', 'MemoryQueue'];
/** How the bundler writes a class declaration: `class X ` or `X = class`. */
const declares = (name: string) => new RegExp(`\\bclass ${name}\\b|\\b${name} = class\\b`);

/** The bundle files `file` loads statically, itself included. */
function staticClosure(file: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const code = readFileSync(join(bundleDir, name), 'utf8');
    for (const [, dep] of code.matchAll(/^(?:import|export) (?:[^;]*? from )?"\.\/([^"]+)";$/gm)) visit(dep!);
  };
  visit(file);
  return [...seen];
}

describe('the bundle a worker loads', () => {
  // A library-mode worker re-executes the group's script, which imports '@drover/core': what that
  // entry loads statically is compiled by every worker at start (docs/benchmarks.md).
  it("leaves the master's side out of the worker entry", () => {
    const files = staticClosure('worker.js');
    const code = files.map((f) => readFileSync(join(bundleDir, f), 'utf8')).join('\n');
    for (const name of MASTER_CLASSES) expect(code).not.toMatch(declares(name));
    // ... which reaches it, when a worker needs it after all, through one dynamic import
    expect([...code.matchAll(/import\("\.\/master-side-[\w-]+\.js"\)/g)]).toHaveLength(1);
    expect(files).toHaveLength(2);
  });

  it('takes no builtin at load that a worker does not use at start', () => {
    const code = staticClosure('worker.js')
      .map((f) => readFileSync(join(bundleDir, f), 'utf8'))
      .join('\n');
    // node:module (and the source-map support it loads) is needed only to find the preload, in
    // a master; taken at load, it cost every worker its loading
    expect(code).not.toMatch(/^(?:const|import) .*"node:module"/m);
  });

  it("loads the master's side statically everywhere else", () => {
    for (const entry of ['index.js', 'control.js', 'master.js', 'memory.js']) {
      const code = staticClosure(entry)
        .map((f) => readFileSync(join(bundleDir, f), 'utf8'))
        .join('\n');
      for (const name of MASTER_CLASSES) expect(code, `${entry}: ${name}`).toMatch(declares(name));
    }
  });

  it('gives a worker the worker entry, and its master the full one', async () => {
    const { group, cleanup } = startLoop({ maxWorkerNum: 1 }, { reportEntry: true });
    try {
      const worker = await group.waitEvent(is('entry'), "the worker's resolution of '@drover/core'");
      const master = await group.waitEvent(is('masterEntry'), "the master's resolution of '@drover/core'");
      expect(worker.url).toMatch(/\/packages\/core\/bundle\/worker\.js$/);
      // the object handed to user code is an instance of the Worker class the script imported
      expect(worker.isWorker).toBe(true);
      expect(master.url).toMatch(/\/packages\/core\/bundle\/index\.js$/);
    } finally {
      await cleanup();
    }
  });
});

describe('the declarations a user reads', () => {
  it('leave out what is marked @internal', () => {
    const dist = join(import.meta.dirname, '../../packages/core/dist');
    const manage = readFileSync(join(dist, 'Manage.d.ts'), 'utf8');
    expect(manage).toMatch(/\bsetWorkInit</);
    expect(manage).not.toMatch(/\bstartMaster\b|\bdaemonGroup\b|@internal/);
  });
});

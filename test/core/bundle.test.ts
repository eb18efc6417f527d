import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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
    for (const [, dep] of code.matchAll(/^(?:import|export) [^;]*?from "\.\/([^"]+)";$/gm)) visit(dep!);
  };
  visit(file);
  return [...seen];
}

describe('the bundle a worker loads', () => {
  // A library-mode worker re-executes the group's script, which imports '@drover/core': what that
  // entry loads statically is compiled by every worker at start (docs/benchmarks.md).
  it("loads the master's side only on demand", () => {
    const files = staticClosure('index.js');
    const code = files.map((f) => readFileSync(join(bundleDir, f), 'utf8')).join('\n');
    for (const name of MASTER_CLASSES) expect(code).not.toMatch(declares(name));
    // ... and reaches it through one dynamic import
    expect([...code.matchAll(/import\("\.\/master-side-[\w-]+\.js"\)/g)]).toHaveLength(1);
    expect(files).toHaveLength(2);
  });

  it("has the master's side where the dynamic import points", () => {
    const [entry] = readFileSync(join(bundleDir, 'index.js'), 'utf8').match(/core-[\w-]+\.js/) ?? [];
    const [side] = readFileSync(join(bundleDir, entry!), 'utf8').match(/master-side-[\w-]+\.js/) ?? [];
    const code = readFileSync(join(bundleDir, side!), 'utf8');
    for (const name of MASTER_CLASSES) expect(code).toMatch(declares(name));
  });
});

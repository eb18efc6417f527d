import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The processes the tests start (masters, workers, the `drover` bin) run the built packages, not
 * `src/`: a run on a build older than its source tests the old code and passes or fails for it.
 * Each package's outputs must be newer than every file of its source (and of the sources built
 * into them).
 */
const BUILDS: ReadonlyArray<{ outputs: string[]; sources: string[] }> = [
  {
    outputs: [
      'packages/core/dist/index.js',
      'packages/core/bundle/index.js',
      'packages/core/bundle/worker.js',
    ],
    sources: ['packages/core/src'],
  },
  { outputs: ['packages/command/dist/index.js'], sources: ['packages/command/src'] },
  {
    outputs: ['packages/cli/bundle/drover.mjs'],
    sources: ['packages/cli/src', 'packages/core/src', 'packages/command/src'],
  },
];

function newestFile(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}

function mtimeOrZero(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

export function setup(): void {
  const stale: string[] = [];
  for (const { outputs, sources } of BUILDS) {
    const newest = sources
      .map((dir) => newestFile(join(ROOT, dir)))
      .reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
    for (const output of outputs) {
      const built = mtimeOrZero(join(ROOT, output));
      if (built === 0) stale.push(`${output} is missing`);
      else if (built < newest.mtimeMs)
        stale.push(`${output} is older than ${newest.path.slice(ROOT.length)}`);
    }
  }
  if (stale.length > 0)
    throw new Error(
      `the build is older than the source, so the processes the tests start would run old code:\n  ${stale.join('\n  ')}\n` +
        'Fix: npx -y pnpm@10 build (or npm test, which builds first)',
    );
}

// A private build of @drover/core for one bench run. packages/core/dist is shared with everyone
// working in this checkout, and a rebuild while workers load it breaks them mid-import; so the
// bench compiles the package into its scratch dir and runs copies of its fixtures next to it,
// where `@drover/core` resolves to that build.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {{ root: string, benchDir: string, scratch: string, from: 'head' | 'worktree',
 *   build: boolean, log: (s: string) => void }} opts
 * @returns {{ fixtures: string, bootstrap: string, source: string, warnings: string }}
 */
export function snapshotCore({ root, benchDir, scratch, from, build, log }) {
  rmSync(scratch, { recursive: true, force: true });
  const pkg = join(scratch, 'node_modules', '@drover', 'core');
  mkdirSync(pkg, { recursive: true });
  const coreDir = join(root, 'packages/core');
  const tsc = join(root, 'node_modules/.bin/tsc');
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  let source;
  let result = null;
  if (from === 'head') {
    const commit = git('rev-parse', '--short', 'HEAD');
    source = `commit ${commit}`;
    log(`building @drover/core as committed at ${commit} into ${pkg}`);
    const tree = join(scratch, 'tree');
    mkdirSync(tree);
    execFileSync('sh', ['-c', `git archive HEAD packages/core tsconfig.base.json | tar -x -C '${tree}'`], {
      cwd: root,
    });
    // the package's dependencies, for the compiler as for the built code
    symlinkSync(join(coreDir, 'node_modules'), join(tree, 'packages/core/node_modules'));
    result = spawnSync(
      tsc,
      ['-p', join(tree, 'packages/core/tsconfig.json'), '--outDir', join(pkg, 'dist')],
      {
        encoding: 'utf8',
      },
    );
  } else {
    const dirty = git('status', '--porcelain', '--', 'packages/core') !== '';
    source = `working tree at ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes' : ''}`;
    if (build) {
      log(`building @drover/core from the working tree into ${pkg}`);
      result = spawnSync(tsc, ['-p', join(coreDir, 'tsconfig.json'), '--outDir', join(pkg, 'dist')], {
        encoding: 'utf8',
      });
    } else {
      log(`copying packages/core/dist into ${pkg}`);
      cpSync(join(coreDir, 'dist'), join(pkg, 'dist'), { recursive: true });
    }
  }
  if (!existsSync(join(pkg, 'dist/index.js'))) {
    throw new Error(`bench: building @drover/core failed:\n${result?.stdout ?? ''}${result?.stderr ?? ''}`);
  }
  cpSync(join(coreDir, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(coreDir, 'node_modules'), join(pkg, 'node_modules'));
  // the run-time bundle the package's exports point at, made from that dist by the package's own script
  cpSync(
    join(from === 'head' ? join(scratch, 'tree', 'packages/core') : coreDir, 'build.mjs'),
    join(pkg, 'build.mjs'),
  );
  const bundled = spawnSync(process.execPath, [join(pkg, 'build.mjs')], { encoding: 'utf8' });
  if (bundled.status !== 0)
    throw new Error(`bench: bundling @drover/core failed:\n${bundled.stdout}${bundled.stderr}`);
  cpSync(join(benchDir, 'fixtures'), join(scratch, 'fixtures'), { recursive: true });
  mkdirSync(join(scratch, 'lib'));
  cpSync(join(benchDir, 'lib/procfs.mjs'), join(scratch, 'lib/procfs.mjs'));
  return {
    fixtures: join(scratch, 'fixtures'),
    bootstrap: join(pkg, 'dist/worker/bootstrap.js'),
    source,
    // tsc emits despite type errors (someone's work in progress); worth a warning, not a stop
    warnings: result && result.status !== 0 ? `${result.stdout}${result.stderr}`.trim() : '',
  };
}

import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { prepareLogFiles } from '../../../packages/core/src/log/logDir.js';
import { ensurePrivateDir } from '../../../packages/core/src/runtime/RunDir.js';
import {
  BIN,
  CLI_FIXTURES,
  cliEnv,
  drover,
  ensureBuilt,
  type Result,
  runCommand,
} from '../../cli/support/bin.js';
import { removeDir, tempDir, thrown } from './support.js';

/**
 * Node 20's recursive mkdir says ENOENT for a directory on a read-only file system (it stats the
 * path after the EROFS, and the path is missing): the run and log directories must say EROFS,
 * and the hint must point at a writable place.
 */

/** Why a read-only mount cannot be made here (not root, no unshare), or null when it can. */
function mountProblem(): string | null {
  if (process.getuid?.() !== 0) return 'not root: a read-only mount needs CAP_SYS_ADMIN';
  const probe = spawnSync('unshare', ['--mount', 'sh', '-c', 'mount -t tmpfs -o ro tmpfs /mnt'], {
    encoding: 'utf8',
  });
  if (probe.error) return `unshare cannot run (${(probe.error as NodeJS.ErrnoException).code})`;
  if (probe.status !== 0) return `unshare --mount with a tmpfs fails: ${probe.stderr.trim()}`;
  return null;
}

const problem = mountProblem();

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  removeDir(dir);
});

/**
 * Runs `drover ...args` in a private mount namespace where `<dir>/ro` is an empty read-only tmpfs
 * and `<dir>/robind` is `<dir>/src` bound read-only; nothing of it is seen outside.
 */
function droverOnReadOnly(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Result> {
  for (const sub of ['ro', 'robind', 'src/run']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  const ro = join(dir, 'ro');
  const robind = join(dir, 'robind');
  const script = [
    `mount -t tmpfs -o ro,mode=755 tmpfs '${ro}'`,
    `mount --bind '${join(dir, 'src')}' '${robind}'`,
    `mount -o remount,bind,ro '${robind}'`,
    'exec "$@"',
  ].join(' && ');
  return runCommand('unshare', ['--mount', 'sh', '-c', script, 'sh', process.execPath, BIN, ...args], {
    cwd: dir,
    env,
  });
}

const APP = join(CLI_FIXTURES, 'app.mjs');
const READ_ONLY_RUN_DIR_HINT =
  'its file system is read-only; set DROVER_RUN_DIR (runDir) to a directory on a writable file system (in a container, a tmpfs: docker run --tmpfs /run/app -e DROVER_RUN_DIR=/run/app)';

describe.skipIf(problem !== null)(
  `a read-only file system is said as EROFS${problem ? ` (skipped: ${problem})` : ''}`,
  () => {
    beforeAll(() => ensureBuilt());

    it('for a run directory that cannot be created, however deep', async () => {
      for (const runDir of [join(dir, 'ro', 'run'), join(dir, 'ro', 'a', 'b', 'run')]) {
        const result = await droverOnReadOnly(['start', APP, '--name=erofs-run'], cliEnv(runDir));
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(
          `drover: run directory '${runDir}' cannot be created (EROFS); ${READ_ONLY_RUN_DIR_HINT}`,
        );
      }
    });

    it('for a run directory that exists on it and cannot be written', async () => {
      const runDir = join(dir, 'robind', 'run');
      const result = await droverOnReadOnly(['start', APP, '--name=erofs-run'], cliEnv(runDir));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `drover: run directory '${runDir}' cannot be written (EROFS); ${READ_ONLY_RUN_DIR_HINT}`,
      );
    });

    it('for a log directory that cannot be created', async () => {
      const logDir = join(dir, 'ro', 'logs');
      const runDir = join(dir, 'run');
      const result = await droverOnReadOnly(
        ['start', '-d', APP, '--name=erofs-logs', `--log-dir=${logDir}`],
        cliEnv(runDir),
      );
      // had it started (it must not), it would be running in the background: stop it
      if (result.code === 0) await drover(['stop', 'erofs-logs'], { env: cliEnv(runDir) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `drover: log directory '${logDir}' cannot be written (EROFS); its file system is read-only; set logDir (--log-dir) to a directory on a writable file system`,
      );
    });
  },
);

describe('a directory that really cannot be found keeps ENOENT', () => {
  it('under a dangling symbolic link, for the run and the log directory', () => {
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    const runDir = join(dir, 'dangling', 'run');
    expect(thrown(() => ensurePrivateDir(runDir)).message).toBe(
      `drover: run directory '${runDir}' cannot be created (ENOENT); set DROVER_RUN_DIR to a directory you own`,
    );
    const logDir = join(dir, 'dangling', 'a', 'logs');
    expect(thrown(() => prepareLogFiles(logDir, [])).message).toBe(
      `drover: log directory '${logDir}' cannot be written (ENOENT); set logDir (--log-dir) to a writable directory`,
    );
  });

  it('still makes every missing parent of a writable one', () => {
    const deep = join(dir, 'a', 'b', 'c');
    ensurePrivateDir(deep);
    prepareLogFiles(join(deep, 'logs'), [join(deep, 'logs', 'x.log')]);
  });
});

import { chmodSync, chownSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../packages/core/src/errors.js';
import {
  defaultRunDir,
  ensurePrivateDir,
  groupPaths,
  listGroups,
  MAX_SOCKET_PATH_BYTES,
} from '../../../packages/core/src/runtime/RunDir.js';
import { removeDir, tempDir, thrown } from './support.js';

const uid = process.getuid?.() as number;
let dir: string;
const savedEnv = { ...process.env };

beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  removeDir(dir);
  for (const key of ['DROVER_RUN_DIR', 'XDG_RUNTIME_DIR']) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

describe('defaultRunDir', () => {
  it('prefers $DROVER_RUN_DIR', () => {
    process.env.DROVER_RUN_DIR = join(dir, 'explicit');
    process.env.XDG_RUNTIME_DIR = dir;
    expect(defaultRunDir()).toBe(join(dir, 'explicit'));
  });

  it('uses $XDG_RUNTIME_DIR/drover when that directory exists and is ours', () => {
    delete process.env.DROVER_RUN_DIR;
    process.env.XDG_RUNTIME_DIR = dir;
    expect(defaultRunDir()).toBe(join(dir, 'drover'));
  });

  it('falls back to <tmpdir>/drover-<uid> when $XDG_RUNTIME_DIR is missing or not a directory', () => {
    delete process.env.DROVER_RUN_DIR;
    process.env.XDG_RUNTIME_DIR = join(dir, 'missing');
    expect(defaultRunDir()).toBe(join(tmpdir(), `drover-${uid}`));
    writeFileSync(join(dir, 'file'), '');
    process.env.XDG_RUNTIME_DIR = join(dir, 'file');
    expect(defaultRunDir()).toBe(join(tmpdir(), `drover-${uid}`));
    delete process.env.XDG_RUNTIME_DIR;
    expect(defaultRunDir()).toBe(join(tmpdir(), `drover-${uid}`));
  });

  it.runIf(uid === 0)('skips an $XDG_RUNTIME_DIR that belongs to another user', () => {
    delete process.env.DROVER_RUN_DIR;
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    chownSync(foreign, 65534, 65534);
    process.env.XDG_RUNTIME_DIR = foreign;
    expect(defaultRunDir()).toBe(join(tmpdir(), `drover-${uid}`));
  });
});

describe('ensurePrivateDir', () => {
  it('creates missing directories with mode 0700', () => {
    const run = join(dir, 'a', 'b', 'run');
    ensurePrivateDir(run);
    expect(statSync(run).isDirectory()).toBe(true);
    expect(statSync(run).mode & 0o777).toBe(0o700);
    ensurePrivateDir(run); // idempotent
    expect(statSync(run).mode & 0o777).toBe(0o700);
  });

  it('narrows a directory of its own that was opened to others, made by it or found private', () => {
    const made = join(dir, 'made');
    ensurePrivateDir(made);
    const found = join(dir, 'found');
    mkdirSync(found, { mode: 0o700 });
    ensurePrivateDir(found);
    for (const run of [made, found]) {
      chmodSync(run, 0o755);
      ensurePrivateDir(run);
      expect(statSync(run).mode & 0o777).toBe(0o700);
    }
  });

  it("narrows an empty directory it finds open (mkdir under a umask of 022): nothing there is anyone else's", () => {
    const run = join(dir, 'empty');
    mkdirSync(run);
    chmodSync(run, 0o755);
    ensurePrivateDir(run);
    expect(statSync(run).mode & 0o777).toBe(0o700);
  });

  it('never narrows a directory it finds open and holding files: it may be shared (/run, a home)', () => {
    const run = join(dir, 'shared');
    mkdirSync(run);
    writeFileSync(join(run, 'nginx.pid'), '');
    chmodSync(run, 0o755);
    const err = thrown(() => ensurePrivateDir(run));
    expect(err).toMatchObject({ code: 'EUNSAFE_RUNDIR' });
    expect((err as Error).message).toBe(
      `drover: run directory '${run}' is open to others (mode 755), holds files and drover did not create it; ` +
        `run 'chmod 700 ${run}' if it is meant for drover alone, or give drover a directory of its own, for example '${join(run, 'drover')}'`,
    );
    expect(statSync(run).mode & 0o777).toBe(0o755);
  });

  it('refuses a symbolic link and leaves its target untouched', () => {
    const target = join(dir, 'target');
    mkdirSync(target);
    chmodSync(target, 0o755);
    const link = join(dir, 'link');
    symlinkSync(target, link);
    const err = thrown(() => ensurePrivateDir(link));
    expect(err.code).toBe('EUNSAFE_RUNDIR');
    expect(err.message).toContain(link);
    expect(err.message).toContain('symbolic link');
    expect(statSync(target).mode & 0o777).toBe(0o755);
  });

  it('refuses a path that is a file', () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const err = thrown(() => ensurePrivateDir(file));
    expect(err.code).toBe('EUNSAFE_RUNDIR');
    expect(err.message).toContain(file);
    expect(err.message).toContain('not a directory');
  });

  it('refuses a path under /proc at once, where a recursive mkdir would spin forever', () => {
    const err = thrown(() => ensurePrivateDir('/proc/drover-nope/run'));
    expect(err.code).toBe('EUNSAFE_RUNDIR');
    expect(err.message).toContain("'/proc/drover-nope/run' is on a kernel file system (/proc, /sys)");
  });

  it('refuses a directory that belongs to another user', () => {
    // as root, make one; otherwise '/' is root's and not ours (and is never modified: the check comes first)
    let foreign = '/';
    if (uid === 0) {
      foreign = join(dir, 'foreign');
      mkdirSync(foreign, { mode: 0o755 });
      chownSync(foreign, 65534, 65534);
    }
    const modeBefore = lstatSync(foreign).mode;
    const err = thrown(() => ensurePrivateDir(foreign));
    expect(err.code).toBe('EUNSAFE_RUNDIR');
    expect(err.message).toContain(`'${foreign}'`);
    expect(err.message).toMatch(/belongs to uid \d+/);
    expect(lstatSync(foreign).mode).toBe(modeBefore);
  });
});

describe('groupPaths', () => {
  it('puts the pid file and socket in the run dir, named by baseTitle', () => {
    const paths = groupPaths(dir, 'mailer');
    expect(paths).toMatchObject({
      dir,
      pidFile: join(dir, 'mailer.pid'),
      socket: join(dir, 'mailer.sock'),
      logDir: join(dir, 'logs'),
    });
    expect(paths.lockName).toMatch(new RegExp(`^drover-${uid}-[0-9a-f]{16}-mailer$`));
  });

  it('gives a lock name unique per run dir and baseTitle, and the same through a symlinked run dir', () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    const link = join(dir, 'link');
    symlinkSync(other, link);
    const name = groupPaths(other, 'a').lockName;
    expect(groupPaths(link, 'a').lockName).toBe(name);
    expect(groupPaths(dir, 'a').lockName).not.toBe(name);
    expect(groupPaths(other, 'b').lockName).not.toBe(name);
  });

  it.each(['', 'a/b', '../x', 'with space', 'ü', 'x'.repeat(65), 'a\0b'])(
    'refuses baseTitle %j with a ConfigError naming it',
    (title) => {
      const err = thrown(() => groupPaths(dir, title));
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('baseTitle');
      expect(err.message).toContain("config 'baseTitle'");
      expect(err.message).toContain('letters, digits');
    },
  );

  it('accepts letters, digits, dots, underscores and dashes up to 64 characters', () => {
    for (const title of ['a', 'mailer-2.v1_x', 'x'.repeat(64)])
      expect(() => groupPaths(dir, title)).not.toThrow();
  });

  it('refuses a run dir that makes the socket path longer than a unix socket allows', () => {
    const deep = join(dir, 'd'.repeat(MAX_SOCKET_PATH_BYTES));
    const err = thrown(() => groupPaths(deep, 'mailer'));
    expect(err.code).toBe('ESOCKPATH');
    expect(err.message).toContain(join(deep, 'mailer.sock'));
    expect(err.message).toContain('shorter runDir');
  });
});

describe('listGroups', () => {
  it('lists baseTitles that have a pid file or a socket, once each', () => {
    for (const name of [
      'a.pid',
      'a.sock',
      'b.sock',
      'c.pid',
      '.c.pid.0a1b2c.tmp',
      'notes.txt',
      'bad name.pid',
    ]) {
      writeFileSync(join(dir, name), '');
    }
    mkdirSync(join(dir, 'logs'));
    expect(listGroups(dir)).toEqual(['a', 'b', 'c']);
  });

  it('is empty for a run dir that does not exist', () => {
    expect(listGroups(join(dir, 'missing'))).toEqual([]);
  });
});

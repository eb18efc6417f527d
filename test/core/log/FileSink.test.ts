import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmod,
  chown,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DroverError } from '../../../packages/core/src/errors.js';
import { FileSink, type FileSinkOptions } from '../../../packages/core/src/log/FileSink.js';
import type { LogLevel } from '../../../packages/core/src/log/levels.js';
import type { LogRecord } from '../../../packages/core/src/log/LogRecord.js';
import { bundleLogModule, closeOf, FIXTURES, killChild, makeTempDir, removeDir, waitFor } from './helpers.js';

function record(message: string, level: LogLevel = 'info'): LogRecord {
  return { time: Date.now(), level, baseTitle: 'mailer', pin: 1, pid: 4242, message };
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('FileSink', () => {
  let dir: string;
  let sink: FileSink | undefined;

  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  const open = (sub: string, opts: Partial<FileSinkOptions> = {}) => {
    sink = FileSink.open({ dir: join(dir, sub), baseTitle: 'mailer', ...opts });
    return sink;
  };

  it('creates a missing directory 0700 and the file 0600, and appends formatted lines', async () => {
    const s = open('new/nested');
    expect(s.path).toBe(join(dir, 'new/nested/mailer.log'));
    expect((await stat(join(dir, 'new/nested'))).mode & 0o777).toBe(0o700);
    expect((await stat(s.path)).mode & 0o777).toBe(0o600);
    s.write(record('first'));
    s.write({ ...record('second', 'warning'), fields: { code: 1 } });
    await s.flush();
    expect(await lines(s.path)).toEqual([
      expect.stringMatching(/^\S+Z info {4}\[mailer:1 #4242\] first$/),
      expect.stringMatching(/^\S+Z warning \[mailer:1 #4242\] second code=1$/),
    ]);
  });

  it('also writes error and fatal records to <baseTitle>.error.log when asked', async () => {
    const s = open('errors', { separateErrorFile: true });
    expect(s.errorPath).toBe(join(dir, 'errors/mailer.error.log'));
    for (const level of ['info', 'warning', 'error', 'fatal'] as const) s.write(record(`a ${level}`, level));
    await s.flush();
    expect(await lines(s.path)).toHaveLength(4);
    expect((await lines(s.errorPath!)).map((l) => l.replace(/^.*\] /, ''))).toEqual(['a error', 'a fatal']);
  });

  it('rotates by size, keeping maxFiles rotated files, each within size plus one write batch', async () => {
    const s = open('by-size', { rotation: { size: '64K', interval: false, maxFiles: 3 } });
    const padding = 'x'.repeat(200);
    for (let i = 0; i < 10_000; i++) s.write(record(`${i} ${padding}`));
    await s.flush();
    const names = (await readdir(join(dir, 'by-size'))).sort();
    expect(names).toEqual(['mailer.log', 'mailer.log.1', 'mailer.log.2', 'mailer.log.3']);
    for (const name of names) {
      expect((await stat(join(dir, 'by-size', name))).size).toBeLessThanOrEqual(64 * 1024 + 4096 + 300);
    }
    // newest last: .3, .2, .1, then the current file continue one another
    const kept = [];
    for (const name of ['mailer.log.3', 'mailer.log.2', 'mailer.log.1', 'mailer.log']) {
      kept.push(...(await lines(join(dir, 'by-size', name))));
    }
    const numbers = kept.map((l) => Number(/\] (\d+) x+$/.exec(l)?.[1]));
    expect(numbers.at(-1)).toBe(9999);
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    expect(s.droppedLines).toBe(0);
  });

  it('rotates at each interval boundary', async () => {
    const s = open('by-interval', { rotation: { size: false, interval: '1s', maxFiles: 2 } });
    s.write(record('before the boundary'));
    await s.flush();
    const rotated = join(dir, 'by-interval', 'mailer.log.1');
    await waitFor('the interval rotation', () =>
      stat(rotated).then(
        () => true,
        () => false,
      ),
    );
    s.write(record('after the boundary'));
    await s.flush();
    expect((await lines(rotated)).join('\n')).toContain('before the boundary');
    expect((await lines(s.path)).join('\n')).toContain('after the boundary');
  });

  it('is congested past maxPendingBytes and drains without losing a line', async () => {
    const s = open('pressure', { maxPendingBytes: 4096, hardLimitBytes: 64 * 1024 });
    for (let i = 0; i < 100; i++) s.write(record(`${i} ${'y'.repeat(150)}`));
    expect(s.congested).toBe(true);
    expect(s.pendingBytes).toBeGreaterThan(4096);
    await s.whenDrained();
    expect(s.pendingBytes).toBeLessThanOrEqual(2048);
    await s.flush();
    expect(s.pendingBytes).toBe(0);
    expect(s.droppedLines).toBe(0);
    expect(await lines(s.path)).toHaveLength(100);
  });

  it('releases producers waiting for a drain when it is closed', async () => {
    const s = open('close-congested', { maxPendingBytes: 1024, hardLimitBytes: 64 * 1024 });
    for (let i = 0; i < 50; i++) s.write(record(`${i} ${'w'.repeat(100)}`));
    expect(s.congested).toBe(true);
    const drained = s.whenDrained();
    await s.close();
    await drained;
    expect(s.congested).toBe(false);
    expect(await lines(s.path)).toHaveLength(50);
  });

  it('drops lines past its hard limit and writes one record saying how many', async () => {
    const s = open('overflow', { maxPendingBytes: 1024, hardLimitBytes: 4096 });
    for (let i = 0; i < 1000; i++) s.write(record(`${i} ${'z'.repeat(100)}`));
    const dropped = s.droppedLines;
    expect(dropped).toBeGreaterThan(900);
    await s.flush();
    s.write(record('after'));
    await s.flush();
    const written = await lines(s.path);
    const notice = written.filter((l) => l.includes('dropped'));
    expect(notice).toEqual([
      expect.stringMatching(
        new RegExp(
          `warning \\[mailer:master #${process.pid}\\] dropped ${dropped} log lines: more than 4096 bytes .* dropped=${dropped}$`,
        ),
      ),
    ]);
    expect(written).toHaveLength(1000 - dropped + 2);
    expect(written.at(-1)).toMatch(/ after$/);
  });

  it('takes a line longer than its hard limit when nothing else is waiting', async () => {
    const s = open('long-line', { maxPendingBytes: 1024, hardLimitBytes: 4096 });
    s.write(record('v'.repeat(10_000)));
    s.write(record('dropped while the long line is pending'));
    await s.flush();
    expect(s.droppedLines).toBe(1);
    const written = await lines(s.path);
    expect(written[0]).toMatch(/\] v{10000}$/);
  });

  it('counts lines written after close as dropped', async () => {
    const s = open('closed');
    s.write(record('kept'));
    await s.close();
    s.write(record('late'));
    expect(s.droppedLines).toBe(1);
    expect(await lines(s.path)).toHaveLength(1);
  });

  describe('a log file removed or moved away while it is written', () => {
    /** Writes `message` until it shows in the file at the path: the new file may take a moment. */
    const writtenAnew = (s: FileSink, message: string) =>
      waitFor(`'${message}' in a new ${s.path}`, async () => {
        s.write(record(message));
        await s.flush();
        return (await readFile(s.path, 'utf8').catch(() => '')).includes(message);
      });

    it('removed: a new file at the path takes the lines, and a notice says why it was begun', async () => {
      const s = open('removed');
      const notices: string[] = [];
      s.onNotice((n) => notices.push(`${n.level} ${n.message}`));
      s.write(record('before'));
      await s.flush();
      await rm(s.path);
      await writtenAnew(s, 'after');
      expect(notices).toEqual([
        `warning log file '${s.path}' was removed or moved away while written: writing a new one`,
      ]);
      expect(await readFile(s.path, 'utf8')).not.toContain('before');
      expect((await stat(s.path)).mode & 0o777).toBe(0o600);
    });

    it('moved away (logrotate without copytruncate): the old file keeps its lines, a new one follows', async () => {
      const s = open('moved');
      s.write(record('old line'));
      await s.flush();
      await rename(s.path, `${s.path}.old`);
      await writtenAnew(s, 'new line');
      expect(await readFile(`${s.path}.old`, 'utf8')).toContain('old line');
      expect(await readFile(s.path, 'utf8')).not.toContain('old line');
    });

    it('its whole directory removed: made again 0700, with the error file too', async () => {
      const s = open('gone/logs', { separateErrorFile: true });
      await rm(join(dir, 'gone'), { recursive: true });
      await writtenAnew(s, 'back');
      expect((await stat(join(dir, 'gone/logs'))).mode & 0o777).toBe(0o700);
      s.write(record('an error', 'error'));
      await s.flush();
      expect(await readFile(s.errorPath!, 'utf8')).toContain('an error');
    });

    it('rotation by size is no removal: no line is lost and no file is begun again', async () => {
      const s = open('rotating', { rotation: { size: '16K', interval: false, maxFiles: 3 } });
      const notices: string[] = [];
      s.onNotice((n) => notices.push(n.message));
      for (let i = 0; i < 20_000; i++) s.write(record(`line ${i}`));
      await s.flush();
      // a removal would be noticed after 50 ms: give it the chance, then look
      await new Promise((resolve) => setTimeout(resolve, 300));
      const files = (await readdir(join(dir, 'rotating'))).sort();
      const all = (await Promise.all(files.map((f) => readFile(join(dir, 'rotating', f), 'utf8')))).join('');
      expect(all).not.toContain('writing a new one');
      expect(files).toEqual(['mailer.log', 'mailer.log.1', 'mailer.log.2', 'mailer.log.3']);
      expect(all).toContain('line 19999');
      expect(notices).toEqual([]);
    });
  });

  it('rejects bad options with a ConfigError naming the key', () => {
    const cases: [Partial<FileSinkOptions>, RegExp][] = [
      [{ rotation: { size: '10MB' } }, /'logRotation\.size' is "10MB"; expected a size such as '10M'/],
      [
        { rotation: { interval: '7m' } },
        /'logRotation\.interval' is "7m"; expected an interval such as '1d'/,
      ],
      [{ rotation: { maxFiles: 0 } }, /'logRotation\.maxFiles' is 0; expected an integer from 1 to 1000/],
      [{ rotation: { maxfiles: 3 } as never }, /'logRotation\.maxfiles' is 3; expected no such option/],
      [{ baseTitle: '../etc' }, /'baseTitle' is "\.\.\/etc"/],
      [{ maxPendingBytes: 10 }, /'maxPendingBytes' is 10; expected an integer of at least 1024/],
    ];
    for (const [opts, message] of cases) {
      const error = thrown(() => FileSink.open({ dir: join(dir, 'never'), baseTitle: 'mailer', ...opts }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('throws at open, without spinning, when the directory is under /proc', () => {
    const error = thrown(() => FileSink.open({ dir: '/proc/drover-nope/logs', baseTitle: 'mailer' }));
    expect(error).toMatchObject({ code: 'ELOGDIR' });
    expect((error as Error).message).toContain(
      "drover: log directory '/proc/drover-nope/logs' is on a kernel file system (/proc, /sys), where no directory can be made",
    );
  });

  it('throws at open, naming the path and the fix, when the directory is a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const error = thrown(() => FileSink.open({ dir: join(file, 'logs'), baseTitle: 'mailer' }));
    expect(error).toBeInstanceOf(DroverError);
    expect(error).toMatchObject({ code: 'ELOGDIR' });
    expect((error as Error).message).toBe(
      `drover: log directory '${join(file, 'logs')}' cannot be written (ENOTDIR); ` +
        'part of the path is a file, not a directory; set logDir (--log-dir) to a directory',
    );
  });

  it('refuses a directory every user can write to: a link planted there would be written through', async () => {
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    const target = join(dir, 'precious');
    await writeFile(target, 'precious\n');
    await symlink(target, join(open, 'mailer.log'));
    const error = thrown(() => FileSink.open({ dir: open, baseTitle: 'mailer' }));
    expect(error).toMatchObject({ code: 'EUNSAFE_LOGDIR' });
    expect((error as Error).message).toBe(
      `drover: log directory '${open}' can be written by every user (mode 777); another user could put a link ` +
        `there for this process to write through; run 'chmod o-w ${open}', or set logDir (--log-dir) to a directory of your own`,
    );
    expect(await readFile(target, 'utf8')).toBe('precious\n');
  });

  it.skipIf(process.getuid?.() !== 0)(
    "refuses a directory of another user, and a shared one, without telling to chmod what is not one's own",
    async () => {
      const theirs = join(dir, 'theirs');
      await mkdir(theirs, { mode: 0o755 });
      await chown(theirs, 65534, 65534);
      const shared = join(dir, 'shared');
      await mkdir(shared);
      await chmod(shared, 0o1777);
      const cases: Array<[string, string]> = [
        [theirs, 'belongs to uid 65534, not to this user (uid 0) or root'],
        [shared, 'is shared by every user (sticky, mode 1777, as /tmp)'],
      ];
      for (const [path, problem] of cases) {
        const error = thrown(() => FileSink.open({ dir: path, baseTitle: 'mailer' }));
        expect((error as Error).message).toBe(
          `drover: log directory '${path}' ${problem}; another user could put a link there for this process to write through; set logDir (--log-dir) to a directory of your own`,
        );
      }
    },
  );

  it('throws at open when a directory stands where the log file should be', async () => {
    await mkdir(join(dir, 'taken/mailer.log'), { recursive: true });
    expect(() => FileSink.open({ dir: join(dir, 'taken'), baseTitle: 'mailer' })).toThrow(
      /log file '.*taken\/mailer\.log' cannot be written \(EISDIR\); a directory stands where/,
    );
  });

  describe('in a child process', () => {
    let bundleDir: string;
    let bundle: string;
    let child: ChildProcess | undefined;

    beforeAll(async () => {
      bundleDir = await makeTempDir('drover-log-bundle-');
      bundle = await bundleLogModule(bundleDir);
    });
    afterEach(async () => {
      await killChild(child);
      child = undefined;
    });
    afterAll(async () => {
      await removeDir(bundleDir);
    });

    function run(command: string, args: string[], options: { uid?: number; gid?: number } = {}) {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk;
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk;
      });
      return closeOf(child).then((exit) => ({ exit, stdout, stderr }));
    }

    it('throws at open when the user may not write the directory (EACCES)', async () => {
      const parent = join(dir, 'private');
      await mkdir(parent, { mode: 0o700 });
      const isRoot = process.getuid?.() === 0;
      // root passes permission checks: the open runs as nobody instead
      if (!isRoot) await chmod(parent, 0o500);
      const { exit, stdout } = await run(
        process.execPath,
        [join(FIXTURES, 'open-sink.mjs'), bundle, join(parent, 'logs')],
        isRoot ? { uid: 65534, gid: 65534 } : {},
      );
      expect(exit.code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({
        opened: false,
        name: 'DroverError',
        code: 'ELOGDIR',
        message:
          `drover: log directory '${join(parent, 'logs')}' cannot be written (EACCES); ` +
          'give the user running drover write access to it, or set logDir (--log-dir) to a writable directory',
      });
    });

    /** Runs fsize-writer.mjs under a 64 KiB file-size limit; room is then made by cutting the file to `keepBytes`. */
    const writeUntilFull = (logs: string, keepBytes = 0) =>
      run('prlimit', [
        '--fsize=65536',
        process.execPath,
        join(FIXTURES, 'fsize-writer.mjs'),
        bundle,
        logs,
        String(keepBytes),
      ]);

    it('survives a file-size limit (EFBIG): drops and counts, tells the terminal, recovers', async () => {
      const logs = join(dir, 'fsize');
      const { exit, stdout, stderr } = await writeUntilFull(logs);
      expect(exit, stderr).toEqual({ code: 0, signal: null });
      const result = JSON.parse(stdout);
      const path = join(logs, 'full.log');
      expect(result.written).toBeGreaterThan(65536 / 150);
      expect(result.droppedAtFailure).toBeGreaterThan(0);
      expect(result.droppedBeforeRecovery).toBe(result.droppedAtFailure + 5);
      expect(result.droppedAtEnd).toBe(result.droppedBeforeRecovery);
      expect(result.notices).toEqual([
        {
          level: 'error',
          message: `log file '${path}' cannot be written (EFBIG); dropping its lines until it can, retrying every 200 ms`,
          fields: { file: path, dropped: result.droppedAtFailure },
        },
        {
          level: 'warning',
          message: `log file '${path}' is writable again; ${result.droppedBeforeRecovery} lines were dropped`,
          fields: { file: path, dropped: result.droppedBeforeRecovery },
        },
      ]);
      // the terminal heard about both, through the logger
      expect(stderr).toMatch(
        / error {3}\[full:master #\d+\] log file '.*full\.log' cannot be written \(EFBIG\)/,
      );
      expect(stderr).toMatch(/ warning \[full:master #\d+\] log file '.*full\.log' is writable again/);
      // the file starts again with the count of what it lost
      const after = await lines(path);
      expect(after).toEqual([
        expect.stringMatching(
          new RegExp(
            `warning \\[full:master #\\d+\\] dropped ${result.droppedBeforeRecovery} log lines: '${path}' could not be written \\(EFBIG\\)`,
          ),
        ),
        expect.stringMatching(/ info {4}\[full:master #\d+\] after recovery$/),
      ]);
    });

    it('after a failure that left half a line, the record of the dropped lines starts a line of its own', async () => {
      const logs = join(dir, 'fsize-midline');
      // room is made by cutting the file inside its first line, as a write cut short leaves it
      const { exit, stdout, stderr } = await writeUntilFull(logs, 20);
      expect(exit, stderr).toEqual({ code: 0, signal: null });
      const result = JSON.parse(stdout);
      const after = await lines(join(logs, 'full.log'));
      expect(after).toHaveLength(3);
      expect(after[0]).toHaveLength(20);
      expect(after[1]).toMatch(
        new RegExp(
          `^\\S+Z warning \\[full:master #\\d+\\] dropped ${result.droppedBeforeRecovery} log lines: `,
        ),
      );
      expect(after[2]).toMatch(/ info {4}\[full:master #\d+\] after recovery$/);
    });
  });
});

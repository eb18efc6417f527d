import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Process } from '../../../packages/core/src/process/Process.js';
import {
  type GroupEnd,
  isRecordLive,
  type PidRecord,
  readPidFile,
  recordGroupEnd,
  removePidFile,
  writePidFile,
} from '../../../packages/core/src/runtime/PidFile.js';
import { Children, removeDir, tempDir, waitFor, thrown } from './support.js';

const children = new Children();
let dir: string;
let path: string;

beforeEach(() => {
  dir = tempDir();
  path = join(dir, 'mailer.pid');
});
afterEach(async () => {
  await children.killAll();
  removeDir(dir);
});

function ownRecord(overrides: Partial<PidRecord> = {}): PidRecord {
  return {
    pid: process.pid,
    startTime: Process.stat(process.pid)?.startTime as number,
    baseTitle: 'mailer',
    startedAt: Date.now(),
    socket: join(dir, 'mailer.sock'),
    version: '0.1.0',
    ...overrides,
  };
}

describe('writePidFile / readPidFile', () => {
  it('round-trips a record into a 0600 file and leaves no temp file behind', () => {
    const record = ownRecord();
    writePidFile(path, record);
    expect(readPidFile(path)).toEqual(record);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['mailer.pid']);
  });

  it('replaces an existing pid file atomically', () => {
    writePidFile(path, ownRecord({ pid: 1 }));
    writePidFile(path, ownRecord());
    expect(readPidFile(path)?.pid).toBe(process.pid);
    expect(readdirSync(dir)).toEqual(['mailer.pid']);
  });

  it('keeps the file 0600 under a permissive umask', () => {
    const before = process.umask(0);
    try {
      writePidFile(path, ownRecord());
    } finally {
      process.umask(before);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('returns null when there is no pid file', () => {
    expect(readPidFile(path)).toBeNull();
  });

  it('refuses to write through a symbolic link and leaves the target untouched', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'precious');
    symlinkSync(target, path);
    const err = thrown(() => writePidFile(path, ownRecord()));
    expect(err.code).toBe('EUNSAFE_PIDFILE');
    expect(err.message).toContain(path);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(readdirSync(dir).sort()).toEqual(['mailer.pid', 'target']);
  });

  it('refuses to read through a symbolic link', () => {
    const target = join(dir, 'target');
    writePidFile(target, ownRecord());
    symlinkSync(target, path);
    const err = thrown(() => readPidFile(path));
    expect(err.code).toBe('EUNSAFE_PIDFILE');
    expect(err.message).toContain('symbolic link');
  });

  it('refuses a directory or a FIFO in place of the pid file, without blocking', () => {
    mkdirSync(path);
    expect(thrown(() => writePidFile(path, ownRecord())).message).toContain('not a regular file');
    expect(thrown(() => readPidFile(path)).code).toBe('EUNSAFE_PIDFILE');
    const fifo = join(dir, 'fifo.pid');
    execFileSync('mkfifo', [fifo]);
    expect(thrown(() => readPidFile(fifo)).message).toContain('not a regular file');
  });

  it('writes the pid alone on the first line, where systemd and pgrep -F read it', () => {
    const record = ownRecord();
    writePidFile(path, record);
    const [first, second, rest] = readFileSync(path, 'utf8').split('\n');
    expect(first).toBe(String(process.pid));
    expect(JSON.parse(second!)).toEqual(record);
    expect(rest).toBe('');
    expect(execFileSync('pgrep', ['-F', path], { encoding: 'utf8' })).toBe(`${process.pid}\n`);
  });

  it('reads a record alone, without the pid line, as earlier versions wrote it', () => {
    const record = ownRecord();
    writeFileSync(path, `${JSON.stringify(record)}\n`);
    expect(readPidFile(path)).toEqual(record);
  });

  it.each([
    ['', 'empty'],
    ['12345\n', 'it holds the pid 12345 but no drover record on its second line'],
    ['4242', 'it holds the pid 4242 but no drover record on its second line'],
    ['pid 12\n{}', 'its first line is "pid 12", not a pid'],
    ['12\n{"pid": 12', 'its record is not JSON'],
    ['{"pid": 12', 'its record is not JSON'],
    ['{"pid": -1, "startTime": 1}', "'pid' is -1"],
    [
      '6\n{"pid": 5, "startTime": 1, "baseTitle": "x", "startedAt": 1, "socket": "s", "version": "1"}',
      'its first line names pid 6, its record pid 5',
    ],
    [
      '{"pid": 5, "startTime": 1, "baseTitle": "x", "startedAt": 1, "socket": 7, "version": "1"}',
      "'socket' is 7",
    ],
  ])('calls %j malformed, naming the file and the problem', (content, problem) => {
    writeFileSync(path, content);
    const err = thrown(() => readPidFile(path));
    expect(err.code).toBe('EBADPIDFILE');
    expect(err.message).toContain(path);
    expect(err.message).toContain(problem);
  });

  it('names the pid file when its directory is missing', () => {
    const missing = join(dir, 'missing', 'x.pid');
    const err = thrown(() => writePidFile(missing, ownRecord()));
    expect(err.code).toBe('EPIDFILE');
    expect(err.message).toContain(`cannot write pid file '${missing}' (ENOENT)`);
  });

  it('refuses a record with a bad field, naming it', () => {
    const err = thrown(() => writePidFile(path, ownRecord({ pid: 0 })));
    expect(err.message).toContain("'pid' is 0");
    expect(existsSync(path)).toBe(false);
  });
});

describe('isRecordLive', () => {
  it('is true for a live pid with its own start time', () => {
    expect(isRecordLive(ownRecord())).toBe(true);
  });

  it('is false when the pid was reused by another process (start time differs)', () => {
    const record = ownRecord();
    expect(isRecordLive({ ...record, startTime: record.startTime - 1 })).toBe(false);
  });

  it('is false for a stale pid file of a process that died', async () => {
    const child = children.node('setInterval(() => {}, 1000); console.log("ready")');
    await child.line(/ready/);
    const record = ownRecord({ pid: child.pid, startTime: Process.stat(child.pid)?.startTime as number });
    writePidFile(path, record);
    expect(isRecordLive(readPidFile(path) as PidRecord)).toBe(true);
    await child.kill();
    expect(isRecordLive(readPidFile(path) as PidRecord)).toBe(false);
  });

  it('is false for a zombie', async () => {
    const parent = children.spawn('sh', ['-c', 'sleep 0 & echo "zombie $!"; exec sleep 60']);
    const zombie = Number((await parent.line(/^zombie \d+$/)).split(' ')[1]);
    const stat = await waitFor('a zombie', () => {
      const s = Process.stat(zombie);
      return s?.state === 'Z' ? s : undefined;
    });
    expect(isRecordLive(ownRecord({ pid: zombie, startTime: stat.startTime }))).toBe(false);
  });
});

describe('removePidFile', () => {
  it('removes the file only while it names the given pid', () => {
    writePidFile(path, ownRecord({ pid: 424242 }));
    expect(removePidFile(path, process.pid)).toBe(false);
    expect(existsSync(path)).toBe(true);
    expect(removePidFile(path, 424242)).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(removePidFile(path, 424242)).toBe(false);
  });

  it('leaves a symbolic link and its target alone', () => {
    const target = join(dir, 'target');
    writePidFile(target, ownRecord());
    symlinkSync(target, path);
    expect(removePidFile(path, process.pid)).toBe(false);
    expect(existsSync(path)).toBe(true);
    expect(readPidFile(target)?.pid).toBe(process.pid);
  });
});

describe('recordGroupEnd', () => {
  const end: GroupEnd = {
    reason: 'gave-up',
    at: 1_700_000_000_000,
    gaveUp: 2,
    pins: [
      {
        pin: 0,
        restarts: 3,
        lastExit: { code: 1, signal: null, reason: 'crash', at: 1_699_999_999_000, error: 'Error: boom' },
      },
      { pin: 1, restarts: 3, lastExit: null },
    ],
  };

  it('leaves the record with why at the ended file and removes the pid file', () => {
    const ended = join(dir, 'mailer.ended');
    const record = ownRecord({ logFile: '/x/mailer.log' });
    writePidFile(path, record);
    expect(recordGroupEnd(path, ended, process.pid, end)).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(readPidFile(ended)).toEqual({ ...record, end });
    expect(statSync(ended).mode & 0o777).toBe(0o600);
  });

  it("leaves another master's pid file alone and records nothing", () => {
    const ended = join(dir, 'mailer.ended');
    writePidFile(path, ownRecord({ pid: 424242 }));
    expect(recordGroupEnd(path, ended, process.pid, end)).toBe(false);
    expect(readPidFile(path)?.pid).toBe(424242);
    expect(existsSync(ended)).toBe(false);
  });

  it('refuses an end record with a bad field, naming it', () => {
    writePidFile(path, ownRecord());
    const bad = `${process.pid}\n${JSON.stringify({ ...ownRecord(), end: { ...end, pins: [{ pin: -1, restarts: 0, lastExit: null }] } })}\n`;
    writeFileSync(path, bad);
    expect(thrown(() => readPidFile(path)).message).toContain("'end.pins[0]' is");
    writeFileSync(
      path,
      `${process.pid}\n${JSON.stringify({ ...ownRecord(), end: { ...end, reason: 'bored' } })}\n`,
    );
    expect(thrown(() => readPidFile(path)).message).toContain(`'end.reason' is "bored", expected 'gave-up'`);
  });
});

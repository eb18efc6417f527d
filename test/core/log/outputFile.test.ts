// runOutput: what one daemon's run wrote in the output file every background start appends to,
// found from the pid in its start mark (or in the note of a cut it made), up to the next start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonOutputFile, groupRunOutput, runOutput } from '../../../packages/core/src/log/outputFile.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function file(text: string, copy?: string): string {
  dir = mkdtempSync(join(tmpdir(), 'drover-out-'));
  const path = join(dir, 'web.out');
  writeFileSync(path, text);
  if (copy !== undefined) writeFileSync(`${path}.1`, copy);
  return path;
}

const start = (pid: number, names = "'web'") =>
  `--- 2026-01-02T03:04:05.678Z start of ${names} in the background, pid ${pid} ---\n`;
const cut = (pid: number) =>
  `--- 2026-01-02T03:04:05.678Z pid ${pid}: this file passed 10 MiB: what it held is now in web.out.1 ---\n`;
const CRASH = [
  'file:///srv/app/master.mjs:12',
  "    throw new Error('boom');",
  '    ^',
  '',
  'Error: boom',
  '    at Timeout._onTimeout (file:///srv/app/master.mjs:12:11)',
  '    at listOnTimeout (node:internal/timers:573:17)',
  '',
  'Node.js v20.19.0',
  '',
].join('\n');

describe('runOutput', () => {
  it("a crash's report after the run's own start mark: Node's report, with its error", () => {
    const path = file(`${start(100)}${CRASH}`);
    expect(runOutput(path, 100)).toEqual({ file: path, kind: 'crash', line: 'Error: boom' });
  });

  it('a run that wrote nothing after its mark has nothing, though an earlier run crashed', () => {
    const path = file(`${start(100)}${CRASH}${start(200)}`);
    expect(runOutput(path, 200)).toBeNull();
    // the earlier run's part ends at the later start
    expect(runOutput(path, 100)).toEqual({ file: path, kind: 'crash', line: 'Error: boom' });
  });

  it("a later run's output is not the ended one's", () => {
    const path = file(`${start(100, "'web', 'jobs'")}${start(200)}printed by 200\n`);
    expect(runOutput(path, 100)).toBeNull();
    expect(runOutput(path, 200)).toEqual({ file: path, kind: 'text', line: 'printed by 200' });
  });

  it("V8's fatal error", () => {
    const path = file(
      `${start(100)}\n<--- Last few GCs --->\n\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n----- Native stack trace -----\n 1: 0xb7a940 node::OOMErrorHandler\n`,
    );
    expect(runOutput(path, 100)).toEqual({
      file: path,
      kind: 'fatal',
      line: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
    });
  });

  it('after a cut the run goes on below its note; before the cut, in .out.1', () => {
    const path = file(`${cut(100)}after the cut\n${CRASH}`, `${start(100)}before the cut\n`);
    expect(runOutput(path, 100)).toEqual({ file: path, kind: 'crash', line: 'Error: boom' });
    // a run whose start a later start's cut moved to .out.1
    const moved = file(start(200), `${start(100)}${CRASH}`);
    expect(runOutput(moved, 100)).toEqual({ file: `${moved}.1`, kind: 'crash', line: 'Error: boom' });
  });

  it('no mark of that pid (an older drover, a file emptied), no file: nothing', () => {
    expect(runOutput(file(`${CRASH}`), 100)).toBeNull();
    expect(
      runOutput(file(`--- 2026-01-02T03:04:05.678Z start of 'web' in the background ---\n${CRASH}`), 100),
    ).toBeNull();
    expect(runOutput('/nonexistent/web.out', 100)).toBeNull();
  });

  it('a run far back in a large file, and lines cut across read chunks, are found', () => {
    const line = `${'y'.repeat(999)}\n`;
    const path = file(`${start(100)}${CRASH}${start(200)}${line.repeat(3000)}last of 200\n`);
    expect(runOutput(path, 100)).toEqual({ file: path, kind: 'crash', line: 'Error: boom' });
    expect(runOutput(path, 200)).toEqual({ file: path, kind: 'text', line: 'last of 200' });
  });
});

describe('daemonOutputFile and groupRunOutput', () => {
  const group = (baseTitle: string, dir = '/srv/logs') => ({ baseTitle, logFile: `${dir}/${baseTitle}.log` });

  it("one group's daemon writes to <name>.out; a daemon of several, to a file named after them all", () => {
    expect(daemonOutputFile([group('web')])).toBe('/srv/logs/web.out');
    expect(daemonOutputFile([group('web'), group('jobs', '/elsewhere')])).toBe('/srv/logs/web,jobs.out');
    // names too long for a file name: the first ones, and how many more
    const many = Array.from({ length: 8 }, (_, i) => group(`group-${i}-${'n'.repeat(40)}`));
    const name = daemonOutputFile(many).slice('/srv/logs/'.length);
    expect(name.length).toBeLessThanOrEqual(204);
    expect(name).toMatch(/^group-0-n+,group-1-n+,group-2-n+,group-3-n+,\+4\.out$/);
  });

  it("a group's run is found in its own .out, or in the file of the daemon of several groups it ran in", () => {
    dir = mkdtempSync(join(tmpdir(), 'drover-out-'));
    writeFileSync(join(dir, 'jobs.out'), `${start(100, "'jobs'")}${CRASH}`);
    writeFileSync(join(dir, 'web,jobs.out'), `${start(200, "'web', 'jobs'")}${CRASH}`);
    writeFileSync(join(dir, 'webby,other.out'), `${start(300, "'webby', 'other'")}${CRASH}`);
    const log = join(dir, 'jobs.log');
    expect(groupRunOutput(log, 'jobs', 100)?.file).toBe(join(dir, 'jobs.out'));
    expect(groupRunOutput(log, 'jobs', 200)?.file).toBe(join(dir, 'web,jobs.out'));
    expect(groupRunOutput(join(dir, 'web.log'), 'web', 200)?.file).toBe(join(dir, 'web,jobs.out'));
    // a file of other groups is not looked in
    expect(groupRunOutput(join(dir, 'web.log'), 'web', 300)).toBeNull();
  });
});

// groups/: scanGroups reports a group whose master ended without stopping once (the scan that
// removes its stale pid file), with the log file its pid file names; tailLog with `rotated`
// reads back into <path>.1, .2, ... when the file is short.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanGroups } from '../../../packages/core/src/groups/discovery.js';
import { tailLog } from '../../../packages/core/src/groups/logs.js';
import { writePidFile } from '../../../packages/core/src/runtime/PidFile.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-scan-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has ended (and was reaped). */
function deadPid(): number {
  const child = spawnSync('/bin/sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('scanGroups', () => {
  it('reports a stale pid file once, with its log file, and removes it with the socket', async () => {
    const runDir = join(dir, 'run');
    mkdirSync(runDir, { mode: 0o700 });
    const pid = deadPid();
    const pidFile = join(runDir, 'fixcli-x.pid');
    writePidFile(pidFile, {
      pid,
      startTime: 1,
      baseTitle: 'fixcli-x',
      startedAt: 1_700_000_000_000,
      socket: join(runDir, 'fixcli-x.sock'),
      version: '0.1.0',
      logFile: '/var/log/app/fixcli-x.log',
    });
    // an older master's record names no log file
    writePidFile(join(runDir, 'fixcli-y.pid'), {
      pid,
      startTime: 1,
      baseTitle: 'fixcli-y',
      startedAt: 1_700_000_000_000,
      socket: join(runDir, 'fixcli-y.sock'),
      version: '0.0.9',
    });

    // a scan of one name looks at that one only
    expect(await scanGroups(runDir, ['fixcli-x'])).toEqual({
      running: [],
      ended: [
        {
          baseTitle: 'fixcli-x',
          pid,
          runDir,
          startedAt: 1_700_000_000_000,
          logFile: '/var/log/app/fixcli-x.log',
          end: null,
        },
      ],
    });
    expect(existsSync(pidFile)).toBe(false);
    expect(await scanGroups(runDir)).toEqual({
      running: [],
      ended: [{ baseTitle: 'fixcli-y', pid, runDir, startedAt: 1_700_000_000_000, logFile: null, end: null }],
    });
    expect(await scanGroups(runDir)).toEqual({ running: [], ended: [] });
  });
});

describe('tailLog with rotated', () => {
  it('reads the rest of the lines from the rotated files, oldest first, and stops at a gap', async () => {
    const path = join(dir, 'x.log');
    writeFileSync(`${path}.3`, 'a\nb\n');
    writeFileSync(`${path}.1`, 'e\nf\n');
    writeFileSync(path, 'g\n');
    const read = async (lines: number, rotated: boolean) => {
      const out: string[] = [];
      for await (const line of tailLog(path, { lines, rotated })) out.push(line);
      return out;
    };
    expect(await read(3, false)).toEqual(['g']);
    expect(await read(2, true)).toEqual(['f', 'g']);
    // no .2: .3 is not reached
    expect(await read(10, true)).toEqual(['e', 'f', 'g']);
    writeFileSync(`${path}.2`, 'c\nd\n');
    expect(await read(6, true)).toEqual(['b', 'c', 'd', 'e', 'f', 'g']);
  });
});

// A background start checks the run directory exactly as the master does, before it touches
// anything in it, and never follows a symbolic link where it creates its log files.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const loop = join(CLI_FIXTURES, 'loop.mjs');
const openSandbox = sandboxPerTest();

describe('drover start -d in an unsafe run directory', () => {
  it('a symlinked logs directory is refused and nothing is created through the link', async () => {
    const box = openSandbox();
    const target = join(box.dir, 'elsewhere');
    mkdirSync(target);
    symlinkSync(target, join(box.runDir, 'logs'));

    const result = await box.drover(['start', loop, '-d', '--name=w']);
    expect(result.stderr).toBe(
      `drover: log directory '${join(box.runDir, 'logs')}' is a symbolic link; drover never follows a symbolic link inside its run directory; remove the link\n`,
    );
    expect(result.stdout).toBe('');
    expect(result.code).toBe(1);
    expect(readdirSync(target)).toEqual([]);
  });

  it('a symlinked log file is refused and its target is left as it was', async () => {
    const box = openSandbox();
    const target = join(box.dir, 'precious.txt');
    writeFileSync(target, 'keep\n');
    mkdirSync(join(box.runDir, 'logs'));
    const link = join(box.runDir, 'logs', 'w.log');
    symlinkSync(target, link);

    const result = await box.drover(['start', loop, '-d', '--name=w']);
    expect(result.stderr).toBe(
      `drover: log file '${link}' is a symbolic link; drover never follows a symbolic link inside its run directory; remove the link\n`,
    );
    expect(result.code).toBe(1);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
  });

  it('a run directory that is a file is reported as the run directory, with the fix', async () => {
    const box = openSandbox();
    const file = join(box.dir, 'not-a-dir');
    writeFileSync(file, '');
    const result = await box.drover(['start', loop, '-d', '--name=w'], { env: { DROVER_RUN_DIR: file } });
    expect(result.stderr).toBe(
      `drover: run directory '${file}' exists and is not a directory; remove it, or set DROVER_RUN_DIR to another path\n`,
    );
    expect(result.code).toBe(1);
  });
});

// runMain in a real bin: the exit code the process ends with.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const TOOL = join(import.meta.dirname, 'fixtures/exit-code-tool.mjs');

/** Runs the tool to its end (killed after 20 s): its exit code and what it printed. */
function runTool(argv: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { NO_COLOR: _n, FORCE_COLOR: _f, DEBUG: _d, ...env } = process.env;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [TOOL, ...argv],
      { env, timeout: 20_000, killSignal: 'SIGKILL' },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('runMain keeps a failing process.exitCode set during the run', () => {
  it.each([
    // the handler (or a library) set it and returned nothing, or 0: the failure stands
    [['4', '-'], 4],
    [['4', '0'], 4],
    // a code the handler returned, or the router's own failure, wins over it
    [['4', '3'], 3],
    [['4', 'throw'], 1],
    // a zero or no exitCode: the run's own code
    [['0', '-'], 0],
    [['-', '-'], 0],
    [['-', '5'], 5],
  ])('run %j exits %i', async (argv, expected) => {
    const result = await runTool(['run', ...argv]);
    expect(result.code).toBe(expected);
    expect(result.stdout).toBe(`runMain resolved ${expected}\n`);
  });
});

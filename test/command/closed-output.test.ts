// A bin whose reader went away (`tool --help | head`, `tool 2>&1 | true`) or whose output
// cannot be written (`tool > /dev/full`): real child processes writing to a closed pipe.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { deployRouter } from './support/deploy-cli.js';

const TOOL = join(import.meta.dirname, 'fixtures/pipe-tool.mjs');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the child wrote on the stream left open (empty for a closed or redirected one). */
  stdout: string;
  stderr: string;
}

/**
 * Runs the tool with `argv`, its `closed` stream's read end closed before the tool writes
 * anything (the tool waits for a line on stdin), or that stream sent to `file`.
 */
function runTool(argv: readonly string[], closed: 'stdout' | 'stderr', file?: string): Promise<Outcome> {
  const fd = file === undefined ? undefined : openSync(file, 'w');
  const stdio = ['pipe', 'pipe', 'pipe'] as Array<'pipe' | number>;
  if (fd !== undefined) stdio[closed === 'stdout' ? 1 : 2] = fd;
  const { NO_COLOR: _n, FORCE_COLOR: _f, DEBUG: _d, ...env } = process.env;
  const child = spawn(process.execPath, [TOOL, ...argv], { stdio, env });
  if (fd !== undefined) closeSync(fd);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  if (file === undefined) child[closed]!.destroy();
  child.stdin!.end('go\n');
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pipe-tool ${argv.join(' ')} did not exit within 20 s`));
    }, 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('runMain: a closed stdout or stderr loses the output, not the exit code', () => {
  it.each([['--help'], ['--version'], ['print', 'x']])(
    '%s with stdout closed: exit 0, no crash',
    async (...argv) => {
      const result = await runTool(argv, 'stdout');
      expect(result).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
    },
  );

  it('a usage error with stderr closed: exit 2', async () => {
    const result = await runTool(['bogus'], 'stderr');
    expect(result).toEqual({ code: 2, signal: null, stdout: '', stderr: '' });
  });

  it('a failing action with stderr closed: exit 1', async () => {
    const result = await runTool(['fail'], 'stderr');
    expect(result).toEqual({ code: 1, signal: null, stdout: '', stderr: '' });
  });

  it.runIf(existsSync('/dev/full'))(
    'a stdout that cannot be written (/dev/full) is said on stderr, exit 1',
    async () => {
      const result = await runTool(['--help'], 'stdout', '/dev/full');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^pipe-tool: cannot write to stdout: ENOSPC: no space left on device, write\n$/,
      );
    },
  );
});

describe('CommandRouter.run on Node streams, in process', () => {
  it("takes the 'error' event of a stream whose write fails: the run resolves to its exit code", async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const { router } = deployRouter();
    expect(await router.run(['--help'], { stdout: broken, stderr: broken, env: {} })).toBe(0);
    expect(await router.run(['bogus'], { stdout: broken, stderr: broken, env: {} })).toBe(2);
    // events.once would reject on the 'error' event: only 'close' is awaited
    if (!broken.closed) await new Promise((resolve) => broken.once('close', resolve));
    expect(broken.errored).toMatchObject({ code: 'EPIPE' });
  });

  it('leaves no listener behind on a stream that works, however many runs write to it', async () => {
    const stream = new PassThrough();
    stream.resume();
    const { router } = deployRouter();
    const io = { stdout: stream, stderr: stream, env: {} };
    const counts: number[] = [];
    for (let run = 0; run < 30; run++) {
      expect(await router.run(['--version'], io)).toBe(0);
      counts.push(stream.listenerCount('error'));
    }
    expect(Math.max(...counts)).toBeLessThanOrEqual(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.listenerCount('error')).toBe(0);
  });
});

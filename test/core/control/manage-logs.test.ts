import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastLines, tailLog } from '../../../packages/core/src/groups/logs.js';
import { FileSink } from '../../../packages/core/src/log/FileSink.js';
import { Logger } from '../../../packages/core/src/log/Logger.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-tail-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

/** Collects what a tail yields; `until` waits (with a deadline) for a number of lines. */
function follow(path: string, lines = 0) {
  const controller = new AbortController();
  const seen: string[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const line of tailLog(path, { lines, follow: true, signal: controller.signal, pollMs: 20 }))
        seen.push(line);
    } catch (err) {
      failure = err;
    }
  })();
  return {
    seen,
    async until(count: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (seen.length < count) {
        if (failure) throw failure;
        if (Date.now() > deadline)
          throw new Error(`saw ${seen.length} of ${count} lines: ${seen.slice(-3).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      controller.abort();
      await done;
      if (failure) throw failure;
    },
  };
}

describe('lastLines and tailLog', () => {
  it('reads the last lines, across chunk boundaries and multi-byte characters', async () => {
    const path = join(dir, 'a.log');
    const long = 'é'.repeat(40_000);
    writeFileSync(path, `${[...numbered(1, 50), long, ...numbered(51, 60)].join('\n')}\n`);
    expect(await lastLines(path, 3)).toEqual(['line 58', 'line 59', 'line 60']);
    expect((await lastLines(path, 11))[0]).toBe(long);
    expect(await lastLines(join(dir, 'none.log'), 5)).toEqual([]);
    const lines: string[] = [];
    for await (const line of tailLog(path, { lines: 2 })) lines.push(line);
    expect(lines).toEqual(['line 59', 'line 60']);
  });

  it('reads only past an offset (the lines of this run), and a last line without newline', async () => {
    const path = join(dir, 'b.log');
    writeFileSync(path, `${numbered(1, 5).join('\n')}\n`);
    const offset = 7 * 5;
    appendFileSync(path, 'new 1\nnew 2');
    expect(await lastLines(path, 10, offset)).toEqual(['new 1', 'new 2']);
  });

  it('follows appended lines, a rotation (rename, new file) and a truncation, until aborted', async () => {
    const path = join(dir, 'c.log');
    writeFileSync(path, `${numbered(1, 3).join('\n')}\n`);
    const tail = follow(path, 2);
    await tail.until(2);
    appendFileSync(path, 'line 4\nline 5 is ');
    await tail.until(3);
    appendFileSync(path, 'complete\n');
    await tail.until(4);
    // rotation: the old file gets a last line, is renamed away, and a new file starts
    appendFileSync(path, 'line 6\n');
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'line 7\n');
    await tail.until(6);
    truncateSync(path, 0);
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(path, 'line 8\n');
    await tail.until(7);
    await tail.stop();
    expect(tail.seen).toEqual([
      'line 2',
      'line 3',
      'line 4',
      'line 5 is complete',
      'line 6',
      'line 7',
      'line 8',
    ]);
  });

  it("follows a FileSink's own rotation without losing or repeating lines", async () => {
    const sink = FileSink.open({ dir, baseTitle: 'g', rotation: { size: '2K', maxFiles: 5 } });
    const logger = new Logger({ baseTitle: 'g', sinks: [sink] });
    const path = join(dir, 'g.log');
    const tail = follow(path, 0);
    let n = 0;
    for (let batch = 0; batch < 8; batch++) {
      for (let i = 0; i < 12; i++) logger.info(`record ${++n}`);
      await logger.flush();
      await tail.until(n);
    }
    await logger.close();
    await tail.stop();
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(tail.seen.map((line) => Number(/record (\d+)$/.exec(line)?.[1]))).toEqual(
      Array.from({ length: n }, (_, i) => i + 1),
    );
  });

  it('refuses a bad line count and a missing file', async () => {
    await expect(tailLog(join(dir, 'x.log'), { lines: -1 }).next()).rejects.toThrow(
      'drover: tailLog lines is -1; expected an integer >= 0',
    );
    await expect(tailLog(join(dir, 'x.log')).next()).rejects.toThrow(
      `drover: cannot read log file '${join(dir, 'x.log')}' (ENOENT)`,
    );
  });
});

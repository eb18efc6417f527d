import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../../packages/core/src/log/FileSink.js';
import { Logger } from '../../../packages/core/src/log/Logger.js';
import { OutputCapture } from '../../../packages/core/src/log/OutputCapture.js';
import { closeOf, FIXTURES, killChild, makeTempDir, removeDir } from './helpers.js';

const MiB = 1024 * 1024;

describe('a worker flooding its stdout', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let logger: Logger | undefined;

  afterEach(async () => {
    await killChild(child);
    await logger?.close();
    await removeDir(dir);
    child = logger = dir = undefined;
  });

  it('is slowed to disk speed: bounded memory, nothing lost, files within rotation bounds', async () => {
    dir = await makeTempDir();
    const sizeBytes = 256 * 1024;
    const maxFiles = 3;
    const sink = FileSink.open({
      dir,
      baseTitle: 'flood',
      rotation: { size: '256K', interval: false, maxFiles },
      maxPendingBytes: 64 * 1024,
    });
    logger = new Logger({ baseTitle: 'flood', sinks: [sink] });

    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 25);

    const started = Date.now();
    child = spawn(process.execPath, [join(FIXTURES, 'flood.mjs'), '3000', '100'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const log = logger.worker(1, child.pid!);
    let lines = 0;
    let bytes = 0;
    let pendingPeak = 0;
    const capture = new OutputCapture(
      child.stdout!,
      (text) => {
        lines++;
        bytes += text.length + 1;
        log.line('stdout', text);
        pendingPeak = Math.max(pendingPeak, sink.pendingBytes);
      },
      { backPressure: logger },
    );
    const exit = await closeOf(child, 60_000);
    capture.flush();
    await logger.flush();
    clearInterval(sampler);
    const elapsedMs = Date.now() - started;
    const rssGrowth = rssPeak - rssBefore;

    console.info(
      `flood: ${lines} lines, ${(bytes / MiB).toFixed(1)} MiB in ${elapsedMs} ms ` +
        `(${Math.round(lines / (elapsedMs / 1000))} lines/s), ${capture.pauses} pauses, ` +
        `RSS growth ${(rssGrowth / MiB).toFixed(1)} MiB, peak queue ${(pendingPeak / 1024).toFixed(0)} KiB`,
    );
    expect(exit).toEqual({ code: 0, signal: null });
    expect(capture.pauses).toBeGreaterThan(0);
    expect(sink.droppedLines).toBe(0);
    // the queue stays under the drop limit (4 × maxPendingBytes): back-pressure, not dropping, held it
    expect(pendingPeak).toBeGreaterThan(64 * 1024);
    expect(pendingPeak).toBeLessThanOrEqual(4 * 64 * 1024);
    expect(rssGrowth).toBeLessThan(50 * MiB);

    // the current file and exactly maxFiles rotated ones, each within size + one write batch + one line
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(['flood.log', 'flood.log.1', 'flood.log.2', 'flood.log.3']);
    const slack = Math.floor(sizeBytes / 16) + 16 * 1024;
    for (const name of names) {
      expect((await stat(join(dir, name))).size).toBeLessThanOrEqual(sizeBytes + slack);
    }

    // the kept files hold an unbroken run of lines ending with the worker's last line
    const text = (
      await Promise.all(
        ['flood.log.3', 'flood.log.2', 'flood.log.1', 'flood.log'].map((n) =>
          readFile(join(dir!, n), 'utf8'),
        ),
      )
    ).join('');
    const kept = text.split('\n').filter(Boolean);
    const last = kept.at(-1)!;
    const done = /\[flood:1 #\d+\] done (\d+)$/.exec(last);
    expect(done, last).not.toBeNull();
    const total = Number(done![1]);
    expect(lines).toBe(total + 1);
    const seqs = kept.slice(0, -1).map((line) => Number(/ seq (\d+) x+$/.exec(line)?.[1]));
    expect(seqs.at(-1)).toBe(total - 1);
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] !== seqs[i - 1]! + 1) throw new Error(`gap in the log: ${seqs[i - 1]} then ${seqs[i]}`);
    }
  });
});

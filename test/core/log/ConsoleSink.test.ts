import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsoleSink, colorWanted } from '../../../packages/core/src/log/ConsoleSink.js';
import type { LogLevel } from '../../../packages/core/src/log/levels.js';
import type { LogRecord } from '../../../packages/core/src/log/LogRecord.js';
import { waitFor } from './helpers.js';

function record(level: LogLevel, message = `a ${level} line`): LogRecord {
  return { time: Date.now(), level, baseTitle: 'mailer', pin: 1, pid: 4242, message };
}

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

/** A stream that accepts a write only when the test says so, like a pipe nobody reads. */
class SlowStream extends Writable {
  written = '';
  #pending: (() => void)[] = [];
  constructor() {
    super({ highWaterMark: 1024 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written += chunk.toString();
    this.#pending.push(callback);
  }
  release(): void {
    // one at a time, like a reader catching up
    const step = () => {
      const next = this.#pending.shift();
      if (!next) return;
      next();
      setImmediate(step);
    };
    step();
  }
}

describe('ConsoleSink', () => {
  it('writes debug, info and notice to stdout and warning and above to stderr', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const err = collect(stderr);
    const sink = new ConsoleSink({ stdout, stderr, color: false });
    for (const level of ['debug', 'info', 'notice', 'warning', 'error', 'fatal'] as const)
      sink.write(record(level));
    await sink.flush();
    expect(out()).toMatch(
      /^\S+Z debug {3}\[mailer:1 #4242\] a debug line\n\S+Z info {4}.* a info line\n\S+Z notice .* a notice line\n$/,
    );
    expect(err()).toMatch(/ a warning line\n.* a error line\n.* a fatal line\n$/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no colour codes expected
    expect(out() + err()).not.toMatch(/\u001b/);
    await sink.close();
  });

  it('colours a terminal, and follows NO_COLOR, FORCE_COLOR and TERM=dumb as the CLI does', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const pipe = new PassThrough();
    expect(colorWanted(tty, {})).toBe(true);
    expect(colorWanted(pipe, {})).toBe(false);
    expect(colorWanted(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorWanted(tty, { TERM: 'dumb' })).toBe(false);
    expect(colorWanted(pipe, { FORCE_COLOR: '1' })).toBe(true);
    // an empty FORCE_COLOR counts as unset: the stream decides
    expect(colorWanted(pipe, { FORCE_COLOR: '' })).toBe(false);
    expect(colorWanted(tty, { FORCE_COLOR: '' })).toBe(true);
    expect(colorWanted(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorWanted(tty, { FORCE_COLOR: 'false', NO_COLOR: '1' })).toBe(false);
    // NO_COLOR wins, as in @drover/command: the CLI's messages and the log lines agree
    expect(colorWanted(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(pipe, { FORCE_COLOR: '1', TERM: 'dumb' })).toBe(true);
  });

  it('is congested while a stream buffers, drops past its hard limit, and says how many it dropped', async () => {
    const stdout = new SlowStream();
    const stderr = new PassThrough();
    const err = collect(stderr);
    const sink = new ConsoleSink({
      stdout,
      stderr,
      color: false,
      maxPendingBytes: 2048,
      hardLimitBytes: 8192,
    });
    for (let i = 0; i < 200; i++) sink.write(record('info', `line ${i} ${'x'.repeat(80)}`));
    expect(sink.congested).toBe(true);
    expect(sink.droppedLines).toBeGreaterThan(0);
    const dropped = sink.droppedLines;
    const drained = sink.whenDrained();
    stdout.release();
    await drained;
    expect(sink.congested).toBe(false);
    await waitFor('the stream to catch up', () => stdout.writableLength === 0);
    expect(err()).toBe('');

    sink.write(record('info', 'after'));
    const flushed = sink.flush();
    stdout.release();
    await flushed;
    expect(stdout.writableLength).toBe(0);
    const lines = stdout.written.split('\n').filter(Boolean);
    expect(lines).toHaveLength(200 - dropped + 1);
    expect(lines.at(-1)).toMatch(/ after$/);
    expect(err()).toMatch(
      new RegExp(
        `^\\S+Z warning \\[mailer:master #${process.pid}\\] dropped ${dropped} log lines: stdout was not read fast enough dropped=${dropped}\n$`,
      ),
    );
  });

  it('keeps running when its stream breaks, dropping the lines', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const sink = new ConsoleSink({ stdout: broken, stderr: new PassThrough(), color: false });
    sink.write(record('info'));
    await waitFor('the error', () => broken.destroyed);
    expect(() => sink.write(record('info'))).not.toThrow();
    expect(sink.droppedLines).toBe(1);
    await sink.close();
  });

  it('a stream handed in that fails before the first line is caught, and its lines are counted as dropped', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const sink = new ConsoleSink({ stdout: out, stderr: err, color: false });
    // without the sink's listener this 'error' would be unhandled and end the process
    out.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await new Promise((resolve) => setImmediate(resolve));
    sink.write(record('info'));
    expect(sink.droppedLines).toBe(1);
  });
});

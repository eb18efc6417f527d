import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../packages/core/src/errors.js';
import type { BackPressure } from '../../../packages/core/src/log/LogSink.js';
import { LINE_CONTINUES, OutputCapture } from '../../../packages/core/src/log/OutputCapture.js';
import { closeOf, FIXTURES, killChild, waitFor } from './helpers.js';

function capture(opts: { maxLineBytes?: number } = {}) {
  const stream = new PassThrough();
  const lines: string[] = [];
  const output = new OutputCapture(stream, (text) => lines.push(text), opts);
  return { stream, lines, output };
}

/** A sink stand-in whose congestion the test switches on and off. */
class Gate implements BackPressure {
  congested = true;
  #waiters: (() => void)[] = [];
  whenDrained(): Promise<void> {
    return this.congested ? new Promise((resolve) => this.#waiters.push(resolve)) : Promise.resolve();
  }
  open(): void {
    this.congested = false;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

describe('OutputCapture', () => {
  it('emits one call per line, across chunk boundaries, without newline or CR', () => {
    const { stream, lines } = capture();
    stream.write('first\r\nsec');
    stream.write('ond\n\nthi');
    expect(lines).toEqual(['first', 'second', '']);
    stream.write('rd');
    expect(lines).toHaveLength(3);
  });

  it('emits a last line without newline on flush() and at the end of the stream', async () => {
    const { stream, lines, output } = capture();
    stream.write('no newline yet');
    output.flush();
    expect(lines).toEqual(['no newline yet']);
    output.flush();
    expect(lines).toHaveLength(1);
    stream.end('tail');
    await waitFor('end of stream', () => lines.length === 2);
    expect(lines[1]).toBe('tail');
  });

  it('takes a read error as the end of the stream: the held line is emitted, nothing is thrown', () => {
    const { stream, lines } = capture();
    stream.write('last words');
    stream.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    return waitFor('the held line', () => lines.length === 1).then(() =>
      expect(lines).toEqual(['last words']),
    );
  });

  it('decodes a UTF-8 character split between two chunks', () => {
    const { stream, lines } = capture();
    const bytes = Buffer.from('grüße 🚀\n');
    stream.write(bytes.subarray(0, 3));
    stream.write(bytes.subarray(3, 11));
    stream.write(bytes.subarray(11));
    expect(lines).toEqual(['grüße 🚀']);
  });

  it('splits a line longer than maxLineBytes into marked pieces at character boundaries', () => {
    const { stream, lines } = capture({ maxLineBytes: 64 });
    const long = `${'a'.repeat(62)}ééé${'b'.repeat(100)}`;
    stream.write(`${long.slice(0, 40)}`);
    stream.write(`${long.slice(40)}\nnext\n`);
    const pieces = lines.slice(0, -1);
    expect(lines.at(-1)).toBe('next');
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces.slice(0, -1)) {
      expect(piece.endsWith(LINE_CONTINUES)).toBe(true);
      expect(Buffer.byteLength(piece.slice(0, -LINE_CONTINUES.length))).toBeLessThanOrEqual(64);
    }
    expect(pieces.at(-1)!.endsWith(LINE_CONTINUES)).toBe(false);
    expect(
      pieces.map((p) => (p.endsWith(LINE_CONTINUES) ? p.slice(0, -LINE_CONTINUES.length) : p)).join(''),
    ).toBe(long);
    expect(lines.join('')).not.toContain('\ufffd');
  });

  it('gives back exactly the lines written, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)),
          { maxLength: 20 },
        ),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 10 }),
        (written, cuts) => {
          const { stream, lines, output } = capture();
          const bytes = Buffer.from(written.map((line) => `${line}\n`).join(''));
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const next = Math.min(bytes.length, at + cuts[i % cuts.length]!);
            stream.write(bytes.subarray(at, next));
            at = next;
          }
          output.flush();
          expect(lines).toEqual(written);
        },
      ),
    );
  });

  it('rejects a maxLineBytes that is not an integer of at least 16', () => {
    expect(() => new OutputCapture(new PassThrough(), () => {}, { maxLineBytes: 3 })).toThrow(ConfigError);
    expect(() => new OutputCapture(new PassThrough(), () => {}, { maxLineBytes: 3 })).toThrow(
      /'maxLineBytes' is 3/,
    );
  });

  describe('with back-pressure, reading a real child process', () => {
    let child: ChildProcess | undefined;

    afterEach(async () => {
      await killChild(child);
      child = undefined;
    });

    it('stops the writer while the log is congested and loses nothing when it drains', async () => {
      child = spawn(process.execPath, [join(FIXTURES, 'flood.mjs'), '3000', '100'], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      let written = 0;
      let finished = false;
      child.on('message', (message: { written: number; finished?: boolean }) => {
        written = message.written;
        finished = message.finished === true;
      });
      const gate = new Gate();
      let received = 0;
      let expected = 0;
      let last = '';
      const output = new OutputCapture(
        child.stdout!,
        (text) => {
          received++;
          last = text;
          const seq = /^seq (\d+) /.exec(text)?.[1];
          if (seq === undefined) return;
          if (Number(seq) !== expected) throw new Error(`expected seq ${expected}, got ${text.slice(0, 20)}`);
          expected++;
        },
        { backPressure: gate },
      );

      // congested from the start: after its first chunk the pipe is paused and the child blocks
      await waitFor('the first lines', () => received > 0);
      await waitFor('the child to report progress', () => written > 0);
      const stalledAt = written;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(output.pauses).toBe(1);
      expect(written).toBe(stalledAt);
      expect(finished).toBe(false);
      // what was read before the pause: at most a few pipe reads, not the child's output
      expect(received * 110).toBeLessThan(1024 * 1024);

      gate.open();
      const exit = await closeOf(child);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(finished).toBe(true);
      expect(last).toBe(`done ${expected}`);
      expect(expected).toBe(written);
      expect(received).toBe(expected + 1);
    });
  });
});

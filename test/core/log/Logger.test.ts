import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../packages/core/src/errors.js';
import type { LogLevel } from '../../../packages/core/src/log/levels.js';
import { Logger } from '../../../packages/core/src/log/Logger.js';
import type { LogRecord } from '../../../packages/core/src/log/LogRecord.js';
import type { LogSink, SinkNotice } from '../../../packages/core/src/log/LogSink.js';

/** Keeps what it is given; its congestion and notices are driven by the test. */
class MemorySink implements LogSink {
  records: LogRecord[] = [];
  closed = false;
  congested = false;
  #drained: (() => void)[] = [];
  #listeners: ((notice: SinkNotice) => void)[] = [];
  write(record: LogRecord): void {
    this.records.push(record);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
  }
  whenDrained(): Promise<void> {
    return this.congested ? new Promise((resolve) => this.#drained.push(resolve)) : Promise.resolve();
  }
  drain(): void {
    this.congested = false;
    for (const resolve of this.#drained.splice(0)) resolve();
  }
  onNotice(listener: (notice: SinkNotice) => void): void {
    this.#listeners.push(listener);
  }
  tell(notice: SinkNotice): void {
    for (const listener of this.#listeners) listener(notice);
  }
  levels(): LogLevel[] {
    return this.records.map((r) => r.level);
  }
}

describe('Logger', () => {
  it('writes the master records at or above its level to every sink', () => {
    const a = new MemorySink();
    const b = new MemorySink();
    const logger = new Logger({ baseTitle: 'mailer', pid: 4200, sinks: [a, b] });
    logger.debug('hidden');
    logger.info('started', { workers: 4 });
    logger.notice('n');
    logger.warning('w');
    logger.error('e');
    logger.fatal('f');
    expect(a.levels()).toEqual(['info', 'notice', 'warning', 'error', 'fatal']);
    expect(b.records).toEqual(a.records);
    expect(a.records[0]).toEqual({
      time: expect.any(Number),
      level: 'info',
      baseTitle: 'mailer',
      pin: 'master',
      pid: 4200,
      message: 'started',
      fields: { workers: 4 },
    });
    expect(a.records[1]).not.toHaveProperty('fields');
  });

  it('logs worker stdout at info and stderr at warning, with pin, pid and stream', () => {
    const sink = new MemorySink();
    const logger = new Logger({ baseTitle: 'mailer', sinks: [sink] });
    const worker = logger.worker(2, 4242);
    worker.line('stdout', 'hello');
    worker.line('stderr', 'oops');
    worker.log('error', 'task failed', { task: 7 });
    worker.log('debug', 'hidden');
    expect(sink.records.map(({ time: _, ...rest }) => rest)).toEqual([
      { level: 'info', baseTitle: 'mailer', pin: 2, pid: 4242, stream: 'stdout', message: 'hello' },
      { level: 'warning', baseTitle: 'mailer', pin: 2, pid: 4242, stream: 'stderr', message: 'oops' },
      { level: 'error', baseTitle: 'mailer', pin: 2, pid: 4242, message: 'task failed', fields: { task: 7 } },
    ]);
  });

  it('applies a new level and rejects one that is not a level', () => {
    const sink = new MemorySink();
    const logger = new Logger({ baseTitle: 'mailer', level: 'debug', sinks: [sink] });
    logger.debug('shown');
    logger.setLevel('error');
    expect(logger.level).toBe('error');
    logger.warning('hidden');
    logger.worker(1, 1).line('stderr', 'hidden too');
    logger.error('shown');
    expect(sink.levels()).toEqual(['debug', 'error']);
    expect(() => logger.setLevel('loud' as LogLevel)).toThrow(ConfigError);
    expect(() => new Logger({ baseTitle: 'm', level: 'verbose' as LogLevel, sinks: [] })).toThrow(
      /'logLevel' is "verbose"/,
    );
  });

  it('keeps logging to the other sinks when one throws', () => {
    const good = new MemorySink();
    const bad: LogSink = {
      write() {
        throw new Error('broken sink');
      },
      flush: async () => {},
      close: async () => {},
    };
    const logger = new Logger({ baseTitle: 'mailer', sinks: [bad, good] });
    expect(() => logger.info('still here')).not.toThrow();
    expect(good.records).toHaveLength(1);
  });

  it("tells a sink's trouble through the other sinks", () => {
    const file = new MemorySink();
    const terminal = new MemorySink();
    const logger = new Logger({ baseTitle: 'mailer', pid: 4200, sinks: [file, terminal] });
    file.tell({
      level: 'error',
      message: "log file 'x.log' cannot be written (EFBIG)",
      fields: { dropped: 3 },
    });
    expect(file.records).toHaveLength(0);
    expect(terminal.records).toEqual([
      expect.objectContaining({ level: 'error', pin: 'master', pid: 4200, fields: { dropped: 3 } }),
    ]);
    expect(logger.congested).toBe(false);
  });

  it("keeps a sink's failure as its problem until that file recovers (status shows it)", () => {
    const file = new MemorySink();
    const logger = new Logger({ baseTitle: 'mailer', sinks: [file] });
    expect(logger.problem).toBeNull();
    const failing = "log file 'x.log' cannot be written (EFBIG); dropping its lines until it can";
    file.tell({ level: 'error', message: failing, fields: { file: 'x.log', dropped: 0 } });
    file.tell({
      level: 'error',
      message: "log file 'x-error.log' cannot be written (EFBIG)",
      fields: { file: 'x-error.log' },
    });
    expect(logger.problem).toBe(failing);
    file.tell({ level: 'warning', message: "log file 'x.log' is writable again", fields: { file: 'x.log' } });
    expect(logger.problem).toBe("log file 'x-error.log' cannot be written (EFBIG)");
    file.tell({
      level: 'warning',
      message: "log file 'x-error.log' is writable again",
      fields: { file: 'x-error.log' },
    });
    expect(logger.problem).toBeNull();
  });

  it('is congested while any sink is, and drained when all are', async () => {
    const a = new MemorySink();
    const b = new MemorySink();
    const logger = new Logger({ baseTitle: 'mailer', sinks: [a, b] });
    a.congested = true;
    b.congested = true;
    expect(logger.congested).toBe(true);
    let drained = false;
    const waiting = logger.whenDrained().then(() => {
      drained = true;
    });
    a.drain();
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    b.drain();
    await waiting;
    expect(logger.congested).toBe(false);
  });

  it('closes every sink and discards later records', async () => {
    const sink = new MemorySink();
    const logger = new Logger({ baseTitle: 'mailer', sinks: [sink] });
    await logger.close();
    expect(sink.closed).toBe(true);
    logger.error('too late');
    logger.worker(1, 1).line('stdout', 'too late');
    expect(sink.records).toHaveLength(0);
  });
});

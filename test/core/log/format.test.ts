import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeControl, formatFieldValue, formatLogLine } from '../../../packages/core/src/log/format.js';
import type { LogRecord } from '../../../packages/core/src/log/LogRecord.js';

const TIME = Date.parse('2026-11-23T17:30:00.123Z');

function record(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    time: TIME,
    level: 'info',
    baseTitle: 'mailer',
    pin: 2,
    pid: 4242,
    message: 'message',
    ...overrides,
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
const ANSI = /\u001b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
const FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

describe('formatLogLine', () => {
  it('writes time, padded level, [baseTitle:pin #pid], message and fields on one line', () => {
    expect(formatLogLine(record({ fields: { key: 'value' } }))).toBe(
      '2026-11-23T17:30:00.123Z info    [mailer:2 #4242] message key=value',
    );
    expect(
      formatLogLine(record({ pin: 'master', pid: 4200, level: 'warning', message: 'worker 2 crashed' })),
    ).toBe('2026-11-23T17:30:00.123Z warning [mailer:master #4200] worker 2 crashed');
  });

  it('quotes field values only when they need it', () => {
    const line = formatLogLine(
      record({
        message: 'exit',
        fields: {
          code: 1,
          signal: null,
          reason: 'crash',
          error: new Error('boom here'),
          'odd key': 'a=b',
          obj: { a: 1 },
        },
      }),
    );
    expect(line).toMatch(
      / exit code=1 signal=null reason=crash error="boom here" "odd key"="a=b" obj=\{"a":1\}$/,
    );
    expect(formatFieldValue('')).toBe('""');
    expect(formatFieldValue(10n)).toBe('10');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(formatFieldValue(circular)).toBe('"[unserializable]"');
  });

  it('escapes line breaks and terminal controls so a worker cannot forge a line', () => {
    const forged = 'ok\n2026-11-23T17:30:00.000Z fatal   [mailer:master #1] fake\r\u001b[2K\u2028end';
    const line = formatLogLine(record({ message: forged }));
    expect(line).not.toMatch(FORBIDDEN);
    expect(line).toContain('ok\\n2026-11-23T17:30:00.000Z fatal');
    expect(line).toContain('\\r\\x1b[2K\\u2028end');
    expect(escapeControl('tab\tstays')).toBe('tab\tstays');
  });

  it('never lets a control character through, whatever the message and fields', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.dictionary(fc.string(), fc.string({ unit: 'binary' })),
        (message, fields) => {
          const line = formatLogLine(record({ message, fields }));
          expect(line).not.toMatch(FORBIDDEN);
        },
      ),
    );
  });

  it('adds colours without changing the text', () => {
    const plain = formatLogLine(record({ level: 'fatal' }));
    const colored = formatLogLine(record({ level: 'fatal' }), { color: true });
    expect(colored).not.toBe(plain);
    expect(colored.replace(ANSI, '')).toBe(plain);
  });
});

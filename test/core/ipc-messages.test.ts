import { describe, expect, it } from 'vitest';
import { checkWorkerMessage, serializeError } from '../../packages/core/src/ipc/messages.js';

describe('serializeError: whatever user code throws becomes channel data', () => {
  it('keeps an Error with its name, stack and code', () => {
    const err = Object.assign(new TypeError('bad'), { code: 'EBAD' });
    expect(serializeError(err)).toMatchObject({ name: 'TypeError', message: 'bad', code: 'EBAD' });
    expect(serializeError(err).stack).toContain('TypeError: bad');
  });

  it('keeps an error-like object, a string and undefined', () => {
    expect(serializeError({ message: 'x', code: 'EX', name: 'Custom' })).toEqual({
      name: 'Custom',
      message: 'x',
      code: 'EX',
    });
    expect(serializeError('str')).toEqual({ name: 'Error', message: 'str' });
    expect(serializeError(undefined)).toEqual({ name: 'Error', message: 'undefined' });
  });

  it('does not throw for a value that has no string form', () => {
    expect(serializeError(Object.create(null)).message).toBe(
      '(a thrown value with no string form: an object)',
    );
  });
});

describe('checkWorkerMessage', () => {
  it('passes well-formed messages and unknown types', () => {
    const results = {
      $drover: 'results',
      results: [
        [1, 0, 'v'],
        [2, 2],
      ],
    };
    expect(checkWorkerMessage(results)).toBe(results);
    expect(checkWorkerMessage({ $drover: 'from-a-newer-runtime' })).toEqual({
      $drover: 'from-a-newer-runtime',
    });
  });

  it('names what is wrong with a malformed one', () => {
    expect(checkWorkerMessage({ $drover: 'results', results: 5 })).toBe('results is not an array');
    expect(checkWorkerMessage({ $drover: 'done', code: 300 })).toBe(
      'code is not an exit code (an integer 0-255)',
    );
    expect(checkWorkerMessage({ $drover: 'report', seq: 1 })).toBe('seq or executions is not a count');
  });

  it("makes a reported error safe to read, and a failed result's error too", () => {
    expect(checkWorkerMessage({ $drover: 'fatal', error: 42 })).toEqual({
      $drover: 'fatal',
      error: { name: 'Error', message: '(the worker reported number 42 as its error)' },
    });
    const m = checkWorkerMessage({ $drover: 'results', results: [[3, 1, null]] }) as {
      results: unknown[][];
    };
    expect(m.results[0]![2]).toMatchObject({
      name: 'Error',
      message: '(the worker reported null as its error)',
    });
  });
});

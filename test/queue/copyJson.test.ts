import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyJson } from '../../packages/core/src/queue/memory/copyJson.js';

/** What the IPC channel and a Redis round trip would make of a value (`undefined` reads as null). */
function viaJson(value: unknown): { ok: true; value: unknown } | { ok: false } {
  if (value === undefined) return { ok: true, value: null };
  try {
    const text = JSON.stringify(value);
    return text === undefined ? { ok: false } : { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const hostile = fc.oneof(
  fc.constant(undefined),
  fc.constant(Number.NaN),
  fc.constant(-0),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.date({ noInvalidDate: true }),
  fc.constant({ toJSON: () => 'custom' }),
  fc.constant(Object.create(null)),
  fc.constant(new Map([[1, 2]])),
  fc.constant(Object.assign([1], { 2: 3 })), // a sparse array: a hole at index 1
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
);
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.jsonValue(), hostile),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('node'), { maxKeys: 4 }),
  ),
})).node;

describe('copyJson: the memory queue copies payloads and results as JSON would carry them', () => {
  it('equals a JSON round trip for any value, or refuses with EPAYLOAD where JSON cannot carry it', () => {
    fc.assert(
      fc.property(value, (v) => {
        const expected = viaJson(v);
        if (!expected.ok) {
          expect(() => copyJson(v, 'payload')).toThrow(expect.objectContaining({ code: 'EPAYLOAD' }));
          return;
        }
        const copy = copyJson(v, 'payload');
        expect(copy).toStrictEqual(expected.value);
        // a copy, never the same object
        if (typeof v === 'object' && v !== null) expect(copy).not.toBe(v);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses cycles with EPAYLOAD', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => copyJson(cyclic, 'payload')).toThrow(expect.objectContaining({ code: 'EPAYLOAD' }));
  });
});

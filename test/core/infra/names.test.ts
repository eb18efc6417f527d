import { describe, expect, it } from 'vitest';
import { digest64, randomName } from '../../../packages/core/src/runtime/names.js';

describe('names', () => {
  it('digest64 is FNV-1a 64 (published test vectors) over UTF-8', () => {
    expect(digest64('')).toBe('cbf29ce484222325');
    expect(digest64('a')).toBe('af63dc4c8601ec8c');
    expect(digest64('foobar')).toBe('85944171f73967e8');
    // bytes, not UTF-16 code units: 'é' is two bytes
    expect(digest64('é')).not.toBe(digest64('\u00e9'.normalize('NFD')));
    expect(digest64('/run/drover-0')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('randomName gives the length asked, from [0-9a-z], and differs between calls', () => {
    for (const length of [1, 7, 12, 16, 40])
      expect(randomName(length)).toMatch(new RegExp(`^[0-9a-z]{${length}}$`));
    const names = new Set(Array.from({ length: 1000 }, () => randomName(12)));
    expect(names.size).toBe(1000);
  });
});

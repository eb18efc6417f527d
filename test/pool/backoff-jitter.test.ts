// docs/pool.md, backoff: `{ type: 'exponential', delayMs, maxDelayMs?, jitter? }` lowers each delay
// at random by up to `jitter` (0 to 1); the default is exponential from 100 ms with jitter 0.2.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveBackoff } from '../../packages/core/src/pool/options.js';

const error = new Error('x');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('backoff jitter', () => {
  it('lowers the delay by jitter times a random fraction: 0 keeps it, 0.5 of 0.5 takes a quarter off', () => {
    const random = vi.spyOn(Math, 'random');
    const backoff = resolveBackoff({ type: 'exponential', delayMs: 1000, maxDelayMs: 8000, jitter: 0.5 });
    random.mockReturnValue(0);
    expect(backoff(1, error)).toBe(1000);
    random.mockReturnValue(0.5);
    expect(backoff(1, error)).toBe(750);
    expect(backoff(3, error)).toBe(3000); // 4000, a quarter off
    random.mockReturnValue(0.998);
    expect(backoff(1, error)).toBe(501);
    expect(backoff(9, error)).toBe(4008); // the cap, 8000, lowered too
  });

  it('the default backoff has jitter 0.2; an object without jitter has none (as BullMQ)', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const byDefault = resolveBackoff(undefined);
    expect([1, 2, 3].map((a) => byDefault(a, error))).toEqual([90, 180, 360]);
    const plain = resolveBackoff({ type: 'exponential', delayMs: 100 });
    expect([1, 2, 3].map((a) => plain(a, error))).toEqual([100, 200, 400]);
    expect(random).toHaveBeenCalled();
  });

  it('spreads the delays of many retries over [delay * (1 - jitter), delay]', () => {
    const backoff = resolveBackoff({ type: 'exponential', delayMs: 1000, jitter: 0.5 });
    const delays = Array.from({ length: 200 }, () => backoff(1, error));
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1000);
    }
    // a delay without jitter would be the same 200 times
    expect(new Set(delays).size).toBeGreaterThan(10);
  });
});

// docs/operations.md, `restart`: each further fast crash waits between half and all of a ceiling,
// initialDelayMs times `factor` per crash, at most maxDelayMs.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveManageConfig } from '../../packages/core/src/config.js';
import { RestartPolicy } from '../../packages/core/src/master/RestartPolicy.js';
import { is, type LoopGroup, startLoop } from './lifecycle/helpers.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

/** Delays for streaks 1..n with the jitter at its top (the ceiling) and at its bottom (half of it). */
function delays(restart: Record<string, unknown>, n: number): { top: unknown[]; bottom: unknown[] } {
  const resolved = resolveManageConfig({ baseTitle: 'backoff', restart }).restart;
  const top = new RestartPolicy(resolved, () => 1);
  const bottom = new RestartPolicy(resolved, () => 0);
  const streaks = Array.from({ length: n }, (_, i) => i + 1);
  return { top: streaks.map((s) => top.delayFor(s)), bottom: streaks.map((s) => bottom.delayFor(s)) };
}

describe('RestartPolicy backoff ceilings', () => {
  it('grow by restart.factor per fast crash, up to maxDelayMs', () => {
    expect(delays({ initialDelayMs: 100, maxDelayMs: 5000, factor: 3 }, 6)).toEqual({
      top: [0, 100, 300, 900, 2700, 5000],
      bottom: [0, 50, 150, 450, 1350, 2500],
    });
    expect(delays({ initialDelayMs: 100, maxDelayMs: 5000, factor: 1.5 }, 5).top).toEqual([
      0, 100, 150, 225, 338,
    ]);
    // factor 1: the same ceiling every time
    expect(delays({ initialDelayMs: 100, maxDelayMs: 5000, factor: 1 }, 5).top).toEqual([
      0, 100, 100, 100, 100,
    ]);
  });

  it('double by default', () => {
    expect(delays({ initialDelayMs: 100, maxDelayMs: 1000 }, 7).top).toEqual([
      0, 100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('stop at maxRestarts: the next streak gets no delay, null', () => {
    expect(delays({ initialDelayMs: 100, factor: 4, maxRestarts: 3 }, 4).top).toEqual([0, 100, 400, null]);
  });
});

describe('a group with restart.factor 5', () => {
  it('backs a crashing worker off by its ceilings: 100, 500, 2500 ms', async () => {
    current = startLoop(
      { maxWorkerNum: 1, restart: { initialDelayMs: 100, maxDelayMs: 10_000, factor: 5 } },
      { exitCode: 3 },
    );
    const { group } = current;
    await group.waitEvent(is('workerBackoff'), 'the third backoff', 3, 20_000);
    const backoffs = group.events.filter(is('workerBackoff')).slice(0, 3);
    expect(backoffs.map((e) => e.streak)).toEqual([2, 3, 4]);
    [100, 500, 2500].forEach((ceiling, i) => {
      expect(backoffs[i]?.delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(backoffs[i]?.delayMs).toBeLessThanOrEqual(ceiling);
    });
  });
});

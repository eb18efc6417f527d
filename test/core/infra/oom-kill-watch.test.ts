import { describe, expect, it } from 'vitest';
import { OomKillWatch } from '../../../packages/core/src/process/OomKills.js';

/** A watch over a counter the test sets. */
function watch(start: number | null) {
  const counter = { value: start };
  return { counter, watch: new OomKillWatch(() => counter.value, 1_000) };
}

describe('OomKillWatch', () => {
  it("puts a foreign SIGKILL down to the OOM killer when the cgroup's count grew since the last look", () => {
    const { counter, watch: w } = watch(3);
    expect(w.onExit(true, 2_000)).toBeNull();
    counter.value = 4;
    expect(w.onExit(true, 5_000)).toEqual({ kills: 1, since: 2_000 });
    // that kill is spent
    expect(w.onExit(true, 6_000)).toBeNull();
  });

  it('never puts a SIGKILL drover sent, or another exit, down to it, and every exit is a look', () => {
    const { counter, watch: w } = watch(0);
    counter.value = 1;
    // a helper of a worker was killed, then a worker exits for another reason: the kill is seen
    expect(w.onExit(false, 2_000)).toBeNull();
    // a kill -9 later on is not the OOM killer's
    expect(w.onExit(true, 9_000)).toBeNull();
  });

  it('workers the killer took at once are each put down to it, within a second', () => {
    const { counter, watch: w } = watch(0);
    counter.value = 3;
    expect(w.onExit(true, 2_000)).toEqual({ kills: 3, since: 1_000 });
    expect(w.onExit(true, 2_100)).toEqual({ kills: 1, since: 2_000 });
    expect(w.onExit(true, 2_200)).toEqual({ kills: 1, since: 2_100 });
    expect(w.onExit(true, 2_300)).toBeNull();
    counter.value = 5;
    expect(w.onExit(true, 2_400)).toEqual({ kills: 2, since: 2_300 });
    // the second of those comes too late to be the same event
    expect(w.onExit(true, 4_000)).toBeNull();
  });

  it('says nothing where the count cannot be read', () => {
    const { counter, watch: w } = watch(null);
    counter.value = 7;
    expect(w.onExit(true, 2_000)).toBeNull();
  });
});

// Scenario 2: SIGKILL one worker, time until its replacement is ready (all masters kept running).
import { setTimeout as sleep } from 'node:timers/promises';
import { quietGate } from '../lib/procfs.mjs';
import { rotate } from '../lib/variants.mjs';

/** A PIN is killed again only after its worker lived this long: a fresh crash, not a crash loop. */
const MIN_UPTIME_MS = 1500;
/**
 * drover counts a worker that lived less than restart.stableAfterMs (default 10 s) as crash-looping
 * and backs off from its second fast crash on; PM2 does the same below min_uptime (1 s). The
 * kills here are spaced by MIN_UPTIME_MS, so drover is told that 1 s is stable, as PM2 is.
 */
const DROVER_CONFIG = { restart: { stableAfterMs: 1000 } };

/**
 * @param {{ variants: import('../lib/variants.mjs').Variant[], workers: number, kills: number,
 *   log: (s: string) => void }} opts
 */
export async function runRespawn({ variants, workers, kills, log }) {
  const groups = new Map();
  try {
    for (const v of variants) {
      const g = v.start(workers, { droverConfig: DROVER_CONFIG });
      groups.set(v.key, g);
      await g.waitEvent('ready', { timeoutMs: 60_000 });
    }
    const lastKill = new Map();
    const samples = Object.fromEntries(variants.map((v) => [v.key, []]));
    let noisy = 0;
    // round -1 is a warm-up: the first respawn of a master pays for code paths run once
    for (let round = -1; round < kills; round++) {
      const pin = (round + workers) % workers;
      const gate = await quietGate();
      if (round >= 0 && !gate.quiet) noisy++;
      for (const v of rotate(variants, round + 1)) {
        const g = groups.get(v.key);
        const since = performance.now() - (lastKill.get(`${v.key}:${pin}`) ?? 0);
        if (since < MIN_UPTIME_MS) await sleep(MIN_UPTIME_MS - since);
        const from = g.events.length;
        g.send(`kill ${pin}`);
        const e = await g.waitEvent('respawned', { from, timeoutMs: 30_000 });
        lastKill.set(`${v.key}:${pin}`, performance.now());
        if (round < 0) continue;
        samples[v.key].push({ ...e, quiet: gate.quiet });
      }
      if (round >= 0) log(`respawn: kill ${round + 1}/${kills}`);
    }
    return { workers, samples, noisy };
  } finally {
    for (const g of groups.values()) await g.stop();
  }
}

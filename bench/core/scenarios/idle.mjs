// Scenario 3: masters holding idle workers for a while: master RSS and CPU, per-worker memory.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchGroup } from '../lib/group.mjs';
import { children, cpuMs, memory } from '../lib/procfs.mjs';
import { median } from '../lib/stats.mjs';

/** Lets start-up garbage be collected and lazy initialisation finish before measuring. */
const SETTLE_MS = 5000;

function workerMemory(pids) {
  const m = pids.map(memory).filter(Boolean);
  return {
    rss: median(m.map((x) => x.rss)),
    pss: median(m.map((x) => x.pss)),
    anon: median(m.map((x) => x.anon)),
  };
}

/**
 * @param {{ variants: import('../lib/variants.mjs').Variant[], fixtures: string, workers: number, seconds: number,
 *   log: (s: string) => void }} opts
 */
export async function runIdle({ variants, fixtures, workers, seconds, log }) {
  const running = [];
  const plain = [];
  try {
    for (const v of variants) {
      const group = v.start(workers);
      const ready = await group.waitEvent('ready', { timeoutMs: 60_000 });
      const workerPids = ready.workers.map((w) => w.pid);
      // the process whose cost is the manager's: the master, or PM2's daemon (not our API client)
      const masterPid = v.pm2 ? (await group.waitEvent('daemon')).pid : group.pid;
      // helpers the master keeps beside its workers: drover's reaper
      const helpers = children(masterPid).filter((pid) => !workerPids.includes(pid));
      running.push({ v, group, workerPids, masterPid, helpers });
    }
    // the same script under bare node, for the per-worker overhead
    for (let i = 0; i < 2; i++) {
      plain.push(
        new BenchGroup('bare node app.cjs', [
          `--title=drover-bench:plain-node:${i}`,
          join(fixtures, 'app.cjs'),
        ]),
      );
    }
    log(
      `idle: ${running.length} masters with ${workers} workers each started; settling ${SETTLE_MS / 1000} s`,
    );
    await sleep(SETTLE_MS);
    const cpu0 = running.map((r) => ({ master: cpuMs(r.masterPid), helpers: r.helpers.map(cpuMs) }));
    const t0 = performance.now();
    log(`idle: measuring for ${seconds} s`);
    await sleep(seconds * 1000);
    const elapsed = performance.now() - t0;
    const rows = running.map((r, i) => {
      const master = memory(r.masterPid);
      const helperCpu = r.helpers.reduce(
        (sum, pid, k) => sum + ((cpuMs(pid) ?? 0) - (cpu0[i].helpers[k] ?? 0)),
        0,
      );
      return {
        key: r.v.key,
        label: r.v.label,
        masterRss: master?.rss,
        masterPss: master?.pss,
        masterAnon: master?.anon,
        masterCpuPct: ((cpuMs(r.masterPid) - cpu0[i].master) / elapsed) * 100,
        helpers: r.helpers.length,
        helpersRss: r.helpers.reduce((sum, pid) => sum + (memory(pid)?.rss ?? 0), 0),
        helpersCpuPct: (helperCpu / elapsed) * 100,
        worker: workerMemory(r.workerPids),
      };
    });
    const plainWorker = workerMemory(plain.map((p) => p.pid));
    return { workers, seconds: elapsed / 1000, rows, plainWorker };
  } finally {
    for (const r of running) await r.group.stop();
    for (const p of plain) await p.stop();
  }
}

// Scenario 1: time until N workers are ready, a fresh master per repetition.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { quietGate } from '../lib/procfs.mjs';
import { median } from '../lib/stats.mjs';
import { rotate } from '../lib/variants.mjs';

/** One start of a master variant: spawn, wait for all ready, stop it and wait until all are gone. */
async function startOnce(variant, workers) {
  const group = variant.start(workers);
  try {
    const ready = await group.waitEvent('ready', { timeoutMs: 60_000 });
    return {
      // spawn of the master process -> the master's "all ready" line
      outsideMs: ready.receivedAt - group.spawnedAt,
      // inside the master: drover from start() (lock, socket, pid file, reaper, forks), a bare
      // master from its first fork
      insideMs: ready.insideMs,
      // from start() to the first fork: drover's lock, control socket, pid file and reaper
      firstForkMs: ready.firstForkMs,
      workerCpuMs: median(ready.workers.map((w) => w.cpuMs)),
      masterCpuMs: ready.masterCpuMs,
      // CPU time spent to reach all ready; it depends far less than wall time on other load
      totalCpuMs: ready.masterCpuMs + ready.workers.reduce((sum, w) => sum + w.cpuMs, 0),
    };
  } finally {
    await group.stop();
  }
}

/** One cold `pm2 start app.cjs -i N`: daemon spawn included, as a drover master's spawn is. */
async function pm2StartOnce(pm2, workers, fixtures) {
  const markers = join(pm2.dir, 'markers');
  rmSync(markers, { recursive: true, force: true });
  mkdirSync(markers, { recursive: true });
  const name = 'drover-bench-pm2';
  try {
    const r = await pm2.run(['start', join(fixtures, 'app.cjs'), '-i', String(workers), '--name', name], {
      BENCH_MARKER_DIR: markers,
    });
    if (r.code !== 0) throw new Error(`bench: pm2 start exited ${r.code}:\n${r.output}`);
    const startedWall = performance.timeOrigin + r.startedAt;
    const until = Date.now() + 30_000;
    const listMarkers = () => readdirSync(markers).filter((f) => !f.startsWith('.'));
    let files = listMarkers();
    while (files.length < workers) {
      if (Date.now() > until)
        throw new Error(`bench: PM2 ran ${files.length} of ${workers} instances in 30 s`);
      await sleep(10);
      files = listMarkers();
    }
    const codeMs =
      Math.max(...files.map((f) => JSON.parse(readFileSync(join(markers, f), 'utf8')).t)) - startedWall;
    const list = await pm2.run(['jlist']);
    const apps = JSON.parse(list.output.slice(list.output.indexOf('[')));
    const online = apps.filter((a) => a.name === name && a.pm2_env?.status === 'online').length;
    if (online !== workers) throw new Error(`bench: PM2 lists ${online} of ${workers} instances online`);
    // `pm2 start` returns once every instance is `online`; codeMs is when the last one ran the script
    return { outsideMs: r.ms, codeMs, insideMs: Number.NaN, totalCpuMs: Number.NaN };
  } finally {
    await pm2.kill();
  }
}

/**
 * @param {{ variants: import('../lib/variants.mjs').Variant[], pm2: import('../lib/pm2.mjs').Pm2 | null,
 *   fixtures: string, counts: number[], reps: number, log: (s: string) => void }} opts
 */
export async function runStart({ variants, pm2, fixtures, counts, reps, log }) {
  const run = (v, n) => (v.pm2 ? pm2StartOnce(pm2, n, fixtures) : startOnce(v, n));
  log(`start: warm-up (1 worker, every variant)`);
  for (const v of variants) await run(v, 1);
  const results = [];
  for (const n of counts) {
    const samples = Object.fromEntries(variants.map((v) => [v.key, []]));
    let noisy = 0;
    for (let r = 0; r < reps; r++) {
      const gate = await quietGate();
      if (!gate.quiet) noisy++;
      for (const v of rotate(variants, r)) samples[v.key].push({ ...(await run(v, n)), quiet: gate.quiet });
      log(`start: ${n} workers, round ${r + 1}/${reps}`);
    }
    results.push({ workers: n, samples, noisy });
  }
  return results;
}

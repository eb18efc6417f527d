// Scenario 4: where a worker's start-up goes. CPU time a worker process has used when the user's
// script begins (process.cpuUsage(), microseconds, written by app.cjs into a marker), for one
// worker at a time: (a) in real masters; (b) the same script under plain node with and without
// drover's worker preload, and with that preload as one CommonJS file (a measured alternative).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchGroup } from '../lib/group.mjs';
import { quietGate } from '../lib/procfs.mjs';
import { rotate } from '../lib/variants.mjs';

async function readMarker(dir, pid, timeoutMs = 30_000) {
  const file = join(dir, String(pid));
  const until = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > until) throw new Error(`bench: no marker from pid ${pid} within ${timeoutMs} ms`);
    await sleep(5);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** drover's worker preload bundled into one CommonJS file, loaded with --require instead of --import. */
async function bundleBootstrap(bootstrap, outDir) {
  const { build } = await import('rolldown');
  const file = join(outDir, 'bootstrap.cjs');
  await build({ input: bootstrap, platform: 'node', output: { file, format: 'cjs' }, logLevel: 'silent' });
  return file;
}

/**
 * @param {{ variants: import('../lib/variants.mjs').Variant[], fixtures: string, bootstrap: string,
 *   reps: number, scratch: string,
 *   log: (s: string) => void }} opts
 */
export async function runBoot({ variants, fixtures, bootstrap, reps, scratch, log }) {
  const markers = join(scratch, 'markers');
  mkdirSync(scratch, { recursive: true });
  const bundle = await bundleBootstrap(bootstrap, scratch);
  const masters = variants.filter((v) => !v.pm2 && v.key !== 'fork');
  const plain = [
    { key: 'node', label: '`node app.cjs`', execArgv: [] },
    {
      key: 'node-import',
      label: '`node --import <the worker preload as an ES module graph (dist/)> app.cjs`',
      execArgv: ['--import', bootstrap],
    },
    {
      key: 'node-require',
      label: '`node --require <the same, bundled into one CommonJS file, as drover passes it> app.cjs`',
      execArgv: ['--require', bundle],
    },
  ];
  const runs = [
    ...masters.map((v) => ({
      key: v.key,
      label: `one worker of: ${v.label}`,
      once: async () => {
        const group = v.start(1, { env: { BENCH_MARKER_DIR: markers } });
        try {
          const ready = await group.waitEvent('ready', { timeoutMs: 60_000 });
          return readMarker(markers, ready.workers[0].pid);
        } finally {
          await group.stop();
        }
      },
    })),
    ...plain.map((p) => ({
      key: p.key,
      label: p.label,
      once: async () => {
        const group = new BenchGroup(
          'plain node app.cjs',
          [...p.execArgv, '--title=drover-bench:boot-probe', join(fixtures, 'app.cjs')],
          { BENCH_MARKER_DIR: markers },
        );
        try {
          return await readMarker(markers, group.pid);
        } finally {
          await group.stop();
        }
      },
    })),
  ];
  const samples = Object.fromEntries(runs.map((r) => [r.key, []]));
  let noisy = 0;
  try {
    for (let round = -1; round < reps; round++) {
      rmSync(markers, { recursive: true, force: true });
      mkdirSync(markers, { recursive: true });
      const gate = await quietGate();
      if (round >= 0 && !gate.quiet) noisy++;
      for (const r of rotate(runs, round + 1)) {
        const marker = await r.once();
        // the runtime sets the title before user code: proof that drover's preload ran
        if (r.key.startsWith('drover') && !marker.title.startsWith('drover:Worker:')) {
          throw new Error(
            `bench: a drover worker began its script titled '${marker.title}': the preload did not run`,
          );
        }
        if (round >= 0) samples[r.key].push(marker);
      }
      if (round >= 0) log(`boot: round ${round + 1}/${reps}`);
    }
  } finally {
    rmSync(markers, { recursive: true, force: true });
  }
  return { labels: Object.fromEntries(runs.map((r) => [r.key, r.label])), samples, noisy };
}

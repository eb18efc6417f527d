// The masters compared: drover in its two modes, the bare anchors, and PM2 behind the protocol.
// Library mode re-executes its own ES module in every worker, so its anchor is the bare master
// that does the same (`cluster-self`); every other variant is measured against `cluster`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchGroup } from './group.mjs';

/** A private run dir for drover's pid file, socket and lock; removed by `cleanup()`. */
export function scratchRunDir() {
  const dir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * @typedef {object} Variant
 * @property {string} key
 * @property {string} label as shown in tables
 * @property {boolean} [anchor] a bare master that other variants are measured against
 * @property {(workers: number, opts?: { droverConfig?: object, env?: Record<string, string> }) => BenchGroup} start
 */

/** @returns {Variant[]} */
export function masterVariants({ runDir, pm2, fixtures }) {
  const variants = [
    {
      key: 'drover-script',
      label: 'drover, script mode (`drover start app.cjs`)',
      start: (workers, opts = {}) =>
        new BenchGroup('drover master (script mode)', [join(fixtures, 'drover-master.mjs')], {
          BENCH_DROVER_MODE: 'script',
          BENCH_WORKERS: String(workers),
          BENCH_RUN_DIR: runDir,
          BENCH_DROVER_CONFIG: JSON.stringify(opts.droverConfig ?? {}),
          ...opts.env,
        }),
    },
    {
      key: 'drover-manage',
      label: 'drover, library mode (`new Manage()`, script re-executed)',
      start: (workers, opts = {}) =>
        new BenchGroup('drover master (library mode)', [join(fixtures, 'drover-master.mjs')], {
          BENCH_DROVER_MODE: 'manage',
          BENCH_WORKERS: String(workers),
          BENCH_RUN_DIR: runDir,
          BENCH_DROVER_CONFIG: JSON.stringify(opts.droverConfig ?? {}),
          ...opts.env,
        }),
    },
    {
      key: 'cluster',
      label: 'bare `cluster.fork` master, CommonJS workers (the CommonJS anchor)',
      anchor: true,
      start: (workers, opts = {}) =>
        new BenchGroup(
          'bare cluster master',
          ['--title=drover-bench:cluster-master', join(fixtures, 'bare-master.mjs')],
          { BENCH_BARE_KIND: 'cluster', BENCH_WORKERS: String(workers), ...opts.env },
        ),
    },
    {
      key: 'cluster-self',
      label:
        "bare `cluster.fork` master re-executing its own ES module (Node's cluster idiom; anchor of library mode)",
      anchor: true,
      start: (workers, opts = {}) =>
        new BenchGroup(
          'bare cluster master (self-forking ES module)',
          ['--title=drover-bench:cluster-self-master', join(fixtures, 'bare-self-master.mjs')],
          { BENCH_WORKERS: String(workers), ...opts.env },
        ),
    },
    {
      key: 'fork',
      label: 'bare `child_process.fork` master',
      start: (workers, opts = {}) =>
        new BenchGroup(
          'bare fork master',
          ['--title=drover-bench:fork-master', join(fixtures, 'bare-master.mjs')],
          { BENCH_BARE_KIND: 'fork', BENCH_WORKERS: String(workers), ...opts.env },
        ),
    },
  ];
  if (pm2) {
    variants.push({
      key: 'pm2',
      label: `PM2 ${pm2.version}, cluster mode`,
      pm2: true,
      start: (workers) => {
        const markers = join(pm2.dir, 'markers');
        rmSync(markers, { recursive: true, force: true });
        mkdirSync(markers, { recursive: true });
        return new BenchGroup('PM2 (API client)', [join(fixtures, 'pm2-master.mjs')], {
          BENCH_PM2_MODULE: pm2.module,
          BENCH_WORKERS: String(workers),
          BENCH_MARKER_DIR: markers,
          PM2_HOME: pm2.home,
        });
      },
    });
  }
  return variants;
}

/**
 * The variants with `NODE_EXTRA_CA_CERTS` emptied in their masters and workers, as on a machine
 * that does not set it. PM2 is left out: its daemon keeps the environment it was started with.
 * @param {Variant[]} variants
 * @returns {Variant[]}
 */
export function withoutExtraCa(variants) {
  return variants
    .filter((v) => !v.pm2)
    .map((v) => ({
      ...v,
      start: (workers, opts = {}) =>
        v.start(workers, { ...opts, env: { ...opts.env, NODE_EXTRA_CA_CERTS: '' } }),
    }));
}

/** Variants in a different order each round, so no variant always runs first or last. */
export function rotate(list, round) {
  const k = round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

#!/usr/bin/env node
// Core life-cycle benchmarks: start of N workers, respawn after kill -9, idle master cost and
// per-worker memory; drover against bare node masters (the anchors) and PM2, in the same run.
// Usage: node bench/core/run.mjs [options]   (see bench/core/README.md)
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCleanup } from './lib/group.mjs';
import { Pm2 } from './lib/pm2.mjs';
import { renderReport, writeDocsSection } from './lib/report.mjs';
import { snapshotCore } from './lib/snapshot.mjs';
import { masterVariants, scratchRunDir, withoutExtraCa } from './lib/variants.mjs';
import { runBoot } from './scenarios/boot.mjs';
import { runIdle } from './scenarios/idle.mjs';
import { runRespawn } from './scenarios/respawn.mjs';
import { runStart } from './scenarios/start.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');

const DEFAULTS = {
  only: 'start,respawn,idle,boot',
  workers: '1,4,16',
  reps: 5,
  kills: 10,
  'respawn-workers': 4,
  'idle-workers': 8,
  'idle-seconds': 60,
  'boot-reps': 10,
  from: 'head',
  pm2: '7.0.4',
  'without-ca': true,
  build: true,
  write: false,
  json: '',
  render: '',
};

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (const arg of argv) {
    const m = /^--(no-)?([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[2] in DEFAULTS)) {
      fail(
        `unknown option '${arg}'; known: ${Object.keys(DEFAULTS)
          .map((k) => `--${k}`)
          .join(', ')}`,
      );
    }
    const [, no, key, value] = m;
    if (no) opts[key] = false;
    else if (value === undefined) opts[key] = true;
    else opts[key] = typeof DEFAULTS[key] === 'number' ? Number(value) : value;
  }
  for (const key of ['reps', 'kills', 'respawn-workers', 'idle-workers', 'idle-seconds', 'boot-reps']) {
    if (!Number.isInteger(opts[key]) || opts[key] < 1)
      fail(`--${key} is ${opts[key]}; give a whole number >= 1`);
  }
  opts.counts = String(opts.workers).split(',').map(Number);
  if (opts.counts.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) {
    fail(`--workers is '${opts.workers}'; give worker counts from 1 to 256 separated by commas, e.g. 1,4,16`);
  }
  if (!['head', 'worktree'].includes(opts.from)) fail(`--from is '${opts.from}'; use head or worktree`);
  opts.scenarios = new Set(String(opts.only).split(','));
  for (const s of opts.scenarios) {
    if (!['start', 'respawn', 'idle', 'boot'].includes(s)) {
      fail(`--only names '${s}'; use start, respawn, idle and/or boot`);
    }
  }
  return opts;
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const log = (s) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

const opts = parseArgs(process.argv.slice(2));
const began = Date.now();

/** The report's section of docs/benchmarks.md, from saved results or fresh ones. */
function publish(results) {
  const report = renderReport(results, results.command);
  process.stdout.write(`${report}\n`);
  if (opts.write) {
    const file = writeDocsSection(join(root, 'docs/benchmarks.md'), report);
    log(`wrote the '## Core life cycle' section of ${file}`);
  }
}

if (opts.render) {
  // re-render a saved run (--json) without measuring again
  publish(JSON.parse(readFileSync(opts.render, 'utf8')));
  process.exit(0);
}

let core;
try {
  core = snapshotCore({
    root,
    benchDir: here,
    scratch: join(here, '../.bench-tmp/core-snapshot'),
    from: opts.from,
    build: opts.build,
    log,
  });
} catch (err) {
  fail(err.message);
}
if (core.warnings) log(`warning: tsc reported errors (the package was emitted anyway):\n${core.warnings}`);

let pm2 = null;
let pm2Note = 'not run (--no-pm2)';
if (opts.pm2) {
  pm2 = new Pm2(join(here, '../.bench-tmp/core-pm2'), String(opts.pm2));
  log(`installing pm2@${pm2.version} into ${pm2.dir} (scratch, PM2_HOME inside)`);
  const why = pm2.install();
  if (why) {
    pm2Note = `not run: ${why}`;
    log(`PM2 skipped: ${why}`);
    pm2 = null;
  } else {
    pm2Note = `pm2 ${pm2.version}, cluster mode, PM2_HOME in a scratch dir`;
  }
}
const runDir = scratchRunDir();
installCleanup(() => {
  pm2?.killSync();
  runDir.cleanup();
});
if (pm2) await pm2.kill();

const variants = masterVariants({ runDir: runDir.dir, pm2, fixtures: core.fixtures });
const machine = {
  date: new Date().toISOString().slice(0, 10),
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  kernel: release(),
  node: process.version,
  core: core.source,
  extraCaCerts: process.env.NODE_EXTRA_CA_CERTS ?? null,
  pm2: pm2Note,
};
const results = { machine, options: opts };
try {
  if (opts.scenarios.has('start')) {
    results.start = await runStart({
      variants,
      pm2,
      fixtures: core.fixtures,
      counts: opts.counts,
      reps: opts.reps,
      log,
    });
  }
  if (opts.scenarios.has('respawn')) {
    results.respawn = await runRespawn({
      variants,
      workers: opts['respawn-workers'],
      kills: opts.kills,
      log,
    });
    if (pm2) await pm2.kill();
  }
  if (opts.scenarios.has('idle')) {
    results.idle = await runIdle({
      variants,
      fixtures: core.fixtures,
      workers: opts['idle-workers'],
      seconds: opts['idle-seconds'],
      log,
    });
    if (pm2) await pm2.kill();
  }
  if (opts.scenarios.has('boot')) {
    results.boot = await runBoot({
      variants,
      fixtures: core.fixtures,
      bootstrap: core.bootstrap,
      reps: opts['boot-reps'],
      scratch: join(here, '../.bench-tmp/core-boot'),
      log,
    });
  }
  // NODE_EXTRA_CA_CERTS makes every Node start load a CA bundle, which inflates subject and anchor
  // alike and so pulls every ratio towards 1: where it is set, start and respawn run again without it
  if (opts['without-ca'] && process.env.NODE_EXTRA_CA_CERTS) {
    const caFree = withoutExtraCa(variants);
    results.withoutCa = {};
    if (opts.scenarios.has('start')) {
      log('start, again without NODE_EXTRA_CA_CERTS');
      results.withoutCa.start = await runStart({
        variants: caFree,
        pm2: null,
        fixtures: core.fixtures,
        counts: opts.counts,
        reps: opts.reps,
        log,
      });
    }
    if (opts.scenarios.has('respawn')) {
      log('respawn, again without NODE_EXTRA_CA_CERTS');
      results.withoutCa.respawn = await runRespawn({
        variants: caFree,
        workers: opts['respawn-workers'],
        kills: opts.kills,
        log,
      });
    }
  }
} finally {
  runDir.cleanup();
}
results.wallSeconds = (Date.now() - began) / 1000;

// the command that reproduces this run (output options left out)
results.command = `node bench/core/run.mjs${process.argv
  .slice(2)
  .filter((a) => a !== '--write' && !a.startsWith('--json='))
  .map((a) => ` ${a}`)
  .join('')}`;
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
publish(results);
log(`done in ${results.wallSeconds.toFixed(0)} s`);

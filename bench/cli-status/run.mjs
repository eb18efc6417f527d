#!/usr/bin/env node
// `drover status` answering for a running group, against bare `node -e 0`, same run.
// Usage: node bench/cli-status/run.mjs [--runs=30] [--write]
// Builds what is missing (core's dist, the bundled bin), starts a 2-worker group in the
// background in a private run directory, measures, stops the group. --write replaces the
// "## drover status" section of docs/benchmarks.md with the result.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const bin = join(root, 'packages/cli/bundle/drover.mjs');
const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? 30);
const write = args.includes('--write');
const WARMUP = 3;
const TARGET = 1.5;
if (!Number.isInteger(runs) || runs < 20) {
  process.stderr.write(`bench: --runs is ${runs}; use a whole number of at least 20\n`);
  process.exit(2);
}

function must(argv, what, env = process.env) {
  const result = spawnSync(process.execPath, argv, { cwd: root, encoding: 'utf8', env });
  if (result.status !== 0) {
    process.stderr.write(`bench: ${what} failed (${result.status}):\n${result.stdout}${result.stderr}`);
    process.exit(1);
  }
  return result.stdout;
}

if (!existsSync(join(root, 'packages/core/bundle/drover-worker-bootstrap.cjs'))) {
  must(
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'packages/core/tsconfig.json'],
    'building @drover/core',
  );
  must([join(root, 'packages/core/build.mjs')], 'bundling @drover/core');
}
if (!existsSync(bin)) must([join(root, 'packages/cli/build.mjs')], 'building the bin');

const loadBefore = loadavg()[0];
const runDir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
const env = { ...process.env, DROVER_RUN_DIR: runDir, NO_COLOR: '1' };
const { NODE_EXTRA_CA_CERTS: _ca, ...envNoCa } = env;
const group = 'bench';
must(
  [bin, 'start', join(root, 'test/fixtures/cli/loop.mjs'), '-w=2', '-d', `--name=${group}`],
  'drover start -d',
  env,
);

let stats;
try {
  const variants = [
    { name: '`node -e 0` (baseline)', argv: ['-e', '0'], env, baseline: true },
    { name: '**`drover status`** (table, 2 workers)', argv: [bin, 'status'], env, subject: true },
    { name: '`drover status --json`', argv: [bin, 'status', '--json'], env },
    { name: `\`drover status ${group}\``, argv: [bin, 'status', group], env },
    { name: '`drover status --help` (router path)', argv: [bin, 'status', '--help'], env },
    { name: '`node -e 0`, without NODE_EXTRA_CA_CERTS', argv: ['-e', '0'], env: envNoCa, baselineNoCa: true },
    {
      name: '`drover status`, without NODE_EXTRA_CA_CERTS',
      argv: [bin, 'status'],
      env: envNoCa,
      subjectNoCa: true,
    },
  ];

  const once = (v) => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, v.argv, { env: v.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0)
      throw new Error(`bench: node ${v.argv.join(' ')} exited ${result.status}: ${result.stderr}`);
    if (v.subject && !String(result.stdout).includes(`drover:Master:${group}`)) {
      throw new Error(`bench: drover status did not list the group:\n${result.stdout}`);
    }
    return ms;
  };
  // Ctrl-C or SIGTERM ends the runs, and the finally below stops the group: the daemon would
  // outlive this process. The runs are synchronous, so each round gives the handler a turn.
  let interrupted = null;
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (interrupted = signal));
  const turn = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    if (interrupted) throw new Error(`bench: stopped by ${interrupted}`);
  };
  for (const v of variants) for (let i = 0; i < WARMUP; i++) once(v);
  const samples = variants.map(() => []);
  // Interleaved: run i of every variant before run i+1 of any, so drift hits all alike.
  for (let i = 0; i < runs; i++) {
    await turn();
    for (const [k, v] of variants.entries()) samples[k].push(once(v));
  }

  const median = (s) => (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);
  const quantile = (s, q) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
  stats = samples.map((s) => {
    const sorted = [...s].sort((a, b) => a - b);
    return { median: median(sorted), min: sorted[0], p90: quantile(sorted, 0.9) };
  });
  stats.variants = variants;
} finally {
  spawnSync(process.execPath, [bin, 'stop', group], { env, stdio: 'ignore' });
  rmSync(runDir, { recursive: true, force: true });
}

const { variants } = stats;
const at = (key) => stats[variants.findIndex((v) => v[key])];
const fmt = (n) => n.toFixed(1);
const ratio = at('subject').median / at('baseline').median;
const ratioNoCa = at('subjectNoCa').median / at('baselineNoCa').median;
const table = [
  '| variant (output to a pipe) | median ms | min ms | p90 ms | / its `node -e 0` |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...variants.map((v, k) => {
    const base = v.env === envNoCa ? at('baselineNoCa') : at('baseline');
    return `| ${v.name} | ${fmt(stats[k].median)} | ${fmt(stats[k].min)} | ${fmt(stats[k].p90)} | ${(stats[k].median / base.median).toFixed(2)} |`;
  }),
].join('\n');
const extraCa = process.env.NODE_EXTRA_CA_CERTS ? `set (\`${process.env.NODE_EXTRA_CA_CERTS}\`)` : 'not set';
const summary =
  `\`drover status\` / \`node -e 0\`: **${ratio.toFixed(2)}** (target < ${TARGET}, ${ratio < TARGET ? 'met' : 'missed'}); ` +
  `+${fmt(at('subject').median - at('baseline').median)} ms over bare node; ` +
  `without NODE_EXTRA_CA_CERTS: ${ratioNoCa.toFixed(2)} (+${fmt(at('subjectNoCa').median - at('baselineNoCa').median)} ms)`;
process.stdout.write(`${table}\n\n${summary}\nNODE_EXTRA_CA_CERTS: ${extraCa}\n`);

if (write) {
  const doc = join(root, 'docs/benchmarks.md');
  const section = [
    '## drover status',
    '',
    `Command: \`node ${relative(root, join(here, 'run.mjs'))} --runs=${runs} --write\` (starts ` +
      '`drover start test/fixtures/cli/loop.mjs -w=2 -d --name=bench` in a private run directory, measures, stops it).',
    '',
    'Method: each variant is a fresh `node` process timed around `spawnSync` from the parent, output to a pipe; ' +
      `${WARMUP} warm-up runs each, then ${runs} runs each, interleaved round-robin; median, min and p90. ` +
      `Node ${process.version}, ${cpus().length} CPUs (${process.platform} ${process.arch}), measured ` +
      `${new Date().toISOString().slice(0, 10)}; 1-minute load average ${loadBefore.toFixed(1)} before, ` +
      `${loadavg()[0].toFixed(1)} after (the machine is shared with other test runs: compare the ratios). ` +
      `NODE_EXTRA_CA_CERTS: ${extraCa}; Node 20 loads that file at ` +
      'every start, so the rows without it are given too.',
    '',
    table,
    '',
    `Result: ${summary}.`,
    '',
    'How: the bin is bundled with rolldown. The plain forms of `status` (`status`, `status <name>`, with or ' +
      'without `--json`) load the bin file and two chunks of about 105 kB together (run-dir discovery, a ' +
      'one-request control client, the table and the block of `status <name>`); every other command line also ' +
      'loads the router chunks (about 515 kB: inversify, ' +
      'reflect-metadata, the rest of core), as the `--help` row shows. One `status` is a `ping` per group found ' +
      'in the run directory (discovery, which also cleans what killed masters left), then one `status` request ' +
      'per group; the master asks each worker for its counters over IPC. So the answer needs the master and every ' +
      'worker to be scheduled: with the machine loaded by other test runs (load average about 10 on these 2 CPUs) ' +
      'the same bench measured ratios up to 1.5.',
    '',
  ].join('\n');
  const current = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n\n';
  const start = current.search(/^## drover status\s*$/m);
  let next;
  if (start === -1) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const after = current.slice(start + 1).search(/^## /m);
    const end = after === -1 ? current.length : start + 1 + after;
    next = `${current.slice(0, start)}${section}${end < current.length ? `\n${current.slice(end)}` : ''}`;
  }
  writeFileSync(doc, next.endsWith('\n') ? next : `${next}\n`);
  process.stdout.write(`wrote ${relative(root, doc)}\n`);
}

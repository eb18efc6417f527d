#!/usr/bin/env node
// Cold start of a CLI built on @drover/command printing `--help`, against the same CLI written
// with commander 14. Usage: node bench/cli-startup/run.mjs [--runs=40] [--write]
// --write replaces the "## CLI cold start" section of docs/benchmarks.md with the result.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const tmp = join(here, '.bench-tmp');
const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? 40);
const write = args.includes('--write');
const WARMUP = 3;
if (!Number.isInteger(runs) || runs < 30) {
  process.stderr.write(`bench: --runs is ${runs}; use a whole number of at least 30\n`);
  process.exit(2);
}

mkdirSync(tmp, { recursive: true });
const svcBundle = join(tmp, 'svc.mjs');
const built = spawnSync(process.execPath, [join(root, 'examples/command-tool/build.mjs'), svcBundle], {
  encoding: 'utf8',
});
if (built.status !== 0) {
  process.stderr.write(`bench: building the example tool failed:\n${built.stderr}`);
  process.exit(1);
}
const commanderBundle = join(tmp, 'commander-svc.mjs');
await build({
  input: join(here, 'commander-svc.mjs'),
  platform: 'node',
  output: { file: commanderBundle, format: 'esm' },
  logLevel: 'silent',
});

const variants = [
  { name: '`node -e 0` (baseline)', argv: ['-e', '0'] },
  {
    name: 'commander 14, as installed (3 files)',
    argv: [join(here, 'commander-svc.mjs'), '--help'],
    baseline: true,
  },
  { name: 'commander 14, bundled with rolldown', argv: [commanderBundle, '--help'] },
  { name: '**@drover/command example, bundled with rolldown**', argv: [svcBundle, '--help'], subject: true },
];

function once(argv) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`bench: node ${argv.join(' ')} exited ${result.status}`);
  return ms;
}

const loadBefore = loadavg()[0];
for (const v of variants) for (let i = 0; i < WARMUP; i++) once(v.argv);
const samples = variants.map(() => []);
// Interleaved: run i of every variant before run i+1 of any, so drift hits all alike.
for (let i = 0; i < runs; i++) {
  for (const [k, v] of variants.entries()) samples[k].push(once(v.argv));
}

const quantile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
const median = (sorted) =>
  sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
const stats = samples.map((s) => {
  const sorted = [...s].sort((a, b) => a - b);
  return { median: median(sorted), min: sorted[0], p90: quantile(sorted, 0.9) };
});

const loadAfter = loadavg()[0];
const base = stats[variants.findIndex((v) => v.baseline)];
const bundledCommander = stats[2];
const subject = stats[variants.findIndex((v) => v.subject)];
const bare = stats[0];
const ratio = subject.median / base.median;
const fmt = (n) => n.toFixed(1);
const table = [
  '| variant (`--help` to /dev/null) | median ms | min ms | p90 ms | over bare node |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...variants.map(
    (v, k) =>
      `| ${v.name} | ${fmt(stats[k].median)} | ${fmt(stats[k].min)} | ${fmt(stats[k].p90)} | ${k === 0 ? '-' : `+${fmt(stats[k].median - bare.median)}`} |`,
  ),
].join('\n');
const extraCa = process.env.NODE_EXTRA_CA_CERTS ? `set (\`${process.env.NODE_EXTRA_CA_CERTS}\`)` : 'not set';
const summary =
  `ratio @drover/command bundled / commander as installed: **${ratio.toFixed(2)}** (target ≤ 1.1); ` +
  `start-up cost over bare node: +${fmt(subject.median - bare.median)} ms vs +${fmt(base.median - bare.median)} ms; ` +
  `against commander bundled too: ${(subject.median / bundledCommander.median).toFixed(2)}`;
const load = `1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`;

process.stdout.write(`${table}\n\n${summary}\nNODE_EXTRA_CA_CERTS: ${extraCa}; ${load}\n`);

if (write) {
  const doc = join(root, 'docs/benchmarks.md');
  const section = [
    '## CLI cold start',
    '',
    `Command: \`node ${relative(root, join(here, 'run.mjs'))} --runs=${runs} --write\` (builds the example tool ` +
      '`examples/command-tool` into one file with rolldown, and the same CLI written with commander 14 in ' +
      '`bench/cli-startup/commander-svc.mjs`).',
    '',
    `Method: each variant runs \`--help\` with output to /dev/null, timed around \`spawnSync\` from the parent; ` +
      `${WARMUP} warm-up runs each, then ${runs} runs each, interleaved round-robin; median, min and p90. ` +
      `Node ${process.version}, ${cpus().length} CPUs (${process.platform} ${process.arch}), ` +
      `measured ${new Date().toISOString().slice(0, 10)}, ${load} (the machine is shared with other test ` +
      'runs; medians move by tens of ms with load, ratios much less). ' +
      `NODE_EXTRA_CA_CERTS: ${extraCa}; every child inherited it, so each row, the baseline included, ` +
      'pays for loading that file.',
    '',
    table,
    '',
    `Result: ${summary}.`,
    '',
    'Bundling is what makes this possible: unbundled, inversify alone loads about 250 ES modules and the ' +
      'research prototype measured 2.6x commander (research notes, command-frameworks §7). A bin built on ' +
      '@drover/command should ship as one bundled file, as the example does.',
    '',
  ].join('\n');
  const current = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n\n';
  const start = current.search(/^## CLI cold start\s*$/m);
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

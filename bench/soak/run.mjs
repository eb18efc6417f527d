#!/usr/bin/env node
// Soak: two groups run side by side for --minutes, logging to rotated files as in background mode:
//   recycle  4 workers with executeTimes 1: every execution ends with the worker replaced
//   flood    4 workers writing output lines as fast as the log takes them
// Every --sample-seconds it samples each master's RSS and open descriptors, its workers and its
// log files, and prints a row; at the end a summary table and the verdict (flat, within bounds).
// Usage: node bench/soak/run.mjs [--minutes=10] [--workers=4] [--sample-seconds=10]
//        [--rotate-size=1M] [--max-files=5] [--work-ms=100]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manage } from '@drover/core';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULTS = {
  minutes: 10,
  workers: 4,
  'sample-seconds': 10,
  'rotate-size': '1M',
  'max-files': 5,
  'work-ms': 100,
};

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (const arg of argv) {
    const m = /^--([a-z-]+)=(.+)$/.exec(arg);
    if (!m || !(m[1] in DEFAULTS)) {
      process.stderr.write(
        `soak: unknown option '${arg}'; known: ${Object.keys(DEFAULTS)
          .map((k) => `--${k}=`)
          .join(' ')}\n`,
      );
      process.exit(2);
    }
    opts[m[1]] = typeof DEFAULTS[m[1]] === 'number' ? Number(m[2]) : m[2];
    if (Number.isNaN(opts[m[1]]) || opts[m[1]] <= 0) {
      process.stderr.write(`soak: --${m[1]} is '${m[2]}'; expected a positive number\n`);
      process.exit(2);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const SIZE_UNIT = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const sizeMatch = /^(\d+)([BKMG])$/.exec(opts['rotate-size']);
if (!sizeMatch) {
  process.stderr.write(
    `soak: --rotate-size is '${opts['rotate-size']}'; expected a size such as 1M or 256K\n`,
  );
  process.exit(2);
}
const rotateBytes = Number(sizeMatch[1]) * SIZE_UNIT[sizeMatch[2]];
// docs/logs.md: a file ends at most one batch past size, batch = min(64 KiB, size / 16), >= 512 B
const batchBytes = Math.max(512, Math.min(64 * 1024, Math.floor(rotateBytes / 16)));
const scratch = mkdtempSync(join(tmpdir(), 'drover-soak-'));

// ---- /proc ------------------------------------------------------------------------------------

function read(path) {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}
function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : null;
}
function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
function cpuSeconds(pid) {
  const stat = read(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
/** Start time (clock ticks after boot) of a live process, null when gone or a zombie. */
function startTime(pid) {
  const stat = read(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (f.length < 20 || f[0] === 'Z' || f[0] === 'X') return null;
  return Number(f[19]);
}
function children(pid) {
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) =>
    read(`/proc/${pid}/task/${tid}/children`).split(' ').filter(Boolean).map(Number),
  );
}

// ---- groups -----------------------------------------------------------------------------------

const groups = ['recycle', 'flood'].map((mode) => {
  const name = `soak-${mode}`;
  const runDir = join(scratch, mode);
  const logDir = join(scratch, `${mode}-logs`);
  const proc = spawn(process.execPath, [`--title=drover:Master:${name}`, join(here, 'group.mjs')], {
    env: {
      ...process.env,
      SOAK_NAME: name,
      SOAK_MODE: mode,
      SOAK_RUN_DIR: runDir,
      SOAK_LOG_DIR: logDir,
      SOAK_WORKERS: String(opts.workers),
      SOAK_WORK_MS: String(opts['work-ms']),
      SOAK_ROTATION: JSON.stringify({
        size: opts['rotate-size'],
        interval: false,
        maxFiles: opts['max-files'],
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const group = {
    mode,
    name,
    runDir,
    logDir,
    proc,
    notices: [],
    started: null,
    samples: [],
    seen: new Map(),
  };
  let buffered = '';
  proc.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('SOAK ')) continue;
      const event = JSON.parse(line.slice(5));
      if (event.event === 'started') group.started = event;
      if (event.event === 'notice') group.notices.push(event);
      if (event.event === 'startFailed') fail(`${name} did not start: ${event.message}`);
    }
  });
  proc.once('exit', (code, signal) => {
    group.exit = { code, signal };
  });
  return group;
});

function killAll() {
  for (const g of groups) if (g.exit === undefined) g.proc.kill('SIGKILL');
}
function fail(message) {
  process.stderr.write(`soak: ${message}\n`);
  killAll();
  rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
}
process.once('SIGINT', () => fail('interrupted'));
process.once('SIGTERM', () => fail('terminated'));

async function waitFor(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function logFiles(dir) {
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files = [];
  for (const name of names) {
    try {
      files.push({ name, bytes: statSync(join(dir, name)).size });
    } catch {
      // rotated away between the listing and the stat
    }
  }
  return files;
}

async function sample(g, elapsed) {
  const pid = g.proc.pid;
  const status = await new Manage({ baseTitle: g.name, runDir: g.runDir }).status().catch(() => null);
  const kids = children(pid);
  for (const child of kids) g.seen.set(child, startTime(child));
  const files = logFiles(g.logDir);
  const row = {
    elapsed,
    rss: rssBytes(pid),
    fds: fdCount(pid),
    cpu: cpuSeconds(pid),
    workers: status?.workers.filter((w) => w.pid !== null).length ?? null,
    workerRss: Math.max(0, ...kids.map((k) => rssBytes(k) ?? 0)),
    restarts: status?.workers.reduce((n, w) => n + w.restarts, 0) ?? null,
    executions: status?.workers.reduce((n, w) => n + w.executions, 0) ?? null,
    files: files.length,
    logBytes: files.reduce((n, f) => n + f.bytes, 0),
    largest: Math.max(0, ...files.map((f) => f.bytes)),
  };
  g.samples.push(row);
  return row;
}

const mib = (b) => (b === null ? '-' : (b / 1024 / 1024).toFixed(1));
const pad = (s, n) => String(s).padStart(n);

// ---- run --------------------------------------------------------------------------------------

await waitFor('both groups to start', () => groups.every((g) => g.started), 60_000);
const t0 = Date.now();
const durationMs = opts.minutes * 60_000;
const everyMs = opts['sample-seconds'] * 1000;
process.stdout.write(
  `soak: ${opts.minutes} min, ${opts.workers} workers per group, rotation ${opts['rotate-size']} x ${opts['max-files']}, sample every ${opts['sample-seconds']} s\n`,
);
process.stdout.write(
  `${pad('t(s)', 6)} | ${[
    'group',
    'RSS MiB',
    'fds',
    'cpu s',
    'workers',
    'wrk RSS MiB',
    'recycles',
    'files',
    'log MiB',
    'largest MiB',
  ]
    .map((h, i) => pad(h, i === 0 ? 8 : 11))
    .join(' ')}\n`,
);
for (let next = t0; ; next += everyMs) {
  const wait = next - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const elapsed = Math.round((Date.now() - t0) / 1000);
  for (const g of groups) {
    if (g.exit !== undefined) fail(`${g.name}'s master exited (${JSON.stringify(g.exit)})`);
    const r = await sample(g, elapsed);
    process.stdout.write(
      `${pad(elapsed, 6)} | ${pad(g.mode, 8)} ${[
        mib(r.rss),
        r.fds,
        r.cpu.toFixed(1),
        r.workers,
        mib(r.workerRss),
        r.restarts,
        r.files,
        mib(r.logBytes),
        mib(r.largest),
      ]
        .map((v) => pad(v ?? '-', 11))
        .join(' ')}\n`,
    );
  }
  if (Date.now() - t0 >= durationMs) break;
}

// ---- stop and verdict -------------------------------------------------------------------------

for (const g of groups) g.proc.kill('SIGTERM');
await waitFor('both masters to stop', () => groups.every((g) => g.exit !== undefined), 60_000);
await new Promise((r) => setTimeout(r, 1500));
// the same pid with the same start time: a pid reused by another process since is not ours
const leftovers = groups.flatMap((g) =>
  [...g.seen].filter(([pid, started]) => started !== null && startTime(pid) === started).map(([pid]) => pid),
);

const bound = (opts['max-files'] + 1) * (rotateBytes + batchBytes);
process.stdout.write(
  '\nsummary (the first third is warm-up; drift = mean of the last third vs the middle third)\n',
);
process.stdout.write(
  `${[
    'group',
    'RSS MiB min/max',
    'RSS drift',
    'fds min/max',
    'wrk RSS max',
    'recycles',
    'lines/s',
    'master cpu %',
    'largest file',
    'disk max',
    'notices',
    'exit',
  ]
    .map((h) => pad(h, 15))
    .join(' ')}\n`,
);
let ok = leftovers.length === 0;
for (const g of groups) {
  const s = g.samples;
  const third = Math.max(1, Math.floor(s.length / 3));
  const mean = (rows) => rows.reduce((n, r) => n + r.rss, 0) / rows.length;
  const middle = s.slice(third, 2 * third);
  const last = s.slice(-third);
  const drift = middle.length ? (mean(last) - mean(middle)) / mean(middle) : 0;
  const rss = s.map((r) => r.rss);
  const fds = s.map((r) => r.fds);
  const end = s.at(-1);
  const seconds = end.elapsed || 1;
  const largest = Math.max(...s.map((r) => r.largest));
  const disk = Math.max(...s.map((r) => r.logBytes));
  const clean = g.exit.code === 0 && g.exit.signal === null;
  ok &&= largest <= rotateBytes + batchBytes && disk <= bound && clean;
  process.stdout.write(
    `${[
      g.mode,
      `${mib(Math.min(...rss))}/${mib(Math.max(...rss))}`,
      `${(drift * 100).toFixed(1)} %`,
      `${Math.min(...fds)}/${Math.max(...fds)}`,
      `${mib(Math.max(...s.map((r) => r.workerRss)))} MiB`,
      end.restarts,
      g.mode === 'flood'
        ? Math.round(((end.executions - s[0].executions) * 200) / Math.max(1, seconds - s[0].elapsed))
        : '-',
      ((100 * (end.cpu - s[0].cpu)) / Math.max(1, seconds - s[0].elapsed)).toFixed(1),
      `${mib(largest)} MiB`,
      `${mib(disk)} MiB`,
      g.notices.length,
      clean ? 'code 0' : JSON.stringify(g.exit),
    ]
      .map((v) => pad(v, 15))
      .join(' ')}\n`,
  );
}
process.stdout.write(
  `bounds: a file <= ${mib(rotateBytes + batchBytes)} MiB, the log on disk <= ${mib(bound)} MiB; ` +
    `processes left after stop: ${leftovers.length ? leftovers.join(', ') : 'none'}\n`,
);
rmSync(scratch, { recursive: true, force: true });
process.stdout.write(ok ? 'soak: ok\n' : 'soak: FAILED (see above)\n');
process.exit(ok ? 0 : 1);

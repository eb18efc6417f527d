// The `## Core life cycle` section of docs/benchmarks.md, rendered from one run's results.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mib, ms, range, ratio, summary, x } from './stats.mjs';

export const SECTION = '## Core life cycle';

const INTRO = `# Benchmarks

Every figure on this page is measured against an anchor run by the same script, in the same run,
with the repetitions of subject and anchor interleaved, and is given as a ratio to that anchor;
times are medians with the min-max range in brackets. The machine is a 2-core VM shared with
other work, so absolute milliseconds vary from run to run by 10-20 %, while the ratios hold.
`;

const TARGETS = { start: 1.15, respawn: 1.2, masterRssMiB: 8, masterCpuPct: 0.5, workerMiB: 2 };

/**
 * The anchor a row's ratios are taken against. Library mode re-executes its own ES module in
 * every worker, so its anchor is the bare master that does the same (`cluster-self`), and the
 * comparison is of drover against bare, not of ES module against CommonJS workers. Every other
 * row, `cluster-self` included (its ratio is what the ES module loader costs), is measured
 * against the CommonJS `cluster` anchor. A saved run without `cluster-self` falls back to `cluster`.
 */
const OWN_ANCHOR = { 'drover-manage': 'cluster-self' };

function anchorOf(key, keys) {
  const own = OWN_ANCHOR[key];
  return own && keys.includes(own) ? own : 'cluster';
}

/** What a ratio is taken against, as the report says it. */
const ANCHOR_NAMES = { cluster: 'the CommonJS anchor', 'cluster-self': 'the ES module anchor' };

/**
 * Columns and ratios of one scenario's samples (variant key → per-round samples): `ratioTo` takes
 * a row against its own anchor unless told another; `figure` is a target's figure, the ratio to
 * the row's anchor and, when that is not the CommonJS anchor, the ratio to it in square brackets.
 */
function ratiosOf(samples) {
  const keys = Object.keys(samples);
  const col = (key, field) => samples[key].map((s) => s[field]);
  const ratioTo = (key, field, anchor = anchorOf(key, keys)) => ratio(col(key, field), col(anchor, field));
  const figure = (key, field) => {
    const own = x(ratioTo(key, field).paired.median);
    return anchorOf(key, keys) === 'cluster'
      ? own
      : `${own} [${x(ratioTo(key, field, 'cluster').paired.median)}]`;
  };
  return { keys, col, ratioTo, figure };
}

/** A ratio judged at the precision it is shown with (two decimals). */
const within = (r, target) => Math.round(r * 100) / 100 <= target;

/** A timing target is judged by wall time; its CPU ratio, which other load disturbs far less, is shown beside it when the two disagree. */
function verdict({ ok, cpuOk }) {
  const word = (good) => (good ? 'met' : '**missed**');
  if (cpuOk === undefined || cpuOk === ok) return word(ok);
  return `${word(ok)} by wall time, ${word(cpuOk)} by CPU time`;
}

function startTable(start) {
  const lines = [
    '| workers | master | spawn of master → all ready, ms | ratio | first fork → all ready, ms | ratio | CPU to all ready, ms | ratio | worker CPU at ready, ms |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const verdicts = [];
  const notes = [];
  for (const { workers, samples } of start) {
    const { keys, col, ratioTo, figure } = ratiosOf(samples);
    const cell = (key, field, fmt = range) => (key === 'pm2' ? '–' : fmt(summary(col(key, field))));
    const ratioOf = (key, field) =>
      key === 'cluster' ? '1' : key === 'pm2' && field !== 'outsideMs' ? '–' : ratioCell(ratioTo(key, field));
    for (const key of keys) {
      let outside = range(summary(col(key, 'outsideMs')));
      if (key === 'pm2') outside += ` (script ran in all: ${ms(summary(col(key, 'codeMs')).median)})`;
      lines.push(
        `| ${workers} | ${LABELS[key]} | ${outside} | ${ratioOf(key, 'outsideMs')} | ${cell(key, 'insideMs')} | ${ratioOf(
          key,
          'insideMs',
        )} | ${cell(key, 'totalCpuMs', (v) => ms(v.median))} | ${ratioOf(key, 'totalCpuMs')} | ${cell(
          key,
          'workerCpuMs',
          (v) => ms(v.median),
        )} |`,
      );
      if (key.startsWith('drover')) {
        const anchor = anchorOf(key, keys);
        const rIn = ratioTo(key, 'insideMs');
        const rCpu = ratioTo(key, 'totalCpuMs');
        verdicts.push({
          what: `start ${workers} worker${workers > 1 ? 's' : ''}, ${NAMES[key]}: first fork → all ready`,
          figure: `${figure(key, 'insideMs')} (spawn of master: ${figure(key, 'outsideMs')}; CPU: ${figure(key, 'totalCpuMs')})`,
          target: `≤ ${TARGETS.start}× ${ANCHOR_NAMES[anchor]}`,
          ok: within(rIn.paired.median, TARGETS.start),
          cpuOk: within(rCpu.paired.median, TARGETS.start),
        });
        notes.push(
          `${workers} worker${workers > 1 ? 's' : ''}, ${NAMES[key]}: start() → first fork ${ms(
            summary(col(key, 'firstForkMs')).median,
          )} ms; master CPU from start() to all ready ${ms(summary(col(key, 'masterCpuMs')).median)} ms (${
            ANCHOR_NAMES[anchor]
          }: ${ms(summary(col(anchor, 'masterCpuMs')).median)} ms)`,
        );
      }
    }
  }
  return { table: lines.join('\n'), verdicts, notes };
}

function ratioCell(r) {
  return `${x(r.paired.median)} (${x(r.paired.min)}–${x(r.paired.max)})`;
}

function respawnTable(respawn) {
  const { samples } = respawn;
  const { keys, col, ratioTo, figure } = ratiosOf(samples);
  const lines = [
    '| master | kill → exit seen, ms | kill → replacement ready, ms | ratio | worker CPU at ready, ms | backoffs |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const verdicts = [];
  for (const key of keys) {
    const label = LABELS[key];
    const r = ratioTo(key, 'readyMs');
    let ready = range(summary(col(key, 'readyMs')));
    if (key === 'pm2') ready += ` (PM2 \`online\`: ${ms(summary(col(key, 'onlineMs')).median)})`;
    const backoffs = samples[key].filter((s) => s.backoff).length;
    lines.push(
      `| ${label} | ${range(summary(col(key, 'exitMs')))} | ${ready} | ${key === 'cluster' ? '1' : ratioCell(r)} | ${
        key === 'pm2' ? '–' : ms(summary(col(key, 'cpuMs')).median)
      } | ${backoffs} |`,
    );
    if (key.startsWith('drover')) {
      const rCpu = ratioTo(key, 'cpuMs');
      verdicts.push({
        what: `kill -9 → replacement ready, ${NAMES[key]}`,
        figure: `${figure(key, 'readyMs')} (replacement's CPU at ready: ${figure(key, 'cpuMs')})`,
        target: `≤ ${TARGETS.respawn}× ${ANCHOR_NAMES[anchorOf(key, keys)]}`,
        ok: within(r.paired.median, TARGETS.respawn),
        cpuOk: within(rCpu.paired.median, TARGETS.respawn),
      });
    }
  }
  return { table: lines.join('\n'), verdicts };
}

function idleTables(idle) {
  const keys = idle.rows.map((r) => r.key);
  const rowOf = (key) => idle.rows.find((r) => r.key === key);
  const cjs = rowOf('cluster');
  const master = [
    '| master | RSS MiB | PSS MiB | RssAnon MiB | RSS over its anchor, MiB | CPU, % of a core | helper processes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const worker = [
    '| worker of | RSS MiB | PSS MiB | RssAnon MiB | over bare `node app.cjs`: RSS / PSS / RssAnon, MiB |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  const plain = idle.plainWorker;
  worker.push(
    `| bare \`node app.cjs\` (no master) | ${mib(plain.rss)} | ${mib(plain.pss)} | ${mib(plain.anon)} | – |`,
  );
  const verdicts = [];
  for (const r of idle.rows) {
    const label = LABELS[r.key];
    const anchorKey = anchorOf(r.key, keys);
    const anchor = rowOf(anchorKey);
    const over = r.masterRss - anchor.masterRss;
    const helpers = r.helpers
      ? `${r.helpers} (${mib(r.helpersRss)} MiB RSS, ${r.helpersCpuPct.toFixed(3)} % CPU)`
      : 'none';
    master.push(
      `| ${label}${r.key === 'pm2' ? ' (daemon)' : ''} | ${mib(r.masterRss)} | ${mib(r.masterPss)} | ${mib(r.masterAnon)} | ${
        r.key === 'cluster' ? '–' : mib(over)
      } | ${r.masterCpuPct.toFixed(3)} | ${helpers} |`,
    );
    const w = r.worker;
    worker.push(
      `| ${label} | ${mib(w.rss)} | ${mib(w.pss)} | ${mib(w.anon)} | ${mib(w.rss - plain.rss)} / ${mib(w.pss - plain.pss)} / ${mib(
        w.anon - plain.anon,
      )} |`,
    );
    if (r.key.startsWith('drover')) {
      const own = anchorKey !== 'cluster';
      /** what a worker of each anchor has over bare node, for comparison */
      const anchorWorkers = (field) =>
        [...new Set([anchorKey, 'cluster'])]
          .map((k) => `a worker of ${ANCHOR_NAMES[k]}: ${mib(rowOf(k).worker[field] - plain[field])}`)
          .join('; ');
      verdicts.push(
        {
          what: `idle master RSS over ${ANCHOR_NAMES[anchorKey]}, ${NAMES[r.key]}`,
          figure: `${mib(over)} MiB (${mib(r.masterRss)} vs ${mib(anchor.masterRss)})${
            own ? ` [over ${ANCHOR_NAMES.cluster}: ${mib(r.masterRss - cjs.masterRss)}]` : ''
          }`,
          target: `≤ ${TARGETS.masterRssMiB} MB`,
          ok: over <= TARGETS.masterRssMiB * 1e6,
        },
        {
          what: `idle master CPU, ${NAMES[r.key]}`,
          figure: `${r.masterCpuPct.toFixed(3)} % of a core`,
          target: `< ${TARGETS.masterCpuPct} %`,
          ok: r.masterCpuPct < TARGETS.masterCpuPct,
        },
        {
          // The runtime's cost: a worker of the anchor runs the same script with the same IPC
          // channel (Node's own, under any master), and nothing of drover.
          what: `worker RSS: what drover's runtime adds, over a worker of ${ANCHOR_NAMES[anchorKey]} (same script), ${NAMES[r.key]}`,
          figure: `${mib(w.rss - anchor.worker.rss)} MiB (${mib(w.rss)} vs ${mib(anchor.worker.rss)}; over bare \`node app.cjs\`, no master: ${mib(
            w.rss - plain.rss,
          )}, ${anchorWorkers('rss')})`,
          target: `≤ ${TARGETS.workerMiB} MB`,
          ok: w.rss - anchor.worker.rss <= TARGETS.workerMiB * 1e6,
        },
        {
          what: `worker PSS: what drover's runtime adds, over a worker of ${ANCHOR_NAMES[anchorKey]} (same script), ${NAMES[r.key]}`,
          figure: `${mib(w.pss - anchor.worker.pss)} MiB (over bare \`node app.cjs\`: ${mib(w.pss - plain.pss)}, ${anchorWorkers('pss')})`,
          target: `≤ ${TARGETS.workerMiB} MB`,
          ok: w.pss - anchor.worker.pss <= TARGETS.workerMiB * 1e6,
        },
      );
    }
  }
  return { master: master.join('\n'), worker: worker.join('\n'), verdicts };
}

function bootTable(boot) {
  const keys = Object.keys(boot.samples);
  const cpu = (key) => summary(boot.samples[key].map((m) => m.cpuMs));
  const lines = [
    '| process | CPU used when the script begins, ms | over its reference, ms | reference |',
    '| --- | ---: | ---: | --- |',
  ];
  const row = (key, reference, referenceName) => {
    const c = cpu(key);
    const delta = c.median - cpu(reference).median;
    const over = key === reference ? 'reference' : `${delta < 0 ? '−' : '+'}${ms(Math.abs(delta))}`;
    lines.push(
      `| ${boot.labels[key]} | ${range(c)} | ${over} | ${key === reference ? '–' : referenceName} |`,
    );
  };
  for (const key of keys.filter((k) => !k.startsWith('node'))) {
    const reference = anchorOf(key, keys);
    row(key, reference, `a worker of ${ANCHOR_NAMES[reference]}`);
  }
  for (const key of keys.filter((k) => k.startsWith('node'))) row(key, 'node', '`node app.cjs`');
  return lines.join('\n');
}

/** Short names, for verdicts and notes. */
const NAMES = {};
/** Table rows: the name, and the anchor the row's ratios are taken against where that is not the CommonJS one. */
const LABELS = {};

/** Every variant key the run measured, in any scenario. */
function measuredKeys(results) {
  const keys = new Set();
  for (const s of results.start ?? []) for (const k of Object.keys(s.samples)) keys.add(k);
  for (const k of Object.keys(results.respawn?.samples ?? {})) keys.add(k);
  for (const r of results.idle?.rows ?? []) keys.add(r.key);
  for (const k of Object.keys(results.boot?.samples ?? {})) keys.add(k);
  return [...keys];
}

export function renderReport(results, command) {
  const { machine } = results;
  Object.assign(NAMES, {
    'drover-script': 'drover, script mode',
    'drover-manage': 'drover, library mode',
    cluster: 'bare `cluster.fork`, CommonJS workers',
    'cluster-self': 'bare `cluster.fork`, its ES module re-executed',
    fork: 'bare `child_process.fork`',
    pm2: machine.pm2.startsWith('pm2') ? `PM2 ${machine.pm2.split(/[ ,]/)[1]}, cluster` : 'PM2',
  });
  const selfAnchored = anchorOf('drover-manage', measuredKeys(results)) === 'cluster-self';
  Object.assign(LABELS, NAMES, {
    cluster: `${NAMES.cluster} (the CommonJS anchor)`,
    'cluster-self': `${NAMES['cluster-self']} (the ES module anchor; vs. the CommonJS anchor)`,
    'drover-manage': selfAnchored
      ? `${NAMES['drover-manage']} (vs. the ES module anchor)`
      : NAMES['drover-manage'],
  });
  const anchors = selfAnchored
    ? [
        "two anchors, bare masters that fork in one loop, whose workers send 'ready' once the script has run (where drover's runtime reports ready) and are respawned on `exit`:",
        '**the CommonJS anchor**, a `cluster.fork` master whose workers run a CommonJS file (`bare-worker.cjs`, which requires app.cjs),',
        "and **the ES module anchor**, a `cluster.fork` master in Node's cluster idiom (`if (cluster.isPrimary) fork() else serve()`): one ES module re-executed in every worker, as library mode's script is;",
      ]
    : [
        "the anchor, a **bare `cluster.fork` master** (one loop of forks; workers send 'ready' once the script has loaded, where drover's runtime reports ready, and are respawned on `exit`);",
      ];
  const anchoring = selfAnchored
    ? [
        "Ratios are to the CommonJS anchor, except library mode's, which are to the ES module anchor: a worker whose main script is an ES module pays for Node's ES module loader whoever its master is, and that cost is not drover's. The ES module anchor's own ratios to the CommonJS anchor show it; library mode's targets give its ratio to the CommonJS anchor too, in square brackets.",
      ]
    : [];
  const ca = machine.extraCaCerts
    ? `**set** (\`${machine.extraCaCerts}\`): every Node start loads that CA bundle, about 65 ms of CPU per process on this machine, which inflates every start and respawn figure (drover's, the anchors' and PM2's alike) by roughly 2.5× and so pulls every ratio towards 1${
        results.withoutCa ? '; the start and respawn runs were repeated without it (last sections)' : ''
      }`
    : 'not set';
  const out = [
    SECTION,
    '',
    `Measured ${machine.date} with \`${command}\` (${results.wallSeconds.toFixed(0)} s), on ${machine.cpus} × ${machine.cpuModel}, Linux ${machine.kernel}, Node ${machine.node}; @drover/core built from ${machine.core}. \`NODE_EXTRA_CA_CERTS\` was ${ca}. PM2: ${machine.pm2}.`,
    '',
    `Masters compared, each running the same idle service (\`bench/core/fixtures/app.cjs\`; in library mode${
      selfAnchored ? ' and its anchor' : ''
    }, imported by the re-executed module):`,
    "**drover, script mode** (`Manage` with `scriptLaunch('app.cjs')`, as `drover start app.cjs`: workers run app.cjs as their main module with drover's bootstrap preload);",
    '**drover, library mode** (`new Manage(...)` whose ES module script is re-executed in every worker, which then imports `@drover/core`: under `--conditions=drover-worker` a worker resolves it to its worker entry, about 77 kB in two files, without the master side);',
    ...anchors,
    'a bare `child_process.fork` master; and PM2 in cluster mode. drover runs with its defaults (log level info to a pipe).',
    ...anchoring,
    'Before each round the bench waits (at most 3 s) for the machine to be 80 % idle; the variants run in a rotating order within each round, and ratios are the median of per-round ratios (min-max in brackets).',
    '',
  ];
  const verdicts = [];
  if (results.start) {
    const s = startTable(results.start);
    verdicts.push(...s.verdicts);
    const reps = results.options.reps;
    const noisy = results.start.reduce((a, r) => a + r.noisy, 0);
    const rounds = reps * results.start.length;
    out.push(
      '### Start: N workers until all ready',
      '',
      `A fresh master process per repetition, ${reps} rounds per worker count after one warm-up round. "spawn of master → all ready" is timed by the bench from spawning the master's process to the master's "all ready" line (for PM2: \`pm2 start app.cjs -i N\` with no daemon running, until the command returns with every instance \`online\`; in brackets, until the last instance ran the script). "first fork → all ready" is timed inside the master: drover from \`start()\` (lock, control socket, pid file, reaper, forks), a bare master from its first fork. "CPU to all ready" is the CPU time (utime + stime) the master spent from \`start()\` or its first fork, plus each worker's CPU time when it reported ready ("worker CPU at ready", median): on 2 cores the start of many workers is bound by it, and it depends far less than wall time on what else the machine runs. ${noisy} of ${rounds} rounds began on a busy machine.`,
      '',
      s.table,
      '',
      ...s.notes.map((n) => `- ${n}`),
      '',
    );
  }
  if (results.respawn) {
    const r = respawnTable(results.respawn);
    verdicts.push(...r.verdicts);
    out.push(
      '### Respawn: kill -9 of one worker until its replacement is ready',
      '',
      `Every master holds ${results.respawn.workers} workers; each round SIGKILLs the next PIN in every master (${results.options.kills} rounds after a warm-up kill), timed inside the master from the kill to the exit event and to the replacement's ready (PM2: the replacement's marker shows the script ran; PM2's \`online\` in brackets). A PIN is killed again only after its worker lived 1.5 s; drover runs with \`restart.stableAfterMs: 1000\` (default 10 s: a second crash within 10 s is a crash loop and is backed off) and PM2 with its default \`min_uptime\` of 1 s. ${results.respawn.noisy} of ${results.options.kills} rounds began on a busy machine.`,
      '',
      r.table,
      '',
    );
  }
  if (results.idle) {
    const i = idleTables(results.idle);
    verdicts.push(...i.verdicts);
    out.push(
      '### Idle: master cost with idle workers, and memory per worker',
      '',
      `Every master holds ${results.idle.workers} idle workers; all run at once, and after 5 s of settling the CPU time (utime + stime from \`/proc/<pid>/stat\`) of each master is taken over ${results.idle.seconds.toFixed(0)} s; memory is read at the end (VmRSS and RssAnon from \`/proc/<pid>/status\`, PSS from \`smaps_rollup\`; medians over the workers). RSS counts the node binary's shared pages in full; PSS divides them among the processes sharing them, and RssAnon is the private heap: PSS and RssAnon are the honest per-process cost. What drover's runtime costs a worker is read against a worker of its anchor running the same script: both have Node's IPC channel and cluster worker, which any master's worker has and which a bare \`node app.cjs\` lacks (the worker table's last column shows both).`,
      '',
      i.master,
      '',
      i.worker,
      '',
    );
  }
  if (results.boot) {
    out.push(
      "### Where a worker's start-up goes",
      '',
      `CPU time (\`process.cpuUsage()\`, user + system) a worker process has used when the user's script begins, one worker at a time, ${results.options['boot-reps']} interleaved rounds (${results.boot.noisy} began on a busy machine). In drover's script mode the script is \`app.cjs\`; in library mode it is the \`setWorkInit\` function, after the re-executed script imported \`@drover/core\`. The last three rows run \`app.cjs\` under plain node (no IPC, no master): as it is, with drover's worker preload as drover passes it (\`--import\` of \`dist/worker/bootstrap.js\`, an ES module graph), and with that same preload bundled by rolldown into one CommonJS file loaded with \`--require\`, a measured alternative. Without a master the preload loads its modules but installs nothing, so these rows isolate the cost of loading it.${
        selfAnchored
          ? " A worker of the ES module anchor begins its script at the top of the re-executed module: library mode's row over it is what drover adds to a worker, and its own row over the CommonJS anchor is what Node's ES module loader adds."
          : ''
      }`,
      '',
      bootTable(results.boot),
      '',
    );
  }
  if (results.withoutCa) {
    const caFree = ' (without the CA bundle)';
    out.push(
      '### Start and respawn without NODE_EXTRA_CA_CERTS',
      '',
      "The same two scenarios again, with `NODE_EXTRA_CA_CERTS` emptied in every master and worker, as on a machine that does not set it (PM2 not run: its daemon keeps the environment it was started with). Node then starts in about a third of the time, and drover's fixed costs (the master's work before its first fork, the worker runtime, in library mode the import of `@drover/core`) weigh about three times as much in every ratio.",
      '',
    );
    if (results.withoutCa.start) {
      const s = startTable(results.withoutCa.start);
      verdicts.push(...s.verdicts.map((v) => ({ ...v, what: v.what + caFree })));
      const noisy = results.withoutCa.start.reduce((a, r) => a + r.noisy, 0);
      out.push(
        `Start, ${results.options.reps} rounds per worker count (${noisy} of ${results.options.reps * results.withoutCa.start.length} began on a busy machine):`,
        '',
        s.table,
        '',
        ...s.notes.map((n) => `- ${n}`),
        '',
      );
    }
    if (results.withoutCa.respawn) {
      const r = respawnTable(results.withoutCa.respawn);
      verdicts.push(...r.verdicts.map((v) => ({ ...v, what: v.what + caFree })));
      out.push(
        `Respawn, ${results.options.kills} kills per master (${results.withoutCa.respawn.noisy} began on a busy machine):`,
        '',
        r.table,
        '',
      );
    }
  }
  if (verdicts.length) {
    out.push(
      '### Targets',
      '',
      '| what | figure | target | |',
      '| --- | --- | --- | --- |',
      ...verdicts.map((v) => `| ${v.what} | ${v.figure} | ${v.target} | ${verdict(v)} |`),
      '',
      ...(selfAnchored
        ? [
            "Library mode's figures are ratios to the ES module anchor; in square brackets, to the CommonJS anchor.",
            '',
          ]
        : []),
      'When most rounds began on a busy machine, wall-time ratios scatter widely (see the ranges above); the CPU ratios do not, and on an idle 2-core machine a start is CPU-bound (one worker: wall time to ready ≈ its CPU time; 16 workers: ≈ their total CPU time / 2), so where the two disagree the CPU ratio is the better forecast for a quiet machine.',
      '',
    );
  }
  return out.join('\n');
}

/** Replaces (or appends) the Core life cycle section of `file`, keeping every other section. */
export function writeDocsSection(file, section) {
  const body = section.endsWith('\n') ? section : `${section}\n`;
  if (!existsSync(file)) {
    writeFileSync(file, `${INTRO}\n${body}`);
    return file;
  }
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(`\n${SECTION}\n`);
  if (start < 0) {
    writeFileSync(file, `${text.replace(/\n*$/, '\n\n')}${body}`);
    return file;
  }
  const rest = text.slice(start + 1 + SECTION.length);
  const next = rest.search(/\n## /);
  const after = next < 0 ? '' : rest.slice(next + 1);
  writeFileSync(file, `${text.slice(0, start + 1)}${body}${after ? `\n${after}` : ''}`);
  return file;
}

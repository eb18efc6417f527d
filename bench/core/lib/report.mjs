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
    const col = (key, field) => samples[key].map((s) => s[field]);
    const cell = (key, field, fmt = range) => (key === 'pm2' ? '–' : fmt(summary(col(key, field))));
    const ratioOf = (key, field) =>
      key === 'cluster'
        ? '1'
        : key === 'pm2' && field !== 'outsideMs'
          ? '–'
          : ratioCell(ratio(col(key, field), col('cluster', field)));
    for (const key of Object.keys(samples)) {
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
        const rIn = ratio(col(key, 'insideMs'), col('cluster', 'insideMs'));
        const rOut = ratio(col(key, 'outsideMs'), col('cluster', 'outsideMs'));
        const rCpu = ratio(col(key, 'totalCpuMs'), col('cluster', 'totalCpuMs'));
        verdicts.push({
          what: `start ${workers} worker${workers > 1 ? 's' : ''}, ${LABELS[key]}: first fork → all ready`,
          figure: `${x(rIn.paired.median)} (spawn of master: ${x(rOut.paired.median)}; CPU: ${x(rCpu.paired.median)})`,
          target: `≤ ${TARGETS.start}×`,
          ok: within(rIn.paired.median, TARGETS.start),
          cpuOk: within(rCpu.paired.median, TARGETS.start),
        });
        notes.push(
          `${workers} worker${workers > 1 ? 's' : ''}, ${LABELS[key]}: start() → first fork ${ms(
            summary(col(key, 'firstForkMs')).median,
          )} ms; master CPU from start() to all ready ${ms(summary(col(key, 'masterCpuMs')).median)} ms (anchor: ${ms(
            summary(col('cluster', 'masterCpuMs')).median,
          )} ms)`,
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
  const col = (key, field) => samples[key].map((s) => s[field]);
  const lines = [
    '| master | kill → exit seen, ms | kill → replacement ready, ms | ratio | worker CPU at ready, ms | backoffs |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const verdicts = [];
  for (const key of Object.keys(samples)) {
    const label = LABELS[key];
    const r = ratio(col(key, 'readyMs'), col('cluster', 'readyMs'));
    let ready = range(summary(col(key, 'readyMs')));
    if (key === 'pm2') ready += ` (PM2 \`online\`: ${ms(summary(col(key, 'onlineMs')).median)})`;
    const backoffs = samples[key].filter((s) => s.backoff).length;
    lines.push(
      `| ${label} | ${range(summary(col(key, 'exitMs')))} | ${ready} | ${key === 'cluster' ? '1' : ratioCell(r)} | ${
        key === 'pm2' ? '–' : ms(summary(col(key, 'cpuMs')).median)
      } | ${backoffs} |`,
    );
    if (key.startsWith('drover')) {
      const rCpu = ratio(col(key, 'cpuMs'), col('cluster', 'cpuMs'));
      verdicts.push({
        what: `kill -9 → replacement ready, ${label}`,
        figure: `${x(r.paired.median)} (replacement's CPU at ready: ${x(rCpu.paired.median)})`,
        target: `≤ ${TARGETS.respawn}×`,
        ok: within(r.paired.median, TARGETS.respawn),
        cpuOk: within(rCpu.paired.median, TARGETS.respawn),
      });
    }
  }
  return { table: lines.join('\n'), verdicts };
}

function idleTables(idle) {
  const anchor = idle.rows.find((r) => r.key === 'cluster');
  const master = [
    '| master | RSS MiB | PSS MiB | RssAnon MiB | RSS over anchor, MiB | CPU, % of a core | helper processes |',
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
      verdicts.push(
        {
          what: `idle master RSS over the anchor, ${label}`,
          figure: `${mib(over)} MiB (${mib(r.masterRss)} vs ${mib(anchor.masterRss)})`,
          target: `≤ ${TARGETS.masterRssMiB} MB`,
          ok: over <= TARGETS.masterRssMiB * 1e6,
        },
        {
          what: `idle master CPU, ${label}`,
          figure: `${r.masterCpuPct.toFixed(3)} % of a core`,
          target: `< ${TARGETS.masterCpuPct} %`,
          ok: r.masterCpuPct < TARGETS.masterCpuPct,
        },
        {
          what: `worker RSS over the same script under bare node, ${label}`,
          figure: `${mib(w.rss - plain.rss)} MiB (a bare cluster worker: ${mib(anchor.worker.rss - plain.rss)})`,
          target: `≤ ${TARGETS.workerMiB} MB`,
          ok: w.rss - plain.rss <= TARGETS.workerMiB * 1e6,
        },
        {
          what: `worker PSS over the same script under bare node, ${label}`,
          figure: `${mib(w.pss - plain.pss)} MiB (a bare cluster worker: ${mib(anchor.worker.pss - plain.pss)})`,
          target: `≤ ${TARGETS.workerMiB} MB`,
          ok: w.pss - plain.pss <= TARGETS.workerMiB * 1e6,
        },
      );
    }
  }
  return { master: master.join('\n'), worker: worker.join('\n'), verdicts };
}

function bootTable(boot) {
  const cpu = (key) => summary(boot.samples[key].map((m) => m.cpuMs));
  const lines = [
    '| process | CPU used when the script begins, ms | over the reference, ms |',
    '| --- | ---: | ---: |',
  ];
  const row = (key, reference) => {
    const c = cpu(key);
    const over = key === reference ? 'reference' : `+${ms(c.median - cpu(reference).median)}`;
    lines.push(`| ${boot.labels[key]} | ${range(c)} | ${over} |`);
  };
  for (const key of Object.keys(boot.samples).filter((k) => !k.startsWith('node'))) row(key, 'cluster');
  for (const key of Object.keys(boot.samples).filter((k) => k.startsWith('node'))) row(key, 'node');
  return lines.join('\n');
}

const LABELS = {};

export function renderReport(results, command) {
  const { machine } = results;
  Object.assign(LABELS, {
    'drover-script': 'drover, script mode',
    'drover-manage': 'drover, library mode',
    cluster: 'bare `cluster.fork` (anchor)',
    fork: 'bare `child_process.fork`',
    pm2: machine.pm2.startsWith('pm2') ? `PM2 ${machine.pm2.split(/[ ,]/)[1]}, cluster` : 'PM2',
  });
  const ca = machine.extraCaCerts
    ? `**set** (\`${machine.extraCaCerts}\`): every Node start loads that CA bundle, about 65 ms of CPU per process on this machine, which inflates every start and respawn figure (drover's, the anchors' and PM2's alike) by roughly 2.5×`
    : 'not set';
  const out = [
    SECTION,
    '',
    `Measured ${machine.date} with \`${command}\` (${results.wallSeconds.toFixed(0)} s), on ${machine.cpus} × ${machine.cpuModel}, Linux ${machine.kernel}, Node ${machine.node}; @drover/core built from ${machine.core}. \`NODE_EXTRA_CA_CERTS\` was ${ca}. PM2: ${machine.pm2}.`,
    '',
    'Masters compared, each running the same idle service (`bench/core/fixtures/app.cjs`):',
    "**drover, script mode** (`Manage` with `scriptLaunch('app.cjs')`, as `drover start app.cjs`: workers run app.cjs as their main module with drover's bootstrap preload);",
    '**drover, library mode** (`new Manage(...)` whose script is re-executed in every worker, which then loads all of `@drover/core`);',
    "the anchor, a **bare `cluster.fork` master** (one loop of forks; workers send 'ready' once the script has loaded, where drover's runtime reports ready, and are respawned on `exit`);",
    'a bare `child_process.fork` master; and PM2 in cluster mode. drover runs with its defaults (log level info to a pipe).',
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
      `Every master holds ${results.idle.workers} idle workers; all run at once, and after 5 s of settling the CPU time (utime + stime from \`/proc/<pid>/stat\`) of each master is taken over ${results.idle.seconds.toFixed(0)} s; memory is read at the end (VmRSS and RssAnon from \`/proc/<pid>/status\`, PSS from \`smaps_rollup\`; medians over the workers). RSS counts the node binary's shared pages in full; PSS divides them among the processes sharing them, and RssAnon is the private heap: PSS and RssAnon are the honest per-process cost.`,
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
      `CPU time (\`process.cpuUsage()\`, user + system) a worker process has used when the user's script begins, one worker at a time, ${results.options['boot-reps']} interleaved rounds (${results.boot.noisy} began on a busy machine). In drover's script mode the script is \`app.cjs\`; in library mode it is the \`setWorkInit\` function, after the re-executed script imported \`@drover/core\`. The last three rows run \`app.cjs\` under plain node (no IPC, no master): as it is, with drover's worker preload as drover passes it (\`--import\` of \`dist/worker/bootstrap.js\`, an ES module graph), and with that same preload bundled by rolldown into one CommonJS file loaded with \`--require\`, a measured alternative. Without a master the preload loads its modules but installs nothing, so these rows isolate the cost of loading it.`,
      '',
      bootTable(results.boot),
      '',
    );
  }
  if (verdicts.length) {
    out.push(
      '### Targets',
      '',
      '| what | figure | target | |',
      '| --- | --- | --- | --- |',
      ...verdicts.map((v) => `| ${v.what} | ${v.figure} | ${v.target} | ${verdict(v)} |`),
      '',
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

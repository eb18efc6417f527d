import { escapeControl } from '../log/format.js';
import type {
  ExitRecord,
  GroupStatus,
  MasterStatus,
  PinProcessStatus,
  WorkerState,
  WorkerStatus,
} from '../status.js';
import { ansi, type Palette, plain } from './palette.js';
import { renderStatusDetails } from './StatusDetails.js';
import { type Cell, type Column, renderTable } from './table.js';
import { formatBytes, formatClock, formatDuration, formatPercent, formatWait } from './units.js';

export interface StatusTableOptions {
  /** ANSI colours; default false */
  color?: boolean;
  /** epoch ms the relative times are measured from; default `Date.now()` */
  now?: number;
  /** terminal width: titles and last exits are cut to fit; default: no limit */
  width?: number;
  /**
   * Under each group's tables, what it runs and how (`drover status <name>`): script and
   * arguments, working directory, config file entry, log file, Node options, the options that
   * differ from the defaults, the last environment update and the last reload. Default false.
   */
  details?: boolean;
}

const MASTER_COLUMNS: Column[] = [
  { header: 'TYPE' },
  { header: 'PID', align: 'right' },
  { header: 'TITLE', minWidth: 12 },
  { header: 'STATE' },
  { header: 'MEMORY', align: 'right' },
  { header: 'STARTED' },
  { header: 'RUN', align: 'right' },
  { header: 'WORKERS', align: 'right' },
];

const WORKER_COLUMNS: Column[] = [
  { header: 'PIN', align: 'right' },
  { header: 'PID', align: 'right' },
  { header: 'TITLE', minWidth: 12 },
  { header: 'STATE' },
  { header: 'MEMORY', align: 'right' },
  { header: 'CPU', align: 'right' },
  { header: 'STARTED' },
  { header: 'RUN', align: 'right' },
  { header: 'EXECUTIONS', align: 'right' },
  { header: 'RESTARTS', align: 'right' },
  { header: 'LAST EXIT', minWidth: 16 },
];

function stateColor(state: WorkerState | MasterStatus['state'], p: Palette): (text: string) => string {
  switch (state) {
    case 'ready':
    case 'running':
      return p.green;
    case 'busy':
      return p.cyan;
    case 'starting':
    case 'draining':
    case 'reloading':
    case 'stopping':
      return p.yellow;
    case 'backoff':
    case 'failed':
      return p.red;
    default:
      return p.dim;
  }
}

/** `code 1, crash, 3s ago: Error: boom` / `SIGKILL, stop, 2m 01s ago` / `-`. */
export function describeExit(exit: ExitRecord | null, now: number): string {
  if (!exit) return '-';
  const how = exit.signal ?? `code ${exit.code ?? '?'}`;
  const ago = formatDuration(Math.max(0, (now - exit.at) / 1000));
  // the error text comes from the worker: never let it move the cursor or start a line
  return `${how}, ${exit.reason}, ${ago} ago${exit.error ? `: ${escapeControl(exit.error)}` : ''}`;
}

function workerState(w: WorkerStatus, now: number): string {
  if (w.suspended) return 'suspended (SIGSTOP)';
  if (w.unresponsive) return `${w.state}, not answering`;
  if (w.state === 'backoff' && w.nextStartAt) {
    return `backoff ${formatWait(w.nextStartAt - now)}`;
  }
  return w.state;
}

function masterRow(m: MasterStatus, p: Palette, now: number): Cell[] {
  const short = m.workerCount < m.targetWorkers;
  return [
    { text: 'Master', paint: p.bold },
    { text: String(m.pid) },
    { text: escapeControl(m.title) },
    { text: m.state, paint: stateColor(m.state, p) },
    { text: formatBytes(m.memory) },
    { text: formatClock(m.startedAt, now) },
    { text: formatDuration(m.uptimeSeconds) },
    { text: `${m.workerCount}/${m.targetWorkers}`, paint: short ? p.yellow : undefined },
  ];
}

function workerRow(w: WorkerStatus, p: Palette, now: number): Cell[] {
  const alive = w.pid !== null;
  const badExit = w.lastExit && (w.lastExit.reason === 'crash' || w.lastExit.reason === 'hang');
  return [
    { text: String(w.pin) },
    { text: alive ? String(w.pid) : '-' },
    { text: escapeControl(w.title), paint: alive ? undefined : p.dim },
    { text: workerState(w, now), paint: w.unresponsive ? p.yellow : stateColor(w.state, p) },
    { text: formatBytes(w.memory) },
    { text: formatPercent(w.cpu) },
    { text: formatClock(w.startedAt, now) },
    { text: alive ? formatDuration(w.uptimeSeconds) : '-' },
    { text: String(w.executions) },
    { text: String(w.restarts), paint: w.restarts > 0 ? p.yellow : undefined },
    { text: describeExit(w.lastExit, now), paint: badExit ? p.red : undefined },
  ];
}

/** A PIN's successor or replaced process, on a line of its own under the PIN's line. */
function otherRow(pin: number, o: PinProcessStatus, p: Palette, now: number): Cell[] {
  return [
    { text: String(pin), paint: p.dim },
    { text: String(o.pid) },
    { text: escapeControl(o.title) },
    { text: `${o.state} (${o.role})`, paint: stateColor(o.state, p) },
    { text: formatBytes(o.memory) },
    { text: '-' },
    { text: formatClock(o.startedAt, now) },
    { text: formatDuration(o.uptimeSeconds) },
    { text: '-' },
    { text: '-' },
    { text: '-' },
  ];
}

function workerRows(w: WorkerStatus, p: Palette, now: number): Cell[][] {
  const rows = [workerRow(w, p, now)];
  for (const o of w.others ?? []) rows.push(otherRow(w.pin, o, p, now));
  return rows;
}

/**
 * The status of one or more groups as aligned tables: for each group a master line (type, pid,
 * title, state, memory, start time, run time, live/target workers) and one line per worker
 * (pin, pid, title, state, memory, CPU %, start time, run time, executions, restarts, last
 * exit), then a line for each other process of its PIN while a reload or a recycle replaces it
 * (`starting (successor)`, `draining (replaced)`). Groups are separated by a blank line. Sizes
 * are in KiB/MiB/GiB, run times in the two largest units, start times in local time.
 */
export function renderStatusTable(groups: GroupStatus[], opts: StatusTableOptions = {}): string {
  const p = opts.color ? ansi : plain;
  const now = opts.now ?? Date.now();
  if (groups.length === 0) return 'no drover group is running\n';
  const blocks = groups.map((group) => {
    const master = renderTable(MASTER_COLUMNS, [masterRow(group.master, p, now)], p, opts.width);
    // a daemon's log that cannot be written has no other place to say so
    if (group.master.logProblem) master.push(p.red(`log: ${escapeControl(group.master.logProblem)}`));
    const workers =
      group.workers.length === 0
        ? [p.dim('no workers')]
        : renderTable(
            WORKER_COLUMNS,
            group.workers.flatMap((w) => workerRows(w, p, now)),
            p,
            opts.width,
          );
    const details = opts.details ? ['', ...renderStatusDetails(group.master, p, now, opts.width)] : [];
    return [...master, '', ...workers, ...details].join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}

import { resolveManageConfig } from '../config.js';
import { escapeControl } from '../log/format.js';
import { optionsStatus } from '../master/describeGroup.js';
import type { GroupOptionsStatus, MasterStatus, ReloadStatus } from '../status.js';
import type { Palette } from './palette.js';
import { formatBytes, formatClock, formatMs } from './units.js';

/** A line of the block: its label and its value, already painted. */
interface DetailLine {
  label: string;
  /** the value's parts, joined by a space; a line longer than the width breaks between them */
  parts: string[];
  /** put after every part but the last (`,` for a list) */
  after?: string;
}

const GAP = '  ';
/** env names shown before `+N more`: the JSON has them all */
const MAX_NAMES = 8;

let defaults: GroupOptionsStatus | undefined;

/** The options of a group that sets none, to tell which ones a group set. */
function defaultOptions(): GroupOptionsStatus {
  defaults ??= optionsStatus(resolveManageConfig({ baseTitle: 'defaults' }));
  return defaults;
}

/**
 * The block `drover status <name>` prints under a group's tables: what its workers run (script
 * and arguments, directory, config file entry, log file, Node options), the options that differ
 * from the defaults, the last environment update and the last rolling reload. Labels in a column,
 * as the table aligns its own; a master older than these fields gets one line saying so.
 */
export function renderStatusDetails(master: MasterStatus, p: Palette, now: number, width?: number): string[] {
  const lines: DetailLine[] = [];
  const { run, options } = master;
  if (run) {
    const script = [run.script, ...run.args].map((word) => shellWord(escapeControl(word))).join(' ');
    lines.push({
      label: 'script',
      parts: [run.mode === 'entry' ? `${script} ${p.dim("(the group's own entry, run again)")}` : script],
    });
    lines.push({ label: 'cwd', parts: [escapeControl(run.cwd)] });
    if (run.source)
      lines.push({
        label: 'config',
        parts: [`${escapeControl(run.source.file)}, entry '${escapeControl(master.baseTitle)}'`],
      });
    lines.push({
      label: 'log',
      parts: [
        run.logFile
          ? escapeControl(run.logFile)
          : p.dim("no file: the master's terminal, or a logger of its own"),
      ],
    });
    if (run.execArgv.length > 0)
      lines.push({ label: 'node', parts: run.execArgv.map((a) => shellWord(escapeControl(a))) });
  }
  if (options) {
    const set = setOptions(options);
    lines.push({ label: 'options', parts: set.length > 0 ? set : [p.dim('defaults')], after: ',' });
  }
  if (master.envUpdatedAt !== undefined) {
    lines.push({ label: 'env', parts: envParts(master, now), after: ',' });
  } else if (run) {
    lines.push({ label: 'env', parts: [p.dim('as started')] });
  }
  if (master.lastReload) {
    lines.push({ label: 'reload', parts: [reloadText(master.lastReload, p, now)] });
  } else if (run) {
    lines.push({ label: 'reload', parts: [p.dim('none since the start')] });
  }
  if (lines.length === 0) {
    lines.push({
      label: 'details',
      parts: [p.dim(`not reported by this master (drover ${escapeControl(String(master.version))})`)],
    });
  }
  const labelWidth = Math.max(...lines.map((l) => l.label.length));
  return lines.flatMap((line) => layout(line, labelWidth, p, width));
}

/** The line's label and value; a value too long for `width` breaks between parts, under the value. */
function layout(line: DetailLine, labelWidth: number, p: Palette, width?: number): string[] {
  const indent = ' '.repeat(labelWidth + GAP.length);
  const head = p.bold(line.label) + ' '.repeat(labelWidth - line.label.length) + GAP;
  const out: string[] = [];
  let current = '';
  let currentWidth = 0;
  line.parts.forEach((part, i) => {
    const piece = i < line.parts.length - 1 ? part + (line.after ?? '') : part;
    const pieceWidth = visible(piece);
    const fits = width === undefined || width <= 0 || indent.length + currentWidth + 1 + pieceWidth <= width;
    if (current === '' || !fits) {
      if (current !== '') out.push(current);
      current = piece;
      currentWidth = pieceWidth;
    } else {
      current += ` ${piece}`;
      currentWidth += 1 + pieceWidth;
    }
  });
  out.push(current);
  return out.map((text, i) => (i === 0 ? head : indent) + text);
}

function visible(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** A word as a shell would need it: quoted when it holds anything but plain characters. */
function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `maxMemory 300 MiB`, `stopTimeout 5s`, ...: the options whose value is not the default. */
function setOptions(o: GroupOptionsStatus): string[] {
  const d = defaultOptions();
  const items: string[] = [];
  const add = (key: string, value: unknown, fallback: unknown, text: () => string) => {
    if (value !== undefined && value !== fallback) items.push(`${key} ${escapeControl(text())}`);
  };
  add('maxMemory', o.maxMemory, d.maxMemory, () => formatBytes(o.maxMemory));
  add('readyWhen', o.readyWhen, d.readyWhen, () => String(o.readyWhen));
  add('readyTimeout', o.readyTimeout, d.readyTimeout, () => formatMs(o.readyTimeout));
  add('stopTimeout', o.stopTimeout, d.stopTimeout, () => formatMs(o.stopTimeout));
  add('hangTimeout', o.hangTimeout, d.hangTimeout, () => formatMs(o.hangTimeout));
  add('executeTimes', o.executeTimes, d.executeTimes, () => String(o.executeTimes));
  add('limitSeconds', o.limitSeconds, d.limitSeconds, () => formatMs(o.limitSeconds * 1000));
  add('recycleJitter', o.recycleJitter, d.recycleJitter, () => String(o.recycleJitter));
  const r = o.restart ?? d.restart;
  add('restart.initialDelayMs', r.initialDelayMs, d.restart.initialDelayMs, () => formatMs(r.initialDelayMs));
  add('restart.maxDelayMs', r.maxDelayMs, d.restart.maxDelayMs, () => formatMs(r.maxDelayMs));
  add('restart.factor', r.factor, d.restart.factor, () => String(r.factor));
  add('restart.stableAfterMs', r.stableAfterMs, d.restart.stableAfterMs, () => formatMs(r.stableAfterMs));
  add('restart.maxRestarts', r.maxRestarts, d.restart.maxRestarts, () => String(r.maxRestarts));
  add('normalExitCode', o.normalExitCode, d.normalExitCode, () => String(o.normalExitCode));
  add('user', o.user, undefined, () => String(o.user));
  add('group', o.group, undefined, () => String(o.group));
  return items;
}

/** `updated 10:40:12 by reload: changed FOO BAR`, `added NEW`, `removed OLD`, `+3 more`. */
function envParts(master: MasterStatus, now: number): string[] {
  const update = master.envUpdate;
  const head = `updated ${formatClock(master.envUpdatedAt, now)}${update ? ` by ${update.by}` : ''}`;
  if (!update) return [head];
  const parts: string[] = [];
  let shown = 0;
  let total = 0;
  for (const [what, names] of [
    ['changed', update.changed ?? []],
    ['added', update.added ?? []],
    ['removed', update.removed ?? []],
  ] as const) {
    total += names.length;
    const taken = names.slice(0, Math.max(0, MAX_NAMES - shown));
    shown += taken.length;
    if (taken.length > 0) parts.push(`${what} ${taken.map(escapeControl).join(' ')}`);
  }
  if (total === 0) return [`${head}, no variable changed`];
  if (shown < total) parts.push(`+${total - shown} more`);
  return [`${head}: ${parts[0]}`, ...parts.slice(1)];
}

/** `ok, 4 replaced, 10:42:03` / `stopped after 1 replaced, 10:42:03: <error>`. */
function reloadText(r: ReloadStatus, p: Palette, now: number): string {
  const at = formatClock(r.at, now);
  const counts = [`${r.replaced} replaced`, ...(r.started > 0 ? [`${r.started} started`] : [])];
  const env = r.envUpdate ? (r.aborted ? ', environment update not kept' : ', environment updated') : '';
  if (r.aborted) {
    const why = r.error ? `: ${escapeControl(r.error)}` : '';
    return `${p.red(`stopped after ${counts.join(', ')}`)}, ${at}${env}${why}`;
  }
  const notStarted = r.notStarted ?? [];
  if (notStarted.length > 0) {
    const pins = `worker${notStarted.length > 1 ? 's' : ''} ${notStarted.join(', ')} did not start`;
    return `${p.yellow(`done, ${counts.join(', ')}, ${pins}`)}, ${at}${env}`;
  }
  return `${p.green('ok')}, ${counts.join(', ')}, ${at}${env}`;
}

import { type OptionSpec, primaryFlag, type CommandSpec } from '../spec.js';
import { formatPositional, type UsageLine } from '../template/ast.js';

/**
 * A usage line as it is typed, not in template syntax: `-[name]` would read as `-n ame`, `<start>`
 * as a placeholder. Options carry their flag and value (`[-w=<count>] [-d] [--name=<name>]`),
 * alternatives `[-a|-s]`, a required group `(-a|-s)`, and so do actions: `(stop|restart)`.
 * Each item is one unit a line break never splits.
 */
export interface UsageWords {
  /** The action's word, or its alternatives as a required group: `start`, `(stop|restart)`. */
  readonly action: string;
  /** Positionals, then option groups: `<script>`, `[args...]`, `[-w=<count>]`, `(-o|-e)`. */
  readonly items: readonly string[];
}

export function usageWords(spec: CommandSpec, line: UsageLine, actions: readonly string[]): UsageWords {
  const items = line.positionals.map(formatPositional);
  for (const group of line.optionGroups) {
    const flags = group.options.map((name) => typedFlag(spec.options.get(name)!)).join('|');
    if (!group.required) items.push(`[${flags}]`);
    else items.push(group.options.length > 1 ? `(${flags})` : flags);
  }
  return { action: actions.length === 1 ? actions[0]! : `(${actions.join('|')})`, items };
}

/** Continuation lines of a usage line too narrow to hang under its first item start here, after `prefix`. */
const HANGING_INDENT = 4;

/**
 * A usage line wrapped to `width` columns, as git and argparse print theirs: `prefix` (`Usage: `,
 * or as many spaces), `command` (`drover start`), then the items, filled greedily; continuation
 * lines start under the first item, so the command stands alone in the left column:
 *
 * ```text
 * Usage: drover start [script] [args...] [-w=<count>] [-d] [--name=<name>]
 *                     [--max-memory=<size>] [--ready-when=<when>]
 * ```
 *
 * Breaks fall between items only. When an item that fits the width would not fit under the first
 * item (a long action group, a narrow terminal), the command stands on its own line and the items
 * follow `HANGING_INDENT` columns past the prefix. An item wider than any line gets a line of its
 * own and is left whole.
 */
export function layoutUsage(
  prefix: string,
  command: string,
  items: readonly string[],
  width: number,
): string[] {
  const lead = `${prefix}${command}`;
  if (items.length === 0) return [lead];
  const under = lead.length + 1;
  const hanging = prefix.length + HANGING_INDENT;
  const tooNarrow =
    hanging < under && items.some((item) => under + item.length > width && hanging + item.length <= width);
  const indent = ' '.repeat(tooNarrow ? hanging : under);
  const lines: string[] = [];
  let current = tooNarrow ? undefined : `${lead} ${items[0]}`;
  if (tooNarrow) lines.push(lead);
  for (const item of tooNarrow ? items : items.slice(1)) {
    if (current !== undefined && current.length + 1 + item.length <= width) current += ` ${item}`;
    else {
      if (current !== undefined) lines.push(current);
      current = `${indent}${item}`;
    }
  }
  lines.push(current!);
  return lines;
}

function typedFlag(option: OptionSpec): string {
  const value = `<${option.valueName ?? 'value'}>`;
  if (option.value === 'required') return `${primaryFlag(option)}=${value}`;
  if (option.value === 'optional') return `${primaryFlag(option)}[=${value}]`;
  return primaryFlag(option);
}

import { type ActionSpec, type CommandSpec, type OptionSpec, primaryFlag } from '../spec.js';
import { formatPositional, type OptionGroup, type UsageLine } from '../template/ast.js';
import { layoutUsage, usageWords } from './usage.js';
import type { Colors } from './colors.js';
import { descriptionColumn, formatRows, type Row, wrap } from './wrap.js';

export interface HelpStyle {
  /** Terminal width in columns. */
  readonly width: number;
  readonly colors: Colors;
}

interface Section {
  readonly title: string;
  readonly rows: readonly Row[];
}

/** The whole program's help, generated from the parsed template. */
export function renderHelp(spec: CommandSpec, style: HelpStyle): string {
  const head = spec.ast.lines.flatMap((line, i) => usageLines(spec, line, line.actions, style, i === 0));
  if (spec.description) head.push('', ...wrap(spec.description, style.width));

  const sections: Section[] = [
    {
      title: 'Actions:',
      rows: [...spec.actions.values()].map((a) => ({ term: a.name, description: a.description })),
    },
  ];
  if (spec.options.size > 0) {
    sections.push({
      title: 'Options:',
      rows: [...spec.options.values()].map((o) => optionRow(spec, o, spec.ast.lines)),
    });
  }
  const builtIns: Row[] = [
    { term: '-h, --help', description: 'Show this help' },
    { term: 'help <action>', description: `Show one action's help (also: ${spec.bin} <action> --help)` },
  ];
  if (spec.version !== undefined) builtIns.push({ term: '    --version', description: 'Print the version' });
  sections.push({ title: 'Commands:', rows: builtIns });
  return page(head, sections, style);
}

/** The help of one action: its usage line, arguments and the options it accepts. */
export function renderActionHelp(spec: CommandSpec, action: ActionSpec, style: HelpStyle): string {
  const line = action.line;
  const head = [
    ...usageLines(spec, line, [action.name], style, true),
    '',
    ...wrap(action.description, style.width),
  ];
  const sections: Section[] = [];
  if (line.positionals.length > 0) {
    sections.push({
      title: 'Arguments:',
      rows: line.positionals.map((p) => ({
        term: formatPositional(p),
        description: action.args?.[p.name] ?? '',
      })),
    });
  }
  const names = line.optionGroups.flatMap((g) => g.options);
  if (names.length > 0) {
    sections.push({
      title: 'Options:',
      rows: names.map((n) => optionRow(spec, spec.options.get(n)!, [line])),
    });
  }
  return page(head, sections, style);
}

/** Head lines, then titled sections whose descriptions share one column across the page. */
function page(head: readonly string[], sections: readonly Section[], style: HelpStyle): string {
  const column = descriptionColumn(
    sections.flatMap((s) => s.rows.map((r) => r.term)),
    style.width,
  );
  const out = [...head];
  for (const section of sections) {
    out.push(
      '',
      style.colors.bold(section.title),
      ...formatRows(section.rows, style.width, column, style.colors.cyan),
    );
  }
  return `${out.join('\n')}\n`;
}

/**
 * `-n, --workers=<count>` and its description with the group rules that apply in `lines`. A rule
 * of some of the lines that hold the option names the actions it holds for: `-e` may be required
 * for `deploy` and optional for `status`.
 */
function optionRow(spec: CommandSpec, option: OptionSpec, lines: readonly UsageLine[]): Row {
  const placeholder = `<${option.valueName ?? 'value'}>`;
  const value =
    option.value === 'required' ? `=${placeholder}` : option.value === 'optional' ? `[=${placeholder}]` : '';
  const flags = option.shortFlag
    ? [option.shortFlag, option.longFlag].filter(Boolean).join(', ')
    : `    ${option.longFlag}`;

  const holding = lines.filter((line) => line.optionGroups.some((g) => g.options.includes(option.name)));
  const actions = holding.flatMap((line) => line.actions);
  // each rule with the actions it holds for, in the order the lines give them
  const rules = new Map<string, { rule: GroupRule; actions: string[] }>();
  for (const line of holding) {
    const rule = groupRule(spec, option, line.optionGroups.find((g) => g.options.includes(option.name))!);
    if (!rule) continue;
    const key = rule.say();
    const entry = rules.get(key) ?? { rule, actions: [] };
    entry.actions.push(...line.actions);
    rules.set(key, entry);
  }
  const notes = [...rules.values()].map(({ rule, actions: holds }) =>
    holds.length === actions.length ? rule.say() : rule.say(holds.join(', ')),
  );
  if (actions.length < lines.flatMap((l) => l.actions).length) notes.push(`${actions.join(', ')} only`);
  const suffix = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  return { term: `${flags}${value}`, description: `${option.description}${suffix}` };
}

/** What an option group asks of one of its options, said for every action or for `actions`. */
interface GroupRule {
  say(actions?: string): string;
}

/** `required`, `required: this or -e`, `exclusive with -s`; undefined for an optional option alone. */
function groupRule(spec: CommandSpec, option: OptionSpec, group: OptionGroup): GroupRule | undefined {
  const others = group.options.filter((n) => n !== option.name).map((n) => primaryFlag(spec.options.get(n)!));
  const forActions = (actions?: string) => (actions === undefined ? '' : ` for ${actions}`);
  if (group.required && others.length === 0) return { say: (actions) => `required${forActions(actions)}` };
  if (group.required)
    return { say: (actions) => `required${forActions(actions)}: this or ${others.join(', ')}` };
  if (others.length > 0)
    return { say: (actions) => `exclusive with ${others.join(', ')}${forActions(actions)}` };
  return undefined;
}

const USAGE = 'Usage: ';

/** One usage line wrapped to the page; the first of the page says `Usage:`, the others align under it. */
function usageLines(
  spec: CommandSpec,
  line: UsageLine,
  actions: readonly string[],
  style: HelpStyle,
  first: boolean,
): string[] {
  const words = usageWords(spec, line, actions);
  const prefix = first ? USAGE : ' '.repeat(USAGE.length);
  const lines = layoutUsage(prefix, `${spec.bin} ${words.action}`, words.items, style.width);
  // painted after the layout measured it
  if (first) lines[0] = `${style.colors.bold(USAGE)}${lines[0]!.slice(USAGE.length)}`;
  return lines;
}

/**
 * The parsed form of a `@Template` string. Help, argv validation and (later) shell completion
 * all read this tree, never the raw text.
 *
 * ```text
 * <start|restart> <script> [args...] -[d] -[a|s] -<json|text>
 * └ action group  └ positionals      └ option groups
 * ```
 */
export interface TemplateAst {
  /** The template text as registered. */
  readonly source: string;
  /** One entry per non-blank line of the template; each line starts with its own action group. */
  readonly lines: readonly UsageLine[];
}

/** One usage form: which actions it covers, their positional arguments and their option groups. */
export interface UsageLine {
  /** 1-based line number in the template text. */
  readonly line: number;
  /** `<a|b|c>`: exactly one of these action names is required. */
  readonly actions: readonly string[];
  readonly positionals: readonly PositionalSpec[];
  readonly optionGroups: readonly OptionGroup[];
}

/** `<name>` required, `[name]` optional, `<name...>` one or more, `[name...]` zero or more. */
export interface PositionalSpec {
  readonly name: string;
  readonly required: boolean;
  readonly variadic: boolean;
  /** 1-based column of the token, for definition errors. */
  readonly column: number;
}

/**
 * `-[x|y]`: optional, at most one alternative; `-<x|y>`: required, exactly one. A group of one
 * (`-[d]`) is a plain optional option. Names refer to `@Option({ name })`.
 */
export interface OptionGroup {
  readonly required: boolean;
  readonly options: readonly string[];
  /** 1-based column of the token, for definition errors. */
  readonly column: number;
}

/** Renders a usage line back to canonical template text (single spaces, positionals first). */
export function formatUsageLine(line: UsageLine, actions: readonly string[] = line.actions): string {
  const parts = [`<${actions.join('|')}>`];
  for (const p of line.positionals) parts.push(formatPositional(p));
  for (const g of line.optionGroups) parts.push(formatOptionGroup(g));
  return parts.join(' ');
}

export function formatPositional(p: PositionalSpec): string {
  const name = p.variadic ? `${p.name}...` : p.name;
  return p.required ? `<${name}>` : `[${name}]`;
}

export function formatOptionGroup(g: OptionGroup): string {
  const names = g.options.join('|');
  return g.required ? `-<${names}>` : `-[${names}]`;
}

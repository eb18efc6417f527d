import { describeType, TemplateSyntaxError } from '../errors.js';
import type { OptionGroup, PositionalSpec, TemplateAst, UsageLine } from './ast.js';

/** Names the router keeps for its built-in commands (`help <action>`, `-h`, `--help`, `--version`). */
export const RESERVED_ACTIONS: readonly string[] = ['help'];
export const RESERVED_OPTIONS: readonly string[] = ['h', 'help', 'version'];

const ACTION_NAME = /[A-Za-z0-9][A-Za-z0-9_.-]*/y;
// No '_' (mri stores positionals under '_') and no leading '-' (it would read as another dash).
const OPTION_NAME = /[A-Za-z0-9][A-Za-z0-9-]*/y;
const POSITIONAL_NAME = /[A-Za-z][A-Za-z0-9_-]*/y;

// Each says what a name starts with: `-[-x]` and `<-a>` are refused at the '-', which a name may
// hold but not start with.
const ACTION_EXPECTED =
  "an action name: an ASCII letter or digit, then ASCII letters, digits, '_', '.' and '-'";
const OPTION_EXPECTED = "an option name: an ASCII letter or digit, then ASCII letters, digits and '-'";
const POSITIONAL_EXPECTED = "an argument name of an ASCII letter, then ASCII letters, digits, '_' and '-'";

/**
 * Parses template text into its AST. The grammar, one usage line per line of text:
 *
 * ```text
 * line        := action-group (' ' (positional | option-group))*
 * action-group:= '<' action ('|' action)* '>'          exactly one action, required
 * positional  := '<' name '>' | '[' name ']'           required / optional argument
 *              | '<' name '...>' | '[' name '...]'     one or more / zero or more, last only
 * option-group:= '-[' option ('|' option)* ']'         optional, at most one alternative
 *              | '-<' option ('|' option)* '>'         required, exactly one alternative
 * ```
 *
 * @throws TemplateSyntaxError naming the line, the column and what was expected there.
 */
export function parseTemplate(source: string): TemplateAst {
  if (typeof source !== 'string') {
    throw new TemplateSyntaxError(
      String(source),
      { line: 1, column: 1 },
      'template text',
      describeType(source),
    );
  }
  const rawLines = source.split('\n');
  const lines: UsageLine[] = [];
  const actionsSeen = new Map<string, { line: number; column: number }>();
  rawLines.forEach((raw, index) => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    lines.push(new LineParser(source, text, index + 1, actionsSeen).parse());
  });
  if (lines.length === 0) {
    throw new TemplateSyntaxError(
      source,
      { line: 1, column: 1 },
      "an action group such as '<start|stop>'",
      'an empty template',
    );
  }
  return { source, lines };
}

class LineParser {
  private pos = 0;

  constructor(
    private readonly template: string,
    private readonly text: string,
    private readonly lineNumber: number,
    private readonly actionsSeen: Map<string, { line: number; column: number }>,
  ) {}

  parse(): UsageLine {
    this.skipSpaces();
    if (this.peek() !== '<') this.fail("an action group such as '<start|stop>' first on the line");
    const actions = this.parseActionGroup();
    const positionals: PositionalSpec[] = [];
    const optionGroups: OptionGroup[] = [];
    const optionsSeen = new Map<string, number>();
    for (;;) {
      if (this.atEnd()) break;
      if (!this.isSpace(this.peek())) this.fail('a space between tokens');
      this.skipSpaces();
      if (this.atEnd()) break;
      const ch = this.peek();
      if (ch === '-') optionGroups.push(this.parseOptionGroup(optionsSeen));
      else if (ch === '<' || ch === '[') positionals.push(this.parsePositional(positionals));
      else this.fail("an option group ('-[x]', '-<x|y>') or a positional argument ('<name>', '[name]')");
    }
    return { line: this.lineNumber, actions, positionals, optionGroups };
  }

  private parseActionGroup(): string[] {
    this.pos++; // '<'
    const actions: string[] = [];
    for (;;) {
      const column = this.column();
      const name = this.readName(ACTION_NAME, ACTION_EXPECTED);
      if (RESERVED_ACTIONS.includes(name)) {
        this.fail("an action name other than 'help' (reserved for 'help <action>')", `'${name}'`, column);
      }
      const earlier = this.actionsSeen.get(name);
      if (earlier) {
        this.fail(
          'an action name not used before',
          `'${name}' again (first at line ${earlier.line}, column ${earlier.column})`,
          column,
        );
      }
      this.actionsSeen.set(name, { line: this.lineNumber, column });
      actions.push(name);
      const next = this.peek();
      this.pos++;
      if (next === '|') continue;
      if (next === '>') return actions;
      this.pos--;
      this.fail("'|' and another action, or '>' to close the action group");
    }
  }

  private parseOptionGroup(seen: Map<string, number>): OptionGroup {
    const column = this.column();
    this.pos++; // '-'
    const open = this.peek();
    if (open !== '[' && open !== '<') this.fail("'[' or '<' after '-' (an option group is -[x|y] or -<x|y>)");
    const close = open === '[' ? ']' : '>';
    this.pos++;
    const options: string[] = [];
    for (;;) {
      const nameColumn = this.column();
      const name = this.readName(OPTION_NAME, OPTION_EXPECTED);
      if (RESERVED_OPTIONS.includes(name)) {
        this.fail(
          `an option name other than '${name}' (reserved for -h, --help, --version)`,
          `'${name}'`,
          nameColumn,
        );
      }
      if (name.startsWith('no-')) {
        this.fail(
          "an option name that does not start with 'no-' (read as the negation of a flag)",
          `'${name}'`,
          nameColumn,
        );
      }
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        this.fail(
          `an option not used before on this line`,
          `'${name}' again (first at column ${earlier})`,
          nameColumn,
        );
      }
      seen.set(name, nameColumn);
      options.push(name);
      const next = this.peek();
      this.pos++;
      if (next === '|') continue;
      if (next === close) return { required: open === '<', options, column };
      this.pos--;
      const value =
        next === '='
          ? " (an option's value is declared with @Option({ value: 'required' | 'optional' }), not in the template)"
          : '';
      this.fail(`'|' and another option, or '${close}' to close the option group${value}`);
    }
  }

  private parsePositional(before: readonly PositionalSpec[]): PositionalSpec {
    const column = this.column();
    const open = this.peek();
    const close = open === '<' ? '>' : ']';
    this.pos++;
    const name = this.readName(POSITIONAL_NAME, POSITIONAL_EXPECTED);
    let variadic = false;
    if (this.text.startsWith('...', this.pos)) {
      variadic = true;
      this.pos += 3;
    }
    if (this.peek() !== close) {
      const extra =
        this.peek() === '|' ? ' (alternatives belong to the action group only, the first token)' : '';
      this.fail(`'${close}' to close the argument ${open}${name}${variadic ? '...' : ''}${extra}`);
    }
    this.pos++;
    const required = open === '<';
    const last = before[before.length - 1];
    if (last?.variadic) {
      this.fail(`nothing after the variadic argument '${last.name}...'`, `argument '${name}'`, column);
    }
    if (required && last && !last.required) {
      this.fail(`an optional argument after the optional '[${last.name}]'`, `the required <${name}>`, column);
    }
    if (before.some((p) => p.name === name)) {
      this.fail('an argument name not used before on this line', `'${name}' again`, column);
    }
    return { name, required, variadic, column };
  }

  private readName(pattern: RegExp, expected: string): string {
    pattern.lastIndex = this.pos;
    const match = pattern.exec(this.text);
    const end = this.pos + (match?.[0].length ?? 0);
    // A letter beyond ASCII (`<démarrer>`) would otherwise read as a stray character.
    const codePoint = this.text.codePointAt(end);
    if (codePoint !== undefined && codePoint > 0x7f) {
      this.fail(expected, `'${String.fromCodePoint(codePoint)}' (not ASCII)`, end + 1);
    }
    if (!match) this.fail(expected);
    this.pos = end;
    return match[0];
  }

  private fail(expected: string, found?: string, column = this.column()): never {
    throw new TemplateSyntaxError(
      this.template,
      { line: this.lineNumber, column },
      expected,
      found ?? describeChar(this.text[column - 1]),
    );
  }

  private skipSpaces(): void {
    while (this.isSpace(this.peek())) this.pos++;
  }

  private isSpace(ch: string | undefined): boolean {
    return ch === ' ' || ch === '\t';
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private column(): number {
    return this.pos + 1;
  }
}

function describeChar(ch: string | undefined): string {
  if (ch === undefined) return 'end of line';
  if (ch === ' ' || ch === '\t') return 'a space';
  return ch.charCodeAt(0) < 0x20 ? JSON.stringify(ch) : `'${ch}'`;
}

/**
 * Errors of the command framework. Each names the thing, the value and the fix, like the errors
 * of `@drover/core` (this package stands alone, so it carries its own base class).
 */
export class CommandError extends Error {
  /** Stable machine-readable code, e.g. `EUSAGE`, `ETEMPLATE`. */
  readonly code: string;
  /** What to do about it, one sentence. */
  readonly hint?: string;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message}; ${options.hint}` : message, { cause: options.cause });
    this.name = 'CommandError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** A `@Template` string that does not follow the grammar; thrown when the class is decorated. */
export class TemplateSyntaxError extends CommandError {
  readonly template: string;
  /** 1-based line of the template (templates may hold several usage lines). */
  readonly line: number;
  /** 1-based column in that line. */
  readonly column: number;
  /** What the parser expected at that column, e.g. `'>' to close the action group`. */
  readonly expected: string;
  /** What it found instead, already described (`'='`, `end of line`). */
  readonly found: string;

  constructor(template: string, position: { line: number; column: number }, expected: string, found: string) {
    const lines = template.split('\n');
    const where =
      lines.length > 1 ? `line ${position.line}, column ${position.column}` : `column ${position.column}`;
    const source = lines[position.line - 1] ?? '';
    super(
      'ETEMPLATE',
      `template ${JSON.stringify(source)}: at ${where} expected ${expected}, found ${found}\n` +
        `  ${source}\n  ${caretIndent(source, position.column)}^`,
    );
    this.name = 'TemplateSyntaxError';
    this.template = template;
    this.line = position.line;
    this.column = position.column;
    this.expected = expected;
    this.found = found;
  }
}

/**
 * What goes before a caret under `column` (1-based) of `source`: a space for each character
 * before it, but the source's own tabs, so that the caret lines up wherever the tab stops are.
 */
function caretIndent(source: string, column: number): string {
  const before = source.slice(0, Math.max(0, column - 1));
  return before.replace(/[^\t]/g, ' ') + ' '.repeat(Math.max(0, column - 1 - before.length));
}

/**
 * The classes given to a router do not fit together (an action the template does not name, an
 * option class without `@Option`, two options with one flag). Thrown when the router is built.
 */
export class CommandDefinitionError extends CommandError {
  constructor(message: string, hint: string, options: { cause?: unknown } = {}) {
    super('EDEFINITION', message, { hint, cause: options.cause });
    this.name = 'CommandDefinitionError';
  }
}

/**
 * The command line does not match the template. The router prints `message` as one line on
 * stderr, then a hint to `--help`, and returns exit code 2. Options and handlers may throw it
 * too, for values they cannot accept.
 */
export class UsageError extends CommandError {
  /** The action the line was meant for, when known: the hint then points at its help. */
  readonly action?: string;

  constructor(message: string, options: { action?: string; hint?: string } = {}) {
    // Messages and hints quote what the user typed: a word with a newline or an escape sequence
    // must not break the one-line error or write to the terminal as anything but text.
    const hint = options.hint === undefined ? undefined : escapeControl(options.hint);
    super('EUSAGE', escapeControl(message), { hint });
    this.name = 'UsageError';
    this.action = options.action;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Control characters as visible escapes (`\n`, `\x1b`, `\u2028`). With `keepLines`, line feeds
 * and tabs stay: a multi-line error message is legitimate, an escape sequence that moves the
 * cursor or recolours the terminal is not.
 */
export function escapeControl(text: string, keepLines = false): string {
  return text.replace(CONTROL, (ch) => {
    if (keepLines && (ch === '\n' || ch === '\t')) return ch;
    const code = ch.charCodeAt(0);
    return (
      NAMED[ch] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`)
    );
  });
}

/** `a number`, `an object`, `an undefined`: the type of a value that should have been a string. */
export function describeType(value: unknown): string {
  const type = value === null ? 'null' : typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

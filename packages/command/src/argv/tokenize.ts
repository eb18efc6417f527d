import mri from 'mri';

/** One option occurrence on the command line. */
export interface OptionToken {
  /** The name after the dashes: `d` for `-d`, `detach` for `--detach`. */
  readonly key: string;
  /** As written, without any value: `-d`, `--detach`, `--no-detach`. */
  readonly flag: string;
  /** Text after `=`, `''` for `-n=`, undefined when there was no `=`. */
  readonly value: string | undefined;
  /** `--no-x`: mri's negation form, which templates do not have. */
  readonly negated: boolean;
  /** Where in argv the word holding it is (`-ds` gives two tokens at one index). */
  readonly index: number;
}

/** A word that looks like an option but is not `-abc`, `-a=v`, `--name` or `--name=v`. */
export interface MalformedToken {
  readonly word: string;
  readonly index: number;
}

export interface Tokens {
  /** Non-option words in order, including everything after `--`. */
  readonly positionals: readonly string[];
  /** Option occurrences in argv order. */
  readonly options: readonly OptionToken[];
  readonly malformed: readonly MalformedToken[];
  /** Where in argv the first positional (the action, when the line is right) is. */
  readonly firstPositionalIndex: number | undefined;
  /** Where in argv the first `--` is. */
  readonly dashDashIndex: number | undefined;
}

// Argument strings from the OS cannot contain NUL, so NUL-led markers cannot collide with input.
// run() rejects argv containing NUL before tokenising.
const NO_VALUE = '\0';
const VALUE = '\0=';

const SHORT = /^-([A-Za-z0-9]+)(=|$)/;
const LONG = /^--([A-Za-z0-9][A-Za-z0-9-]+)(=|$)/;

/**
 * Splits argv into positionals and option occurrences, reading each option word with mri and
 * guarding against mri's habits (research notes, command-frameworks §6):
 * - a flag without `=` takes the next word as its value (`-d start` eats the action), and a
 *   flag declared boolean pushes that word back as a number (`-d 08` → 8) or drops it
 *   (`-d false`). mri sees one option word at a time, each with an explicit marked value, so it
 *   never looks at the next word and never coerces.
 * - a lone `-` would make mri consume the next word; it is a positional and never reaches mri.
 * - `--no-x` sets `x: false`; it is reported as `negated`.
 * - names of Object.prototype members (`--constructor`) start from the inherited value.
 *
 * `takesValue` names the options whose value is required. As with getopt, such an option written
 * without `=` takes its value from the rest of its word (`-n4`, `-dn4`) or else from the next
 * word (`-n 4`, `--workers 4`), unless that word is `--` or looks like an option: `-n -d` is a
 * missing value, not `n: '-d'`. A value that starts with `-` is written `-n=-1`.
 */
export function tokenize(
  argv: readonly string[],
  takesValue: (key: string) => boolean = () => false,
): Tokens {
  const positionals: string[] = [];
  const options: OptionToken[] = [];
  const malformed: MalformedToken[] = [];
  let firstPositionalIndex: number | undefined;
  let dashDashIndex: number | undefined;
  const positional = (word: string, index: number) => {
    positionals.push(word);
    firstPositionalIndex ??= index;
  };
  let consumed = -1;
  /** The word after `index`, taken as a value when it can be one. */
  const nextValue = (index: number): string | undefined => {
    const next = argv[index + 1];
    if (next === undefined || next === '--' || isOptionLike(next)) return undefined;
    consumed = index + 1;
    return next;
  };
  argv.forEach((arg, index) => {
    if (index === consumed) return;
    if (dashDashIndex !== undefined) positional(arg, index);
    else if (arg === '--') dashDashIndex = index;
    else if (arg === '-' || !arg.startsWith('-')) positional(arg, index);
    else if (arg.startsWith('--no-') && LONG.test(arg))
      options.push(...readOption(arg.split('=')[0]!, index));
    else if (SHORT.test(arg) || LONG.test(arg)) {
      const eq = arg.indexOf('=');
      if (eq === -1) options.push(...readUnvalued(arg, index, takesValue, nextValue));
      else options.push(...readOption(`${arg.slice(0, eq)}=${VALUE}${arg.slice(eq + 1)}`, index));
    } else malformed.push({ word: arg, index });
  });
  return { positionals, options, malformed, firstPositionalIndex, dashDashIndex };
}

function isOptionLike(word: string): boolean {
  return word.length > 1 && word.startsWith('-');
}

/** `-abc` or `--name` without `=`: flags, up to the first option that takes a value. */
function readUnvalued(
  word: string,
  index: number,
  takesValue: (key: string) => boolean,
  nextValue: (index: number) => string | undefined,
): OptionToken[] {
  if (word.startsWith('--')) {
    const key = word.slice(2);
    if (!takesValue(key)) return readOption(`${word}=${NO_VALUE}`, index);
    return [{ key, flag: word, value: nextValue(index), negated: false, index }];
  }
  const letters = word.slice(1);
  const at = [...letters].findIndex((letter) => takesValue(letter));
  if (at === -1) return readOption(`${word}=${NO_VALUE}`, index);
  const key = letters[at]!;
  const flags = at === 0 ? [] : readOption(`-${letters.slice(0, at)}=${NO_VALUE}`, index);
  const rest = letters.slice(at + 1);
  const value = rest === '' ? nextValue(index) : rest;
  return [...flags, { key, flag: `-${key}`, value, negated: false, index }];
}

/** The occurrences in one option word (`-ds` holds two), as mri reads it. */
function readOption(word: string, index: number): OptionToken[] {
  const parsed = mri([word]) as Record<string, unknown> & { _: string[] };
  const tokens: OptionToken[] = [];
  for (const key of Object.keys(parsed)) {
    if (key === '_') continue;
    const raw = parsed[key];
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      // mri reads `out[key]` before writing it, so `--constructor` starts from Object.prototype's value.
      if (typeof value === 'function') continue;
      const flag = `${key.length === 1 ? '-' : '--'}${key}`;
      if (value === false) tokens.push({ key, flag: `--no-${key}`, value: undefined, negated: true, index });
      else if (typeof value === 'string' && value.startsWith(VALUE)) {
        tokens.push({ key, flag, value: value.slice(VALUE.length), negated: false, index });
      } else tokens.push({ key, flag, value: undefined, negated: false, index });
    }
  }
  return tokens;
}

import mri from 'mri';

/** One option occurrence on the command line. */
export interface OptionToken {
  /** The name after the dashes: `d` for `-d`, `detach` for `--detach`. */
  readonly key: string;
  /** As written, without any value: `-d`, `--detach`, `--no-detach`. */
  readonly flag: string;
  /**
   * The value: after `=` (`''` for `-n=`), or for an option that takes one, the rest of its word
   * (`-n4`) or the next word (`-n 4`); undefined when none was given.
   */
  readonly value: string | undefined;
  /** Where in argv the value is when it is the next word (`-n 4`), so it is no argument. */
  readonly valueIndex?: number;
  /** `--no-x`: mri's negation form, which templates do not have. */
  readonly negated: boolean;
  /** Where in argv the word holding it is (`-ds` gives two tokens at one index). */
  readonly index: number;
}

/**
 * A word that looks like an option but is not `-abc`, `-a=v`, `--name` or `--name=v`; or one
 * that is, but is refused before mri reads it (`reason`).
 */
export interface MalformedToken {
  readonly word: string;
  readonly index: number;
  /**
   * `too-long`: its option names are longer than `MAX_OPTION_NAME`, more than any option has.
   * `one-dash`: a long option's name after a single dash (`-tag`), as `isOneDashLong` said.
   * `lookalike-dash`: an option whose dashes are an em dash, en dash or minus sign (`—dry-run`),
   * as `isLookalikeDashOption` said.
   */
  readonly reason?: 'too-long' | 'one-dash' | 'lookalike-dash';
}

/**
 * The most characters the option names of one word may have: the name after `--`, or the
 * letters of a `-abc` cluster before a value. mri reads a cluster one letter at a time and
 * merges repeats by copying, so a word of many thousand letters would take minutes; no option's
 * name comes near this.
 */
export const MAX_OPTION_NAME = 100;

export interface Tokens {
  /** Non-option words in order, including everything after `--`. */
  readonly positionals: readonly string[];
  /** Where in argv each of `positionals` is. */
  readonly positionalIndexes: readonly number[];
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
 * without `=` takes its value from the rest of its word (`-n4`, `-dn4`, `-n1.5`) or else from the
 * next word (`-n 4`, `--workers 4`), unless that word is `--` or looks like an option other than
 * a negative number: `-n -d` is a missing value, not `n: '-d'`, and `-n -5` is `n: '-5'`.
 *
 * A word that starts with no '-' is a positional, but for one `isLookalikeDashOption` says is an
 * option written with an em dash, en dash or minus sign (`—dry-run`): it is malformed, and no
 * option's value.
 */
export function tokenize(
  argv: readonly string[],
  takesValue: (key: string) => boolean = () => false,
  isOneDashLong: (word: string) => boolean = () => false,
  isLookalikeDashOption: (word: string) => boolean = () => false,
): Tokens {
  const positionals: string[] = [];
  const positionalIndexes: number[] = [];
  const options: OptionToken[] = [];
  const add = (tokens: readonly OptionToken[]) => {
    for (const token of tokens) options.push(token);
  };
  const malformed: MalformedToken[] = [];
  let firstPositionalIndex: number | undefined;
  let dashDashIndex: number | undefined;
  const positional = (word: string, index: number) => {
    positionals.push(word);
    positionalIndexes.push(index);
    firstPositionalIndex ??= index;
  };
  let consumed = -1;
  /** The word after `index`, taken as a value when it can be one. */
  const nextValue = (index: number): string | undefined => {
    const next = argv[index + 1];
    if (
      next === undefined ||
      next === '--' ||
      (isOptionLike(next) && !NEGATIVE_NUMBER.test(next)) ||
      isLookalikeDashOption(next)
    )
      return undefined;
    consumed = index + 1;
    return next;
  };
  argv.forEach((arg, index) => {
    if (index === consumed) return;
    if (dashDashIndex !== undefined) positional(arg, index);
    else if (arg === '--') dashDashIndex = index;
    else if (!arg.startsWith('-') && isLookalikeDashOption(arg))
      malformed.push({ word: arg, index, reason: 'lookalike-dash' });
    else if (arg === '-' || !arg.startsWith('-')) positional(arg, index);
    else if (optionNames(arg, takesValue).length > MAX_OPTION_NAME)
      malformed.push({ word: arg, index, reason: 'too-long' });
    else if (!arg.startsWith('--') && isOneDashLong(arg))
      malformed.push({ word: arg, index, reason: 'one-dash' });
    else if (arg.startsWith('--no-') && LONG.test(arg)) add(readOption(arg.split('=')[0]!, index));
    else if (valuedLetterAt(arg, takesValue) !== -1)
      add(readShortValued(arg, index, valuedLetterAt(arg, takesValue), nextValue));
    else if (SHORT.test(arg) || LONG.test(arg)) {
      const eq = arg.indexOf('=');
      if (eq === -1) add(readUnvalued(arg, index, takesValue, nextValue));
      else add(readOption(`${arg.slice(0, eq)}=${VALUE}${arg.slice(eq + 1)}`, index));
    } else malformed.push({ word: arg, index });
  });
  return { positionals, positionalIndexes, options, malformed, firstPositionalIndex, dashDashIndex };
}

/**
 * The part of an option word mri reads as names: after `--`, up to any `=`; after one `-`, the
 * letters up to a valued letter (its value, the rest of the word, is no name) or `=`.
 */
function optionNames(word: string, takesValue: (key: string) => boolean): string {
  const dashes = word.startsWith('--') ? 2 : 1;
  const valued = dashes === 1 ? valuedLetterAt(word, takesValue) : -1;
  if (valued !== -1) return word.slice(1, valued + 1);
  const eq = word.indexOf('=');
  return word.slice(dashes, eq === -1 ? undefined : eq);
}

export const NEGATIVE_NUMBER = /^-([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?$/i;

function isOptionLike(word: string): boolean {
  return word.length > 1 && word.startsWith('-');
}

/**
 * In `-abc…`, where the first letter that takes a value is, among the letters that lead the word
 * (its value, the rest of the word, may hold any character); -1 when none does.
 */
function valuedLetterAt(word: string, takesValue: (key: string) => boolean): number {
  if (word.startsWith('--')) return -1;
  for (let at = 1; at < word.length && /[A-Za-z0-9]/.test(word[at]!); at++)
    if (takesValue(word[at]!)) return at;
  return -1;
}

/** `-dn4`, `-dn=4`, `-dn 4`: the flags before the valued letter, then it with its value. */
function readShortValued(
  word: string,
  index: number,
  at: number,
  nextValue: (index: number) => string | undefined,
): OptionToken[] {
  const flags = at === 1 ? [] : readOption(`${word.slice(0, at)}=${NO_VALUE}`, index);
  const key = word[at]!;
  const rest = word.slice(at + 1);
  const token: OptionToken = { key, flag: `-${key}`, value: undefined, negated: false, index };
  if (rest.startsWith('=')) return [...flags, { ...token, value: rest.slice(1) }];
  if (rest !== '') return [...flags, { ...token, value: rest }];
  const value = nextValue(index);
  return [...flags, value === undefined ? token : { ...token, value, valueIndex: index + 1 }];
}

/** `-abc` or `--name` without `=`: flags, or a long option that takes the next word as its value. */
function readUnvalued(
  word: string,
  index: number,
  takesValue: (key: string) => boolean,
  nextValue: (index: number) => string | undefined,
): OptionToken[] {
  const key = word.slice(2);
  if (!word.startsWith('--') || !takesValue(key)) return readOption(`${word}=${NO_VALUE}`, index);
  const token: OptionToken = { key, flag: word, value: undefined, negated: false, index };
  const value = nextValue(index);
  return [value === undefined ? token : { ...token, value, valueIndex: index + 1 }];
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

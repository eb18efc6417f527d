import { UsageError } from '../errors.js';
import type { ActionSpec, CommandSpec } from '../spec.js';
import { closest } from '../suggest.js';
import { shellQuote } from './quote.js';
import { NEGATIVE_NUMBER, type MalformedToken } from './tokenize.js';

// Long option names as the user may have meant them: misspelt, or written with one dash.

/**
 * The long option a misspelt name is closest to (as `closest` measures it): among the action's
 * own options and the built-in `--help` and `--version` first; else among the other actions'
 * options, with the actions that accept it, since suggesting it as such would only lead to
 * "does not apply".
 */
export function nearestLong(
  spec: CommandSpec,
  name: string,
  action: ActionSpec | undefined,
): { long: string; actions?: string[] } | undefined {
  const builtIn = spec.version === undefined ? ['help'] : ['help', 'version'];
  const scope = action ? action.line.optionGroups.flatMap((g) => g.options) : [...spec.options.keys()];
  const own = closest(name, [...longsOf(spec, scope), ...builtIn]);
  if (own) return { long: own };
  if (!action) return undefined;
  const other = closest(name, longsOf(spec, [...spec.options.keys()]));
  if (!other) return undefined;
  return { long: other, actions: acceptingLong(spec, other) };
}

/** The actions that accept the option whose long name is `long`. */
function acceptingLong(spec: CommandSpec, long: string): string[] {
  const option = [...spec.options.values()].find((o) => o.longFlag === `--${long}`);
  if (!option) return [];
  return [...spec.actions.values()]
    .filter((a) => a.line.optionGroups.some((g) => g.options.includes(option.name)))
    .map((a) => a.name);
}

/** The long names (without `--`) of the named options. */
function longsOf(spec: CommandSpec, names: readonly string[]): string[] {
  return names.map((n) => spec.options.get(n)?.longFlag?.slice(2)).filter((n): n is string => !!n);
}

/**
 * A single-dash word (before any `=`) that spells a long option's name (`-tag`, `-version`), or,
 * when its letters are not short options of the program, is close to one (`-forse`): the long
 * option written with one dash, which mri would read as the letters `-t -a -g`. Returns the long
 * name meant, or undefined for a word that is no such thing.
 */
export function oneDashLong(spec: CommandSpec, word: string): { long: string; exact: boolean } | undefined {
  if (word.startsWith('--') || NEGATIVE_NUMBER.test(word)) return undefined;
  const name = word.slice(1).split('=')[0]!;
  if (name.length < 2 || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(name)) return undefined;
  // `-help` asks for help, as `-h` in any cluster does: it is left out
  const longs = programLongs(spec);
  if (longs.includes(name)) return { long: name, exact: true };
  if (name.length < 3 || shortReading(spec, word) !== undefined) return undefined;
  const near = closest(name, longs);
  return near === undefined ? undefined : { long: near, exact: false };
}

/** The long names (without `--`) of all the program's options, and `version` when it has one. */
export function programLongs(spec: CommandSpec): string[] {
  return [...longsOf(spec, [...spec.options.keys()]), ...(spec.version === undefined ? [] : ['version'])];
}

/**
 * How `-abc` (or `-tvalue`) reads as short options of the program: each letter a short option,
 * none twice, up to one that takes a value, which gets the rest of the word. The words to type
 * for that reading, e.g. `-a -b -c` or `-t=value`; undefined when it does not read so.
 */
export function shortReading(spec: CommandSpec, word: string, action?: ActionSpec): string | undefined {
  const accepted = action ? new Set(action.line.optionGroups.flatMap((g) => g.options)) : undefined;
  const flags: string[] = [];
  for (let at = 1; at < word.length; at++) {
    const letter = word[at]!;
    const option = spec.byKey.get(letter);
    if (!option || option.name !== letter || flags.includes(`-${letter}`)) return undefined;
    // a reading the action would refuse ("does not apply") is no fix to suggest
    if (accepted && !accepted.has(option.name)) return undefined;
    if (option.value === 'required') {
      const rest = word.slice(at + 1);
      return [...flags, `-${letter}${rest === '' ? '' : `=${rest.replace(/^=/, '')}`}`]
        .map(shellQuote)
        .join(' ');
    }
    flags.push(`-${letter}`);
  }
  return flags.join(' ');
}

/** `-tag`: a long option written with one dash, with the reading as short options if there is one. */
export function oneDashError(
  spec: CommandSpec,
  token: MalformedToken,
  action: ActionSpec | undefined,
  /** how to pass the word on as an argument (`put it after '--'`), when the action takes some */
  asArgument?: string,
): UsageError {
  const meant = oneDashLong(spec, token.word)!;
  const eq = token.word.indexOf('=');
  const value = eq === -1 ? '' : token.word.slice(eq);
  const asShort = shortReading(spec, token.word, action);
  const takers = acceptingLong(spec, meant.long);
  const elsewhere =
    action && takers.length > 0 && !takers.includes(action.name) ? takers.join(', ') : undefined;
  const name = meant.exact ? undefined : nearestLong(spec, token.word.slice(1).split('=')[0]!, action);
  const message = meant.exact
    ? `unknown option ${token.word}; a long option takes two dashes: ${shellQuote(`--${meant.long}${value}`)}${elsewhere ? ` (an option of: ${elsewhere})` : ''}`
    : name?.actions
      ? `unknown option ${token.word} (--${name.long} is an option of: ${name.actions.join(', ')})`
      : `unknown option ${token.word} (did you mean --${name?.long ?? meant.long}?)`;
  return new UsageError(message, {
    action: action?.name,
    // a script's own `-name foo` is as likely as drover's `--name`: both ways are said
    hint:
      [asShort === undefined ? undefined : `if it is meant as short options, write ${asShort}`, asArgument]
        .filter(Boolean)
        .join('; ') || undefined,
  });
}

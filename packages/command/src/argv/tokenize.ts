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
}

export interface Tokens {
  /** Non-option words in order, including everything after `--`. */
  readonly positionals: readonly string[];
  readonly options: readonly OptionToken[];
  /** Tokens that look like options but are not `-abc`, `-a=v`, `--name` or `--name=v`. */
  readonly malformed: readonly string[];
}

// Argument strings from the OS cannot contain NUL, so NUL-led markers cannot collide with input.
// run() rejects argv containing NUL before tokenising.
const NO_VALUE = '\0';
const VALUE = '\0=';
const DASH = '\0-';

const SHORT = /^-([A-Za-z0-9]+)(=|$)/;
const LONG = /^--([A-Za-z0-9][A-Za-z0-9-]+)(=|$)/;

/**
 * Splits argv into positionals and option occurrences with mri, guarding against mri's habits
 * (research notes, command-frameworks §6):
 * - a flag without `=` takes the next word as its value (`-d start` eats the action), and a
 *   flag declared boolean pushes that word back as a number (`-d 08` → 8) or drops it
 *   (`-d false`). Every option token is therefore given an explicit marked value before mri
 *   sees it, so mri never looks at the next word and never coerces.
 * - a lone `-` makes mri consume the next word; it is passed through as a positional.
 * - `--no-x` sets `x: false`; it is reported as `negated`.
 * - repeated flags become arrays; they are returned as separate occurrences.
 * - names of Object.prototype members (`--constructor`) start from the inherited value.
 */
export function tokenize(argv: readonly string[]): Tokens {
  const marked: string[] = [];
  const malformed: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '-') marked.push(DASH);
    else if (!arg.startsWith('-')) marked.push(arg);
    else if (arg.startsWith('--no-') && LONG.test(arg)) marked.push(arg.split('=')[0]!);
    else if (SHORT.test(arg) || LONG.test(arg)) {
      const eq = arg.indexOf('=');
      marked.push(eq === -1 ? `${arg}=${NO_VALUE}` : `${arg.slice(0, eq)}=${VALUE}${arg.slice(eq + 1)}`);
    } else malformed.push(arg);
  }
  const rest = argv.slice(i + 1);
  const parsed = mri(marked) as Record<string, unknown> & { _: string[] };

  const options: OptionToken[] = [];
  for (const key of Object.keys(parsed)) {
    if (key === '_') continue;
    const raw = parsed[key];
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      // mri reads `out[key]` before writing it, so `--constructor` starts from Object.prototype's value.
      if (typeof value === 'function') continue;
      const flag = `${key.length === 1 ? '-' : '--'}${key}`;
      if (value === false) options.push({ key, flag: `--no-${key}`, value: undefined, negated: true });
      else if (typeof value === 'string' && value.startsWith(VALUE)) {
        options.push({ key, flag, value: value.slice(VALUE.length), negated: false });
      } else options.push({ key, flag, value: undefined, negated: false });
    }
  }
  const positionals = parsed._.map((word) => (word === DASH ? '-' : String(word)));
  if (i < argv.length) positionals.push(...rest);
  return { positionals, options, malformed };
}

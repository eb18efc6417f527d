import { UsageError } from '../errors.js';
import type { ActionSpec, CommandSpec } from '../spec.js';
import { programLongs, shortReading } from './longNames.js';
import { shellQuote } from './quote.js';
import type { MalformedToken } from './tokenize.js';

// Options whose dashes a word processor or chat app turned into other characters: `—dry-run`
// pasted from a runbook. Such a word starts with no '-', so it would pass as an argument: a dry
// run would become a real one.

/** The dashes that stand in for '-' or '--' in pasted text, with what messages call them. */
const LOOKALIKES: Readonly<Record<string, string>> = {
  '\u2014': 'an em dash',
  '\u2013': 'an en dash',
  '\u2212': 'a minus sign',
};

const LEADING_DASHES = /^[\u2014\u2013\u2212-]+/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * The option a word that starts with an em dash, en dash or minus sign spells after its dashes,
 * as it is typed: `--dry-run` for `—dry-run`, `--tag=v1` for `–tag=v1`, `-d` for `−d`, `-d -n=4`
 * for `−dn4`. Undefined when the rest is no option of the program (`—`, `−5`, `—see notes`).
 */
export function lookalikeDashOption(
  spec: CommandSpec,
  word: string,
): { dash: string; dashes: '-' | '--'; typed: string } | undefined {
  const dash = word[0]!;
  if (!(dash in LOOKALIKES)) return undefined;
  const rest = word.slice(word.match(LEADING_DASHES)![0].length);
  const eq = rest.indexOf('=');
  const name = eq === -1 ? rest : rest.slice(0, eq);
  if (!NAME.test(name)) return undefined;
  if (name === 'help' || programLongs(spec).includes(name)) {
    return { dash, dashes: '--', typed: shellQuote(`--${rest}`) };
  }
  const short = shortReading(spec, `-${rest}`);
  return short === undefined ? undefined : { dash, dashes: '-', typed: short };
}

/** `—dry-run`: the character it starts with, and the option as it is typed. */
export function lookalikeDashError(
  spec: CommandSpec,
  token: MalformedToken,
  action: ActionSpec | undefined,
  /** how to pass the word on as an argument (`put it after '--'`), when the action takes some */
  asArgument?: string,
): UsageError {
  const meant = lookalikeDashOption(spec, token.word)!;
  return new UsageError(
    `unknown option ${token.word}; it starts with ${LOOKALIKES[meant.dash]} (${meant.dash}), not '${meant.dashes}': ${meant.typed}`,
    { action: action?.name, hint: asArgument },
  );
}

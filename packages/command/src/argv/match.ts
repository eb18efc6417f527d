import { describeType, UsageError } from '../errors.js';
import { type ActionSpec, type CommandSpec, type OptionSpec, primaryFlag } from '../spec.js';
import { closest } from '../suggest.js';
import { formatPositional, type UsageLine } from '../template/ast.js';
import { lookalikeDashError, lookalikeDashOption } from './dashes.js';
import { nearestLong, oneDashError, oneDashLong } from './longNames.js';
import { quote, SHOWN_WORD, shellQuote, shorten } from './quote.js';
import { type MalformedToken, type OptionToken, tokenize } from './tokenize.js';

/** Positional arguments as an action receives them: `string`, `string | undefined` or `string[]`. */
export type ArgValues = Record<string, string | string[] | undefined>;

/** A command line that fits the template: which action runs, with which options and arguments. */
export interface Invocation {
  readonly kind: 'action';
  readonly action: ActionSpec;
  /** The options given, in template order, with their values. */
  readonly options: ReadonlyArray<{ readonly option: OptionSpec; readonly value: string | undefined }>;
  readonly args: Readonly<ArgValues>;
}

/** `--help`, `-h`, `help`, `help <action>`, `<action> --help`. */
export interface HelpRequest {
  readonly kind: 'help';
  readonly action?: ActionSpec;
}

export interface VersionRequest {
  readonly kind: 'version';
}

export type CommandRequest = Invocation | HelpRequest | VersionRequest;

/**
 * Validates argv against the spec.
 *
 * @throws UsageError, and nothing else, for any argv that does not fit.
 */
export function matchArgv(spec: CommandSpec, argv: readonly string[]): CommandRequest {
  argv.forEach((arg, index) => {
    if (typeof arg !== 'string')
      throw new UsageError(`argument ${index + 1} is ${describeType(arg)}, not a string`);
    if (arg.includes('\0')) throw new UsageError(`argument ${index + 1} contains a NUL character`);
  });
  const tokens = tokenize(
    argv,
    (key) => spec.byKey.get(key)?.value === 'required',
    (word) => oneDashLong(spec, word) !== undefined,
    (word) => lookalikeDashOption(spec, word) !== undefined,
  );
  const first = tokens.positionals[0];
  const valueWords = new Set(
    tokens.options.flatMap((o) => (o.valueIndex === undefined ? [] : [o.valueIndex])),
  );
  const line: CommandLine = {
    spec,
    argv,
    options: tokens.options,
    dashDashIndex: tokens.dashDashIndex,
    actionIndex: tokens.firstPositionalIndex,
    valueWords,
    strayWords: new Set(tokens.malformed.map((m) => m.index)),
  };

  // Built-in commands win over everything else on the line, errors included, but for an
  // unknown action to show the help of, a value given to their flags, and a word after
  // `help <action>`.
  const helpFlag = tokens.options.find((o) => !o.negated && (o.key === 'h' || o.key === 'help'));
  const versionFlag =
    spec.version === undefined ? undefined : tokens.options.find((o) => !o.negated && o.key === 'version');
  for (const flag of [helpFlag, versionFlag]) {
    if (flag?.value !== undefined) throw flagWithValue(flag, undefined);
  }
  // After '--', 'help' is an ordinary word.
  if (first === 'help' && tokens.firstPositionalIndex! < (tokens.dashDashIndex ?? argv.length)) {
    const [, topic, extra] = tokens.positionals;
    if (extra !== undefined) {
      throw new UsageError(`unexpected argument ${quote(extra)} for 'help' (it takes [action])`);
    }
    // `help help`, `help --help`: help itself is described in the whole help
    return {
      kind: 'help',
      action: topic === undefined || topic === 'help' ? undefined : findAction(spec, topic),
    };
  }
  if (helpFlag) return { kind: 'help', action: first === undefined ? undefined : findAction(spec, first) };
  if (versionFlag) return { kind: 'version' };

  // The first problem on the line is the one reported: options before the action word are
  // checked before the action, against every option of the program.
  const actionIndex = tokens.firstPositionalIndex ?? argv.length;
  const strayWord = tokens.malformed.find((m) => m.index < actionIndex);
  const strayOption = tokens.options.find(
    (o) => o.index < actionIndex && (o.negated || !spec.byKey.has(o.key)),
  );
  if (strayWord && (!strayOption || strayWord.index < strayOption.index)) {
    throw unknownOption(line, strayWord, undefined);
  }
  if (strayOption?.negated) throw negatedOption(line, strayOption, undefined);
  if (strayOption) throw unknownOption(line, strayOption, undefined);
  const tookAction = tokens.options.find(
    (o) =>
      o.valueIndex !== undefined && (argv[o.valueIndex] === 'help' || spec.actions.has(argv[o.valueIndex]!)),
  );
  if (tookAction && (first === undefined || !spec.actions.has(first)))
    throw actionTakenAsValue(spec, tookAction);
  if (first === undefined) {
    throw new UsageError(`missing action: expected one of ${[...spec.actions.keys()].join(', ')}`);
  }
  const action = findAction(spec, first);
  const malformed = tokens.malformed[0];
  if (malformed !== undefined) throw unknownOption(line, malformed, action);
  const options = matchOptions(line, action, tokens.options);
  const args = matchPositionals(action, tokens.positionals.slice(1), {
    missing: tookValue(spec, tokens.options),
    unexpected: (at, takes) => tooManyArguments(line, action, tokens.positionalIndexes[at + 1]!, takes),
  });
  return { kind: 'action', action, options, args };
}

/**
 * The argument at `index` is one too many for `action` (`takes`: what it takes). When a word
 * after an option whose value is optional was taken as an argument (`status -w 5 web`), that word
 * is the misplaced one, not the last: the error names it and the way to give it as the value.
 */
function tooManyArguments(line: CommandLine, action: ActionSpec, index: number, takes: string): UsageError {
  const word = line.argv[index]!;
  const right = optionalValueHint(line, index);
  const earlier = right === undefined ? untakenValueBefore(line, index) : undefined;
  if (earlier !== undefined) {
    return new UsageError(
      `too many arguments for '${action.name}' (${takes}): ${quote(line.argv[earlier]!)} after option ${optionalWithoutValue(line, earlier)!.flag} is one of them`,
      { action: action.name, hint: optionalValueHint(line, earlier) },
    );
  }
  return new UsageError(`unexpected argument ${quote(word)} for '${action.name}' (${takes})`, {
    action: action.name,
    hint: right,
  });
}

/**
 * Where the first argument before `index` is that follows an option whose value is optional and
 * was given none (`-w 5`): the value, misplaced; undefined when there is none.
 */
function untakenValueBefore(line: CommandLine, index: number): number | undefined {
  for (let at = (line.actionIndex ?? index) + 1; at < index; at++) {
    if (isArgument(line, at) && optionalWithoutValue(line, at)) return at;
  }
  return undefined;
}

/**
 * `--lines 3` where `--lines` takes an optional value, which is only ever read after '=': the
 * word after it is an argument, and when it is one too many, the way to give it as the value.
 */
function optionalValueHint(line: CommandLine, index: number): string | undefined {
  const before = optionalWithoutValue(line, index);
  if (!before) return undefined;
  return `option ${before.flag} takes its value only after '=': ${shellQuote(`${before.flag}=${line.argv[index]!}`)}`;
}

/** The option right before the word at `index`, when its value is optional and it has none. */
function optionalWithoutValue(line: CommandLine, index: number): OptionToken | undefined {
  const before = line.options.filter((o) => o.index === index - 1).at(-1);
  if (!before || before.value !== undefined || before.negated) return undefined;
  return line.spec.byKey.get(before.key)?.value === 'optional' ? before : undefined;
}

/**
 * `-w5`, `-dw5`: a short option whose value is optional, followed in its word by what was meant
 * as its value, which mri reads as more options (`-5`). How the word reads, judged by the rest of
 * it after that option: when the rest cannot be options (`5`, `.5`, `x5`: a character that is no
 * letter and no option), the value is the only reading: `error`, the way to write it. When it is
 * letters none of which is an option (`-wx`), it may be a value or a mistyped option: `hint`, the
 * value as the second reading after the unknown option. When some of it is options (`-waz`: `-a`
 * is one), it is options with a typo among them, and `-w=az` would swallow `-a`: undefined, as it
 * is when the word has no such option among the letters that lead it.
 */
function optionalValueInCluster(
  line: CommandLine,
  index: number,
): { error: string; hint?: undefined } | { hint: string; error?: undefined } | undefined {
  const word = line.argv[index]!;
  if (word.startsWith('--')) return undefined;
  for (let at = 1; at < word.length && /[A-Za-z0-9]/.test(word[at]!); at++) {
    const option = line.spec.byKey.get(word[at]!);
    if (!option) return undefined;
    if (option.value !== 'optional') continue;
    const rest = word.slice(at + 1);
    if (rest === '' || rest.startsWith('=')) return undefined;
    const written = shellQuote(`${word.slice(0, at + 1)}=${rest}`);
    const chars = [...rest];
    if (chars.some((c) => !/[A-Za-z]/.test(c) && !line.spec.byKey.has(c)))
      return { error: `option -${word[at]} takes its value only after '=': ${written}` };
    if (chars.some((c) => line.spec.byKey.has(c))) return undefined;
    return { hint: `or, if ${quote(rest)} was meant as the value of -${word[at]}: ${written}` };
  }
  return undefined;
}

/** What messages about one word need to know of the whole line. */
interface CommandLine {
  readonly spec: CommandSpec;
  readonly argv: readonly string[];
  readonly options: readonly OptionToken[];
  readonly dashDashIndex: number | undefined;
  /** where the action word is, when the line has one */
  readonly actionIndex: number | undefined;
  /** words taken as the value of the option before them (`-n 4`): options' parts, not arguments */
  readonly valueWords: ReadonlySet<number>;
  /** words read as options that are not (`-=`, `-tag`, `—dry-run`): no arguments either */
  readonly strayWords: ReadonlySet<number>;
}

/** `-n start app.mjs`: the option before the action took it as its value. */
function actionTakenAsValue(spec: CommandSpec, token: OptionToken): UsageError {
  const option = spec.byKey.get(token.key)!;
  return new UsageError(
    `option ${token.flag} took '${token.value}' as its value, so the line has no action before the arguments`,
    {
      hint: `give its value after it (${token.flag} <${option.valueName ?? 'value'}>) or with '=' (${token.flag}=<${option.valueName ?? 'value'}>)`,
    },
  );
}

function findAction(spec: CommandSpec, name: string): ActionSpec {
  const action = spec.actions.get(name);
  if (action) return action;
  // `help` after `--` is an ordinary word, and no action of that name exists
  const guess = closest(name, name === 'help' ? spec.actions.keys() : [...spec.actions.keys(), 'help']);
  throw new UsageError(
    `unknown action ${quote(name)}${guess ? ` (did you mean '${guess}'?)` : ''}; expected one of ${[...spec.actions.keys()].join(', ')}`,
  );
}

/** `--help=x`, `--version=1`, `-d=yes`: a flag given a value. */
function flagWithValue(token: OptionToken, action: ActionSpec | undefined): UsageError {
  return new UsageError(
    `option ${token.flag} does not take a value (got ${token.flag}=${shorten(token.value ?? '')})`,
    { action: action?.name, hint: `write ${token.flag} alone` },
  );
}

function matchOptions(
  commandLine: CommandLine,
  action: ActionSpec,
  tokens: readonly OptionToken[],
): Invocation['options'] {
  const { spec } = commandLine;
  const line = action.line;
  const allowed = new Set(line.optionGroups.flatMap((g) => g.options));
  const given = new Map<string, { token: OptionToken; option: OptionSpec }>();
  for (const token of tokens) {
    if (token.negated) throw negatedOption(commandLine, token, action);
    const option = spec.byKey.get(token.key);
    if (!option) throw unknownOption(commandLine, token, action);
    if (!allowed.has(option.name)) {
      const accepting = [...spec.actions.values()].filter((a) =>
        a.line.optionGroups.some((g) => g.options.includes(option.name)),
      );
      throw new UsageError(
        `option ${token.flag} does not apply to '${action.name}'; it is accepted by: ${accepting.map((a) => a.name).join(', ')}`,
        { action: action.name },
      );
    }
    const earlier = given.get(option.name);
    if (earlier) {
      const spelled =
        earlier.token.flag === token.flag ? token.flag : `${earlier.token.flag} (as ${token.flag})`;
      throw new UsageError(`option ${spelled} is given more than once`, { action: action.name });
    }
    given.set(option.name, { token, option });
  }

  for (const { token, option } of given.values()) {
    if (option.value === 'none' && token.value !== undefined) throw flagWithValue(token, action);
    if (option.value === 'required' && (token.value === undefined || token.value === '')) {
      throw new UsageError(
        `option ${token.flag} needs a value: ${token.flag}=<${option.valueName ?? 'value'}>`,
        {
          action: action.name,
        },
      );
    }
  }

  for (const group of line.optionGroups) {
    const present = group.options.filter((name) => given.has(name));
    if (present.length > 1) {
      const flags = present.map((name) => given.get(name)!.token.flag);
      throw new UsageError(`options ${joinAnd(flags)} are mutually exclusive: give one of them`, {
        action: action.name,
      });
    }
    if (group.required && present.length === 0) {
      const flags = group.options.map((name) => primaryFlag(spec.options.get(name)!));
      throw new UsageError(
        flags.length === 1
          ? `missing required option ${flags[0]}`
          : `missing required option: one of ${flags.join(', ')}`,
        { action: action.name },
      );
    }
  }

  const ordered: Array<{ option: OptionSpec; value: string | undefined }> = [];
  for (const group of line.optionGroups) {
    for (const name of group.options) {
      const hit = given.get(name);
      if (hit) ordered.push({ option: hit.option, value: hit.token.value });
    }
  }
  return ordered;
}

/**
 * The other reason an argument may be missing, after the plain one (it was left out): an option
 * that takes a value took the next word (`-n app.mjs` where the script was meant), said with the
 * way to write the line.
 */
function tookValue(spec: CommandSpec, options: readonly OptionToken[]): string | undefined {
  const token = options.find((o) => o.valueIndex !== undefined);
  if (!token) return undefined;
  const name = `<${spec.byKey.get(token.key)?.valueName ?? 'value'}>`;
  const word = quote(token.value ?? '');
  const argument = shellQuote(token.value ?? '');
  return `or, if ${word} was meant as it, option ${token.flag} took it as its value: give ${token.flag} its own value (${token.flag} ${name} ${argument}, or ${token.flag}=${name} ${argument})`;
}

function matchPositionals(
  action: ActionSpec,
  words: readonly string[],
  hints: { missing?: string; unexpected?: (at: number, takes: string) => UsageError } = {},
): ArgValues {
  const missingHint = hints.missing;
  const line: UsageLine = action.line;
  const args: ArgValues = Object.create(null);
  let next = 0;
  for (const p of line.positionals) {
    if (p.variadic) {
      if (p.required && next >= words.length) {
        throw new UsageError(`missing argument ${formatPositional(p)} for '${action.name}'`, {
          action: action.name,
          hint: missingHint,
        });
      }
      args[p.name] = words.slice(next);
      next = words.length;
    } else if (next < words.length) {
      args[p.name] = words[next++];
    } else if (p.required) {
      throw new UsageError(`missing argument ${formatPositional(p)} for '${action.name}'`, {
        action: action.name,
        hint: missingHint,
      });
    } else {
      args[p.name] = undefined;
    }
  }
  if (next < words.length) {
    const positionals = line.positionals.map(formatPositional).join(' ');
    const takes = positionals ? `it takes ${positionals}` : 'it takes no arguments';
    throw (
      hints.unexpected?.(next, takes) ??
      new UsageError(`unexpected argument ${quote(words[next]!)} for '${action.name}' (${takes})`, {
        action: action.name,
      })
    );
  }
  return args;
}

function negatedOption(
  commandLine: CommandLine,
  token: OptionToken,
  action: ActionSpec | undefined,
): UsageError {
  const wanted = valueWanted(commandLine, token.index, action);
  if (wanted) return wanted;
  // `--no-such` for an option that does not exist is just unknown
  if (!commandLine.spec.byKey.has(token.key)) return unknownOption(commandLine, token, action);
  return new UsageError(`unknown option ${token.flag}`, {
    action: action?.name,
    hint: `flags have no --no- form: leave ${token.flag.replace('--no-', '--')} out instead`,
  });
}

function unknownOption(
  commandLine: CommandLine,
  token: OptionToken | MalformedToken,
  action: ActionSpec | undefined,
): UsageError {
  const { spec } = commandLine;
  if ('reason' in token && token.reason === 'too-long') {
    return new UsageError(`unknown option ${quote(token.word)}: no option has a name that long`, {
      action: action?.name,
    });
  }
  // `--tag —dry-run`: the dash is the mistake to fix first
  if ('reason' in token && token.reason === 'lookalike-dash') {
    const asValue = valueMissingBefore(commandLine, token.index) && joinedHint(commandLine, token.index);
    return lookalikeDashError(
      spec,
      token,
      action,
      asValue || positionalHint(commandLine, token.index, action),
    );
  }
  const wanted = valueWanted(commandLine, token.index, action);
  if (wanted) return wanted;
  if ('reason' in token && token.reason === 'one-dash')
    return oneDashError(spec, token, action, positionalHint(commandLine, token.index, action));
  const valueAfter = optionalValueInCluster(commandLine, token.index);
  if (valueAfter?.error) return new UsageError(valueAfter.error, { action: action?.name });
  const flag = 'flag' in token ? token.flag : token.word;
  const name = flag.replace(/^-+/, '').split('=')[0]!;
  let guess: string | undefined;
  let elsewhere: string | undefined;
  if (flag.startsWith('--')) {
    const shortForm = spec.byKey.get(name);
    if (name.length === 1 && shortForm?.shortFlag) guess = shortForm.shortFlag;
    else {
      const near = nearestLong(spec, name, action);
      if (near?.actions) elsewhere = `--${near.long} is an option of: ${near.actions.join(', ')}`;
      else if (near) guess = `--${near.long}`;
    }
  }
  const shown = flag.length > SHOWN_WORD * 2 ? quote(flag) : flag;
  const told = guess ? ` (did you mean ${guess}?)` : elsewhere ? ` (${elsewhere})` : '';
  return new UsageError(`unknown option ${shown}${told}`, {
    action: action?.name,
    hint: guess ? undefined : (valueAfter?.hint ?? positionalHint(commandLine, token.index, action)),
  });
}

/**
 * `--node-args --inspect`: a word that starts with '-' is never taken as the value of the option
 * before it (getopt would take it; a misspelt flag would then pass silently as a value). When that
 * word is no option of the program, it was most likely meant as the value: the error is the
 * option's missing value, and the hint the line with both joined by '='.
 */
function valueWanted(
  line: CommandLine,
  index: number,
  action: ActionSpec | undefined,
): UsageError | undefined {
  const before = valueMissingBefore(line, index);
  if (!before) return undefined;
  return new UsageError(
    `option ${before.flag} needs a value; '${line.argv[index]!}' after it starts with '-', so it is not taken as one`,
    { action: action?.name, hint: joinedHint(line, index) },
  );
}

/** The option right before the word at `index` that needs a value and has none. */
function valueMissingBefore(line: CommandLine, index: number): OptionToken | undefined {
  const before = line.options.filter((o) => o.index === index - 1).at(-1);
  if (!before || before.value !== undefined) return undefined;
  return line.spec.byKey.get(before.key)?.value === 'required' ? before : undefined;
}

/** The line with the word at `index` joined to the option before it by '=', as its value. */
function joinedHint(line: CommandLine, index: number): string {
  const joined = [
    ...line.argv.slice(0, index - 1),
    `${line.argv[index - 1]}=${line.argv[index]!}`,
    ...line.argv.slice(index + 1),
  ];
  return `if it is the value, join them with '=': ${[line.spec.bin, ...joined].map(shellQuote).join(' ')}`;
}

/**
 * An unknown option may be a value for an argument: script arguments (`--port=8080`), or a
 * negative number. The way to give it is after `--`, with the options before it: the hint is the
 * line to type.
 */
function positionalHint(
  line: CommandLine,
  index: number,
  action: ActionSpec | undefined,
): string | undefined {
  const word = line.argv[index]!;
  const positionals = action?.line.positionals ?? [];
  const variadic = positionals.find((p) => p.variadic);
  if (variadic) {
    // the arguments before the variadic one come first: `start --port=80 app.js` is `start app.js -- --port=80`
    const given = line.argv.slice(0, index).filter((_, at) => isArgument(line, at)).length - (action ? 1 : 0);
    const missing = Math.max(0, positionals.indexOf(variadic) - given);
    // `--port 8080`: the word after it may be its value, and moves with it, unless the action
    // needs that word as one of its own arguments
    const next = index + 1;
    const end = line.dashDashIndex ?? line.argv.length;
    const paired =
      !word.includes('=') && next < end && isArgument(line, next) && argumentsAfter(line, next) >= missing;
    const moved = paired ? [index, next] : [index];
    // too few arguments after it to fill those before the variadic one: it cannot be one of its values
    if (argumentsAfter(line, moved.at(-1)!) < missing) return undefined;
    return `if it is meant as ${formatPositional(variadic)}, ${where(line, moved, missing)}`;
  }
  // with every argument already given, it can only be a mistyped option
  if (/^-\.?\d/.test(word) && argumentsGiven(line, action) < positionals.length)
    return `a negative number reads as an option: ${where(line, [index], 0)}`;
  return undefined;
}

/** The arguments of the action on the line (its action word left out), those after `--` included. */
function argumentsGiven(line: CommandLine, action: ActionSpec | undefined): number {
  return argumentsAfter(line, -1) - (action ? 1 : 0);
}

/** Arguments (not options) after the word at `index`, those after `--` included. */
function argumentsAfter(line: CommandLine, index: number): number {
  const end = line.dashDashIndex ?? line.argv.length;
  return range(index + 1, end).filter((at) => isArgument(line, at)).length + line.argv.slice(end + 1).length;
}

function where(line: CommandLine, moved: readonly number[], missing: number): string {
  return `put it after '--', options before it: ${rewritten(line, moved, missing)}`;
}

/** Whether the word at `at` (before any `--`) is an argument: not an option, nor an option's value. */
function isArgument(line: CommandLine, at: number): boolean {
  const word = line.argv[at]!;
  return !line.valueWords.has(at) && !line.strayWords.has(at) && !(word.startsWith('-') && word !== '-');
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/**
 * The command line with the words at `moved` (one, or an option and its value) moved after `--`:
 * the words before them stay, the options after them move before `--`, the arguments after them
 * follow them in their order, but for the first `missing` ones (arguments the action takes
 * before theirs), which go before them.
 */
function rewritten(line: CommandLine, moved: readonly number[], missing: number): string {
  const index = moved[0]!;
  const end = line.dashDashIndex ?? line.argv.length;
  const after = range(moved.at(-1)! + 1, end);
  const argsAfter = after.filter((at) => isArgument(line, at)).map((at) => line.argv[at]!);
  // an option's value moves with it
  const optionsAfter = after.filter((at) => !isArgument(line, at)).map((at) => line.argv[at]!);
  const ahead = argsAfter.slice(0, missing);
  const tail = [...argsAfter.slice(ahead.length), ...line.argv.slice(end + 1)];
  const stillMissing = missing - ahead.length;
  const words = [
    line.spec.bin,
    ...line.argv.slice(0, index),
    ...optionsAfter,
    ...ahead,
    '--',
    ...tail.slice(0, stillMissing),
    ...moved.map((at) => line.argv[at]!),
    ...tail.slice(stillMissing),
  ];
  return words.map(shellQuote).join(' ');
}

function joinAnd(items: readonly string[]): string {
  return items.length <= 2 ? items.join(' and ') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

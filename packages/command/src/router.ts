import type { Container } from 'inversify';
import { attachRun, type CommandAction } from './action.js';
import { type CommandRequest, type Invocation, matchArgv } from './argv/match.js';
import { CommandError, describeType, escapeControl, UsageError } from './errors.js';
import { explainBindingError, explainResolutionError } from './container-errors.js';
import { colorsFor } from './help/colors.js';
import { renderActionHelp, renderHelp } from './help/render.js';
import { type CommandIO, type OutputStream, type ResolvedIO, resolveIO, writeQuietly } from './io.js';
import type { CommandOption } from './option.js';
import {
  type ActionClass,
  buildSpec,
  type CommandSpec,
  type OptionClass,
  primaryFlag,
  type TemplateClass,
} from './spec.js';
import type { TemplateAst } from './template/ast.js';
import { causeLines, causesOf, explainThrown, failureMessage, showThrown } from './thrown.js';

/** Exit codes of `run()`. */
export const ExitCode = {
  /** The action succeeded, or help/version was printed. */
  Ok: 0,
  /**
   * The handler (or an option, or the container building them) failed, the handler returned
   * something other than an exit code, or the action instance was busy with another run.
   */
  Failure: 1,
  /** The command line does not fit the template. */
  Usage: 2,
} as const;

export interface RouterDefinition {
  /** The `@Template` class; resolved from the container on every run. */
  template: TemplateClass;
  /** Every `@Action` class the template names. */
  actions: readonly ActionClass[];
  /** Every `@Option` class the template names. */
  options?: readonly OptionClass[];
  /** Overrides the template's `bin`. */
  bin?: string;
  /**
   * Whether a failure's `cause` chain is printed under it as `caused by: <message>` lines (the
   * default). `false` leaves causes to `DEBUG`, for a program whose errors already tell theirs.
   */
  showCauses?: boolean;
}

/**
 * Optional hook a `@Template` class may implement: runs after the options impacted the action
 * and before its handler, e.g. to set up logging from a global option.
 */
export interface TemplateHooks {
  beforeHandler?(action: CommandAction<object, object>, invocation: RunInfo): void | Promise<void>;
}

/** What a `beforeHandler` hook learns about the run. */
export interface RunInfo {
  readonly action: string;
  readonly options: ReadonlyArray<{ readonly name: string; readonly value: string | undefined }>;
  readonly args: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Routes a command line to its action. Classes are checked against the template when the router
 * is built (a mismatch throws `CommandDefinitionError`); each run resolves the template, the
 * action and its options from the container, so they receive injected services. Classes the
 * container does not know yet are bound to themselves (transient: a fresh action per run).
 */
export class CommandRouter {
  readonly spec: CommandSpec;
  readonly #container: Container;
  readonly #template: TemplateClass;
  readonly #showCauses: boolean;

  constructor(container: Container, definition: RouterDefinition) {
    this.spec = buildSpec(definition.template, definition.actions, definition.options ?? [], definition.bin);
    this.#container = container;
    this.#template = definition.template;
    this.#showCauses = definition.showCauses ?? true;
    const classes = [
      ['template', definition.template],
      ...definition.actions.map((cls) => ['action', cls] as const),
      ...(definition.options ?? []).map((cls) => ['option', cls] as const),
    ] as const;
    for (const [role, cls] of classes) {
      if (container.isBound(cls)) continue;
      // bind().toSelf() checks constructor metadata now, so a toolchain that lost
      // design:paramtypes fails here rather than on first use.
      try {
        container.bind(cls as new () => unknown).toSelf();
      } catch (error) {
        throw explainBindingError(error, role, cls);
      }
    }
  }

  /** The parsed template. */
  get template(): TemplateAst {
    return this.spec.ast;
  }

  /**
   * Validates a command line without running anything: which action with which options and
   * arguments, or a help/version request.
   *
   * @throws UsageError, and nothing else, when argv does not fit the template.
   */
  parse(argv: readonly string[]): CommandRequest {
    return matchArgv(this.spec, argv);
  }

  /**
   * Runs one command line (without the `node script` prefix). Never throws and never exits:
   * returns 0 on success and for help, 1 when the action failed, 2 for a usage error. Output
   * streams that fail lose the router's messages, not the exit code.
   */
  async run(argv: readonly string[], io?: CommandIO): Promise<number> {
    let streams: ResolvedIO | undefined;
    try {
      streams = resolveIO(io);
      return await this.#run(argv, streams);
    } catch (error) {
      // Only a broken `io` (a getter that throws, a stream whose isTTY throws) gets here.
      try {
        if (streams) return this.#failure(error, streams);
      } catch {
        // The streams cannot take the report either: the exit code says it.
      }
      return ExitCode.Failure;
    }
  }

  async #run(argv: readonly string[], streams: ResolvedIO): Promise<number> {
    let request: CommandRequest;
    try {
      request = this.parse(argv);
    } catch (error) {
      if (error instanceof UsageError) return this.#usageError(error, streams);
      return this.#failure(error, streams);
    }
    if (request.kind === 'help') {
      writeQuietly(
        streams.stdout,
        this.help(request.action?.name, { stream: streams.stdout, env: streams.env }),
      );
      return ExitCode.Ok;
    }
    if (request.kind === 'version') {
      writeQuietly(streams.stdout, `${this.spec.version}\n`);
      return ExitCode.Ok;
    }
    try {
      const template = (await this.#container.getAsync(this.#template as new () => unknown)) as TemplateHooks;
      const action = (await this.#container.getAsync(
        request.action.cls as new () => unknown,
      )) as CommandAction<object, object>;
      if (running.has(action)) throw alreadyRunning(request.action);
      running.add(action);
      try {
        return await invoke(template, action, request, streams, this.#container);
      } finally {
        running.delete(action);
      }
    } catch (error) {
      if (error instanceof UsageError) return this.#usageError(error, streams, request.action.name);
      return this.#failure(explainResolutionError(error, request.action.name), streams);
    }
  }

  /**
   * The help text `--help` prints (for one action when `action` is given). Coloured only when
   * `stream` is a TTY, per `NO_COLOR`/`FORCE_COLOR` in `env`; wrapped to `stream.columns`, or off a
   * terminal to `COLUMNS` in `env` (what a pager or `watch` passes on), else 80.
   */
  help(
    action?: string,
    target: { stream?: OutputStream; env?: Readonly<Record<string, string | undefined>> } = {},
  ): string {
    const stream = target.stream ?? { write: () => true };
    const style = {
      width: clampWidth(stream.columns ?? columnsFromEnv(target.env)),
      colors: colorsFor(stream, target.env ?? {}),
    };
    const spec = action === undefined ? undefined : this.spec.actions.get(action);
    if (action !== undefined && !spec) {
      throw new UsageError(
        `unknown action '${action}'; expected one of ${[...this.spec.actions.keys()].join(', ')}`,
      );
    }
    return spec ? renderActionHelp(this.spec, spec, style) : renderHelp(this.spec, style);
  }

  #usageError(error: UsageError, io: ResolvedIO, action = error.action): number {
    const c = colorsFor(io.stderr, io.env);
    const target = action ? `${this.spec.bin} ${action}` : this.spec.bin;
    writeQuietly(
      io.stderr,
      `${c.red(`${this.spec.bin}:`)} ${error.message}\n${c.dim(`Run '${target} --help' for usage.`)}\n`,
    );
    return ExitCode.Usage;
  }

  /**
   * `<bin>: <message>`, then a `caused by: <message>` line for each cause the message does not
   * tell; with DEBUG, the stack and each cause's stack (`Caused by:`).
   */
  #failure(error: unknown, io: ResolvedIO): number {
    const c = colorsFor(io.stderr, io.env);
    const causes = this.#showCauses ? causeLines(error).map((line) => `${line}\n`) : [];
    writeQuietly(io.stderr, `${c.red(`${this.spec.bin}:`)} ${failureMessage(error)}\n${causes.join('')}`);
    if (io.env.DEBUG && error instanceof Error && error.stack) {
      writeQuietly(io.stderr, `${escapeControl(error.stack, true)}\n`);
      for (const cause of causesOf(error, { told: true })) {
        const told = cause instanceof Error ? (cause.stack ?? cause.message) : showThrown(cause);
        writeQuietly(io.stderr, `Caused by: ${escapeControl(String(told), true)}\n`);
      }
    }
    return ExitCode.Failure;
  }
}

/**
 * Action instances in a run. A run attaches its parameters, arguments and streams to the
 * instance, so an instance the container hands out twice (singleton scope) cannot serve two runs
 * at once.
 */
const running = new WeakSet<CommandAction<object, object>>();

function alreadyRunning(action: Invocation['action']): CommandError {
  const cls = action.cls.name || 'its class';
  const instance = action.cls.name ? `${action.cls.name} instance` : 'instance of an anonymous class';
  return new CommandError(
    'EBUSY',
    `action '${action.name}' is already running: the container gave this run the same ${instance} (singleton scope)`,
    { hint: `bind ${cls} in transient scope, the default, to run it concurrently` },
  );
}

/** Options impact the action, then the template's hook runs, then the handler. */
async function invoke(
  template: TemplateHooks,
  action: CommandAction<object, object>,
  request: Invocation,
  streams: ResolvedIO,
  container: Container,
): Promise<number> {
  const name = request.action.name;
  attachRun(action, { params: new Map(), args: request.args, io: streams });
  for (const { option, value } of request.options) {
    const instance = (await container.getAsync(option.cls as new () => unknown)) as CommandOption<object>;
    await blame(name, `option ${primaryFlag(option)}`, () => instance.impactAction(action, value));
  }
  if (typeof template.beforeHandler === 'function') {
    await blame(name, "the template's beforeHandler()", () =>
      template.beforeHandler!(action, {
        action: name,
        options: request.options.map(({ option, value }) => ({ name: option.name, value })),
        args: request.args,
      }),
    );
  }
  return toExitCode(name, await blame(name, 'handler()', () => action.handler()));
}

/** Runs one part of an action; what it throws other than an Error with a message says who threw. */
async function blame<T>(action: string, who: string, part: () => T | Promise<T>): Promise<T> {
  try {
    return await part();
  } catch (error) {
    throw explainThrown(error, action, who);
  }
}

/** `handler()`'s result as an exit code: nothing is 0; anything but an integer 0-255 is refused. */
function toExitCode(action: string, result: unknown): number {
  if (result === undefined) return ExitCode.Ok;
  if (typeof result === 'number' && Number.isInteger(result) && result >= 0 && result <= 255) return result;
  throw new CommandError(
    'EEXITCODE',
    `action '${action}' returned ${describeResult(result)} from handler()`,
    {
      hint: 'an exit code is an integer 0-255 (return nothing for 0)',
    },
  );
}

function describeResult(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string ${escapeControl(JSON.stringify(value.slice(0, 40)))}`;
  if (value === null) return 'null';
  return describeType(value);
}

/** `COLUMNS` when it is a whole number of columns, as shells export it; otherwise undefined. */
function columnsFromEnv(env: Readonly<Record<string, string | undefined>> | undefined): number | undefined {
  const value = env?.COLUMNS?.trim();
  return value && /^[1-9]\d{0,4}$/.test(value) ? Number(value) : undefined;
}

function clampWidth(columns: number | undefined): number {
  if (typeof columns !== 'number' || !Number.isFinite(columns) || columns <= 0) return 80;
  return Math.max(40, Math.floor(columns));
}

import type { ResolvedIO } from './io.js';

/**
 * The parameter side of an action as options see it: options write the parameters their action
 * reads. `P` maps each parameter key to its type, so a misspelt key or a wrong value type is a
 * compile error in the option.
 */
export interface ParamTarget<P extends object> {
  setParam<K extends keyof P & string>(key: K, value: P[K]): void;
  getParam<K extends keyof P & string>(key: K): P[K] | undefined;
  hasParam(key: keyof P & string): boolean;
}

/** What `handler()` may return: nothing (exit 0) or an exit code, an integer 0-255. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets a subclass declare `handler(): void`.
export type HandlerResult = void | number;

/** Per-run state the router hands an action before its options and handler run. */
export interface ActionRunState {
  readonly params: Map<string, unknown>;
  readonly args: object;
  readonly io: ResolvedIO;
}

let attachRunState: (action: CommandAction<object, object>, state: ActionRunState) => void;

/**
 * Base class of every `@Action`. `P` types the parameters options set (`setParam`) and the
 * handler reads (`getParam`); `A` types the positional arguments the template declares for this
 * action (`<script>` → `script: string`, `[name]` → `name?: string`, `[rest...]` → `rest: string[]`).
 *
 * The constructor belongs to the subclass and to the container: declare services there and
 * they are injected (by class, or with `@inject(TOKEN)` for interfaces).
 */
export abstract class CommandAction<
  P extends object = Record<never, never>,
  A extends object = Record<never, never>,
> implements ParamTarget<P>
{
  #params = new Map<string, unknown>();
  #args: object = Object.freeze({});
  #io: ResolvedIO | undefined;

  static {
    attachRunState = (action, state) => {
      action.#params = state.params;
      action.#args = state.args;
      action.#io = state.io;
    };
  }

  /**
   * Runs the action. Return an exit code (an integer 0-255) to override 0; anything else fails
   * with 1. Throw to fail with 1 (`UsageError`: 2). Under `runMain`, a non-zero
   * `process.exitCode` set here is kept when the handler returns nothing or 0.
   */
  abstract handler(): HandlerResult | Promise<HandlerResult>;

  setParam<K extends keyof P & string>(key: K, value: P[K]): void {
    this.#params.set(key, value);
  }

  getParam<K extends keyof P & string>(key: K): P[K] | undefined;
  getParam<K extends keyof P & string>(key: K, fallback: P[K]): P[K];
  getParam<K extends keyof P & string>(key: K, fallback?: P[K]): P[K] | undefined {
    return this.#params.has(key) ? (this.#params.get(key) as P[K]) : fallback;
  }

  hasParam(key: keyof P & string): boolean {
    return this.#params.has(key);
  }

  /** The positional arguments of this run, named as in the template. */
  get args(): Readonly<A> {
    return this.#args as A;
  }

  /** The streams of this run (`run(argv, io)`), for output that tests can capture. */
  get io(): ResolvedIO {
    if (!this.#io) throw new Error('CommandAction.io is only available while the router runs the action');
    return this.#io;
  }
}

/** Gives an action instance the parameters, arguments and streams of one run. */
export function attachRun(action: CommandAction<object, object>, state: ActionRunState): void {
  attachRunState(action, state);
}

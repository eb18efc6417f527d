import type { ParamTarget } from './action.js';

/** How an option takes a value on the command line: `-d`; `-n=<value>` (or `-n <value>`, `-n<value>`); `-n` or `-n=<value>`. */
export type OptionValueKind = 'none' | 'optional' | 'required';

/**
 * What an `@Option` class implements: it turns its flag into parameters of the action being run.
 * `P` lists the parameters it sets. `value` is the option's text (`-n=4`, `-n 4`, `-n4` → `'4'`),
 * `undefined` when none was given (always for `value: 'none'`). Throw `UsageError` for a value it cannot use.
 */
export interface CommandOption<P extends object = Record<string, unknown>> {
  impactAction(action: ParamTarget<P>, value: string | undefined): void | Promise<void>;
}

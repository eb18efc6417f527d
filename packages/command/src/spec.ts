import type { CommandAction } from './action.js';
import { describeClass } from './classes.js';
import { CommandDefinitionError } from './errors.js';
import { type ActionMetadata, type OptionMetadata, read, type TemplateMetadata } from './metadata.js';
import type { CommandOption } from './option.js';
import type { TemplateAst, UsageLine } from './template/ast.js';
import { closest } from './suggest.js';

/** A class the container can build. */
export type Constructor<T = unknown> = abstract new (...args: never[]) => T;
export type ActionClass = Constructor<CommandAction<object, object>>;
export type OptionClass = Constructor<CommandOption<never>>;
export type TemplateClass = Constructor<unknown>;

export interface ActionSpec extends ActionMetadata {
  readonly cls: ActionClass;
  /** The usage line whose action group holds this action. */
  readonly line: UsageLine;
}

export interface OptionSpec extends OptionMetadata {
  readonly cls: OptionClass;
  /** `-d` when the name is one character. */
  readonly shortFlag?: string;
  /** `--detach` from a long name or from `long`. */
  readonly longFlag?: string;
}

/** Everything a router knows about its command line, checked for consistency. */
export interface CommandSpec {
  readonly bin: string;
  readonly description?: string;
  readonly version?: string;
  readonly ast: TemplateAst;
  readonly actions: ReadonlyMap<string, ActionSpec>;
  readonly options: ReadonlyMap<string, OptionSpec>;
  /** mri key (`d`, `detach`) → option. */
  readonly byKey: ReadonlyMap<string, OptionSpec>;
}

/** The flag help and messages show first for an option: `-d`, else `--detach`. */
export function primaryFlag(option: OptionSpec): string {
  return option.shortFlag ?? option.longFlag!;
}

export function buildSpec(
  template: TemplateClass,
  actions: readonly ActionClass[],
  options: readonly OptionClass[],
  bin: string | undefined,
): CommandSpec {
  const meta = read('template', template as Function) as TemplateMetadata | undefined;
  if (!meta) {
    throw new CommandDefinitionError(
      `${describeClass(template, 'template')} given to the router has no @Template decorator`,
      "decorate it: @Template('<start|stop> -[d]')",
    );
  }
  const ast = meta.ast;
  const lineOf = new Map<string, UsageLine>();
  for (const line of ast.lines) for (const name of line.actions) lineOf.set(name, line);

  const actionSpecs = new Map<string, ActionSpec>();
  for (const cls of actions) {
    const m = read('action', cls as Function);
    if (!m) {
      throw new CommandDefinitionError(
        `${describeClass(cls, 'action')} given to the router has no @Action decorator`,
        "decorate it: @Action({ name: 'start', description: '…' }) and extend CommandAction",
      );
    }
    if (typeof cls.prototype?.handler !== 'function') {
      throw new CommandDefinitionError(
        `${describeClass(cls, 'action')} ('${m.name}') has no handler() method`,
        'extend CommandAction and implement handler()',
      );
    }
    const line = lineOf.get(m.name);
    if (!line) {
      const guess = closest(m.name, lineOf.keys());
      throw new CommandDefinitionError(
        `${describeClass(cls, 'action')} is named '${m.name}', which the template does not list`,
        `add it to an action group of ${JSON.stringify(ast.source)}${guess ? ` (or did you mean '${guess}'?)` : ''}`,
      );
    }
    const other = actionSpecs.get(m.name);
    if (other?.cls === cls) {
      throw new CommandDefinitionError(
        `${describeClass(cls, 'action')} ('${m.name}') is given twice in actions`,
        'list each class once',
      );
    }
    if (other) {
      throw new CommandDefinitionError(
        `action '${m.name}' is defined by both ${describeClass(other.cls)} and ${sameName(other.cls, cls)}`,
        'give the router one class per action',
      );
    }
    for (const key of Object.keys(m.args ?? {})) {
      if (!line.positionals.some((p) => p.name === key)) {
        throw new CommandDefinitionError(
          `@Action '${m.name}' describes argument '${key}', which its template line does not declare`,
          `declare <${key}> or [${key}] after <${line.actions.join('|')}>, or drop the description`,
        );
      }
    }
    actionSpecs.set(m.name, { ...m, cls, line });
  }
  for (const name of lineOf.keys()) {
    if (!actionSpecs.has(name)) {
      throw new CommandDefinitionError(
        `the template names action '${name}', but no action class given to the router has that name`,
        `pass a class decorated with @Action({ name: '${name}', … }) in actions`,
      );
    }
  }

  const optionSpecs = new Map<string, OptionSpec>();
  const byKey = new Map<string, OptionSpec>();
  for (const cls of options) {
    const m = read('option', cls as Function);
    if (!m) {
      throw new CommandDefinitionError(
        `${describeClass(cls, 'option')} given to the router has no @Option decorator`,
        "decorate it: @Option({ name: 'd', description: '…', value: 'none' })",
      );
    }
    if (typeof cls.prototype?.impactAction !== 'function') {
      throw new CommandDefinitionError(
        `${describeClass(cls, 'option')} ('${m.name}') has no impactAction() method`,
        'implement CommandOption.impactAction(action, value)',
      );
    }
    const spec: OptionSpec = {
      ...m,
      cls,
      shortFlag: m.name.length === 1 ? `-${m.name}` : undefined,
      longFlag: m.name.length > 1 ? `--${m.name}` : m.long ? `--${m.long}` : undefined,
    };
    if ([...optionSpecs.values()].some((o) => o.cls === cls)) {
      throw new CommandDefinitionError(
        `${describeClass(cls, 'option')} ('${m.name}') is given twice in options`,
        'list each class once',
      );
    }
    for (const key of [m.name, m.long]) {
      if (key === undefined) continue;
      const taken = byKey.get(key);
      if (taken) {
        throw new CommandDefinitionError(
          `${describeClass(taken.cls, 'option')} and ${sameName(taken.cls, cls)} both claim the flag '${key.length === 1 ? '-' : '--'}${key}'`,
          'give each option its own name and long name',
        );
      }
      byKey.set(key, spec);
    }
    optionSpecs.set(m.name, spec);
  }
  const inTemplate = new Set<string>();
  for (const line of ast.lines) {
    for (const group of line.optionGroups) {
      for (const name of group.options) {
        inTemplate.add(name);
        if (optionSpecs.has(name)) continue;
        const byLong = [...optionSpecs.values()].find((o) => o.long === name);
        throw new CommandDefinitionError(
          `the template names option '${name}' (line ${line.line}, column ${group.column}), but no option class given to the router has that name`,
          byLong
            ? `the template refers to options by name: write '${byLong.name}' instead of its long form '${name}'`
            : `pass a class decorated with @Option({ name: '${name}', … }) in options`,
        );
      }
    }
  }
  for (const spec of optionSpecs.values()) {
    if (!inTemplate.has(spec.name)) {
      throw new CommandDefinitionError(
        `${describeClass(spec.cls, 'option')} ('${spec.name}') is not used by the template`,
        `add -[${spec.name}] to a line of ${JSON.stringify(ast.source)}, or leave the class out of the router`,
      );
    }
  }

  return {
    bin: bin ?? meta.bin ?? defaultBin(),
    description: meta.description,
    version: meta.version,
    ast,
    actions: actionSpecs,
    options: optionSpecs,
    byKey,
  };
}

/** The second of two classes in one message: `another class named Act` when both are named Act. */
function sameName(first: Function, second: Function): string {
  return first.name && first.name === second.name
    ? `another class named ${second.name}`
    : describeClass(second);
}

function defaultBin(): string {
  const script = process.argv[1];
  if (!script) return 'command';
  const base = script.split(/[\\/]/).pop() ?? 'command';
  return base.replace(/\.(m?js|cjs|ts)$/, '') || 'command';
}

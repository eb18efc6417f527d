import { injectable, injectFromBase } from 'inversify';
import { describeClass, nameOfClass } from './classes.js';
import { CommandDefinitionError } from './errors.js';
import type { OptionValueKind } from './option.js';
import type { TemplateAst } from './template/ast.js';

export interface ActionMetadata {
  readonly name: string;
  readonly description: string;
  /** One-line help per positional argument of this action, keyed by template name. */
  readonly args?: Readonly<Record<string, string>>;
}

export interface OptionMetadata {
  /** The name the template uses; one character is the short flag `-d`, longer is `--name`. */
  readonly name: string;
  /** Long flag for a one-character name: `long: 'detach'` → `--detach`. */
  readonly long?: string;
  readonly description: string;
  readonly value: OptionValueKind;
  /** Placeholder shown in help, `-n=<count>`; default `value`. */
  readonly valueName?: string;
}

export interface TemplateMetadata {
  readonly ast: TemplateAst;
  /** Program name for `Usage:` lines and error hints. */
  readonly bin?: string;
  readonly description?: string;
  /** Printed by `--version`; without it `--version` is an unknown option. */
  readonly version?: string;
}

const ACTION = Symbol.for('@drover/command:action');
const OPTION = Symbol.for('@drover/command:option');
const TEMPLATE = Symbol.for('@drover/command:template');

export type Kind = 'action' | 'option' | 'template';
const KEYS: Record<Kind, symbol> = { action: ACTION, option: OPTION, template: TEMPLATE };

/** Stores the metadata and makes the class injectable (`@injectable()` is not needed on top). */
export function define(kind: Kind, target: Function, metadata: object): void {
  if (Reflect.hasOwnMetadata(KEYS[kind], target)) {
    throw new CommandDefinitionError(
      `${describeClass(target)} has @${title(kind)} twice`,
      `keep one @${title(kind)} decorator`,
    );
  }
  // An action is run, an option impacts the action being run: one class cannot be both.
  const other = kind === 'action' ? 'option' : kind === 'option' ? 'action' : undefined;
  if (other && Reflect.hasOwnMetadata(KEYS[other], target)) {
    throw new CommandDefinitionError(
      `${describeClass(target)} has both @Action and @Option`,
      'split it in two: an action class (extends CommandAction) and an option class (implements CommandOption)',
    );
  }
  Reflect.defineMetadata(KEYS[kind], metadata, target);
  try {
    injectable()(target as new (...args: never[]) => unknown);
  } catch (error) {
    // Already made injectable by an @injectable() placed below ours: that is fine.
    if (!/multiple times/.test(String(error))) throw error;
  }
  inheritConstructorInjection(target);
}

/**
 * A subclass without its own constructor gets no `design:paramtypes`, so inversify would build
 * it with no arguments and its inherited services would be undefined. Copy the injections of
 * the nearest ancestor that declares them; refuse an ancestor whose parameters are unknown.
 */
function inheritConstructorInjection(target: Function): void {
  if (Reflect.getOwnMetadata('design:paramtypes', target) !== undefined || target.length > 0) return;
  for (
    let base = Object.getPrototypeOf(target);
    typeof base === 'function' && base !== Function.prototype;
  ) {
    if (Reflect.getOwnMetadata('design:paramtypes', base) !== undefined) {
      injectFromBase({ extendConstructorArguments: true, extendProperties: true })(target);
      return;
    }
    if (base.length > 0) {
      throw new CommandDefinitionError(
        `${describeClass(target)} inherits a constructor with ${base.length} parameter(s) from ${nameOfClass(base)}, whose parameter types are unknown`,
        `decorate ${nameOfClass(base)} with @injectable() from inversify, or give ${target.name || 'it'} its own constructor`,
      );
    }
    base = Object.getPrototypeOf(base);
  }
}

export function read(kind: 'action', target: Function): ActionMetadata | undefined;
export function read(kind: 'option', target: Function): OptionMetadata | undefined;
export function read(kind: 'template', target: Function): TemplateMetadata | undefined;
export function read(kind: Kind, target: Function): unknown {
  return typeof target === 'function' ? Reflect.getOwnMetadata(KEYS[kind], target) : undefined;
}

function title(kind: Kind): string {
  return kind[0]!.toUpperCase() + kind.slice(1);
}

import { CommandAction } from './action.js';
import { describeClass } from './classes.js';
import { CommandDefinitionError } from './errors.js';
import { define } from './metadata.js';
import type { OptionValueKind } from './option.js';
import type { ActionClass, OptionClass } from './spec.js';
import { RESERVED_ACTIONS, parseTemplate } from './template/parse.js';

const ACTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const OPTION_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const VALUE_KINDS: readonly OptionValueKind[] = ['none', 'optional', 'required'];

export interface ActionDefinition {
  /** The name the template lists in its action group, e.g. `start`. */
  name: string;
  /** One line for help. */
  description: string;
  /** One-line help per positional argument of this action: `{ script: 'file to run' }`. */
  args?: Record<string, string>;
}

/** Marks a `CommandAction` subclass as the action `name`. */
export function Action(definition: ActionDefinition): (target: ActionClass) => void {
  const where = '@Action';
  requireObject(where, definition, "{ name: 'start', description: 'Start the service' }");
  requireText(
    where,
    'name',
    definition.name,
    ACTION_NAME,
    "ASCII letters, digits, '_', '.', '-'; e.g. 'start'",
  );
  if (RESERVED_ACTIONS.includes(definition.name)) {
    throw new CommandDefinitionError(
      `${where}: name '${definition.name}' is reserved for the built-in '${definition.name} <action>'`,
      'choose another name for the action',
    );
  }
  requireText(where, 'description', definition.description);
  return (target) => {
    const named = `${where}({ name: '${definition.name}' })`;
    if (!(target.prototype instanceof CommandAction)) {
      throw new CommandDefinitionError(
        `${named} is on ${describeClass(target)}, which does not extend CommandAction`,
        `declare it as class ${target.name || 'MyAction'} extends CommandAction { handler() { … } }; the router hands an action its parameters, arguments and streams through CommandAction`,
      );
    }
    if (typeof target.prototype.handler !== 'function') {
      throw new CommandDefinitionError(
        `${named} is on ${describeClass(target)}, which has no handler() method`,
        'implement handler(), the method the router runs for the action',
      );
    }
    define('action', target, {
      name: definition.name,
      description: definition.description,
      args: definition.args ? { ...definition.args } : undefined,
    });
  };
}

export interface OptionDefinition {
  /** The name the template uses: one character is the flag `-d`, longer is `--name`. */
  name: string;
  /** Long form for a one-character name: `long: 'detach'` adds `--detach`. */
  long?: string;
  description: string;
  /** `'none'`: a flag; `'required'`: `-n=<value>`, `-n <value>` or `-n<value>`; `'optional'`: `-n` or `-n=<value>`. */
  value: OptionValueKind;
  /** Placeholder in help, `-n=<count>`; default `value`. */
  valueName?: string;
}

/** Marks a `CommandOption` class as the option `name`. */
export function Option(definition: OptionDefinition): (target: OptionClass) => void {
  const where = '@Option';
  requireObject(where, definition, "{ name: 'd', long: 'detach', description: '…', value: 'none' }");
  requireText(
    where,
    'name',
    definition.name,
    OPTION_NAME,
    "ASCII letters, digits and '-'; e.g. 'd' or 'dry-run'",
  );
  if (definition.long !== undefined) {
    requireText(
      where,
      'long',
      definition.long,
      OPTION_NAME,
      "ASCII letters, digits and '-', at least 2 characters",
    );
    if (definition.long.length < 2) {
      throw new CommandDefinitionError(
        `${where}: long is '${definition.long}'`,
        'a long name has at least 2 characters; use name for the one-letter flag',
      );
    }
    if (definition.name.length > 1) {
      throw new CommandDefinitionError(
        `${where}: name '${definition.name}' is already a long flag, yet long is '${definition.long}'`,
        "give long only with a one-character name, e.g. { name: 'd', long: 'detach' }",
      );
    }
  }
  for (const key of ['name', 'long'] as const) {
    const value = definition[key];
    if (value === undefined) continue;
    if (value.startsWith('no-') || value in Object.prototype || ['h', 'help', 'version'].includes(value)) {
      throw new CommandDefinitionError(
        `${where}: ${key} '${value}' is not available`,
        "choose another: 'h', 'help', 'version', Object.prototype keys and 'no-…' names are taken by the parser",
      );
    }
  }
  requireText(where, 'description', definition.description);
  if (!VALUE_KINDS.includes(definition.value)) {
    throw new CommandDefinitionError(
      `${where} '${definition.name}': value is ${JSON.stringify(definition.value)}`,
      "expected 'none', 'optional' or 'required'",
    );
  }
  if (definition.valueName !== undefined && definition.value === 'none') {
    throw new CommandDefinitionError(
      `${where} '${definition.name}': valueName is ${JSON.stringify(definition.valueName)}, but the option takes no value`,
      "remove valueName, or set value: 'required' or 'optional'",
    );
  }
  if (definition.valueName !== undefined)
    requireText(
      where,
      'valueName',
      definition.valueName,
      /^[^\s<>=[\]]+$/,
      "no spaces, '<', '>', '=', '[' or ']'",
    );
  return (target) => {
    if (typeof target.prototype?.impactAction !== 'function') {
      throw new CommandDefinitionError(
        `${where}({ name: '${definition.name}' }) is on ${describeClass(target)}, which has no impactAction() method`,
        'implement CommandOption: impactAction(action, value) sets the parameters the option stands for',
      );
    }
    define('option', target, { ...definition });
  };
}

export interface TemplateDefinition {
  /** Program name for `Usage:` and error hints; default: the script's file name. */
  bin?: string;
  /** One paragraph shown under the usage lines in help. */
  description?: string;
  /** Printed by `--version`. Without it, `--version` is an unknown option. */
  version?: string;
}

/**
 * Declares the command line of a program: its actions, their arguments and option groups. The
 * text is parsed here, so a malformed template fails when the class is defined.
 *
 * @throws TemplateSyntaxError with the line, column and what was expected.
 */
export function Template(template: string, definition: TemplateDefinition = {}): ClassDecorator {
  const ast = parseTemplate(template);
  requireObject('@Template', definition, "{ bin: 'tool', description: '…', version: '1.0.0' }");
  for (const key of ['bin', 'description', 'version'] as const) {
    if (definition[key] !== undefined) requireText('@Template', key, definition[key]);
  }
  return (target) => {
    define('template', target, { ast, ...definition });
  };
}

function requireObject(where: string, value: unknown, example: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new CommandDefinitionError(
      `${where}: expected a definition object, got ${typeof value}`,
      `pass ${example}`,
    );
  }
}

function requireText(where: string, key: string, value: unknown, pattern?: RegExp, allowed?: string): void {
  if (typeof value !== 'string' || value.trim() === '' || (pattern && !pattern.test(value))) {
    throw new CommandDefinitionError(
      `${where}: ${key} is ${value === undefined ? 'missing' : JSON.stringify(value)}`,
      `expected a non-empty string${allowed ? ` (${allowed})` : ''}`,
    );
  }
}

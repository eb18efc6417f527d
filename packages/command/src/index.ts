// Decorator metadata must be readable before any decorated class is evaluated.
import 'reflect-metadata';

export { CommandAction, type HandlerResult, type ParamTarget } from './action.js';
export type { ArgValues, CommandRequest, HelpRequest, Invocation, VersionRequest } from './argv/match.js';
export {
  Action,
  type ActionDefinition,
  Option,
  type OptionDefinition,
  Template,
  type TemplateDefinition,
} from './decorators.js';
export { CommandDefinitionError, CommandError, TemplateSyntaxError, UsageError } from './errors.js';
export type { CommandIO, OutputStream, ResolvedIO } from './io.js';
export type { CommandOption, OptionValueKind } from './option.js';
export {
  CommandRouter,
  ExitCode,
  type RouterDefinition,
  type RunInfo,
  type TemplateHooks,
} from './router.js';
export { runMain } from './runMain.js';
export type { ActionClass, ActionSpec, CommandSpec, OptionClass, OptionSpec, TemplateClass } from './spec.js';
export {
  formatUsageLine,
  type OptionGroup,
  type PositionalSpec,
  type TemplateAst,
  type UsageLine,
} from './template/ast.js';
export { parseTemplate } from './template/parse.js';

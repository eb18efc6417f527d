import { CommandRouter, Template } from '@drover/command';
import { Container } from 'inversify';
import { LogsAction, RestartAction, StartAction, StatusAction, StopAction } from './actions.js';
import {
  DetachOption,
  ForceOption,
  FormatOption,
  LinesOption,
  QuietOption,
  StderrOption,
  StdoutOption,
  VerboseOption,
  WorkersOption,
} from './options.js';
import { CLOCK, ServiceCatalog, systemClock } from './services.js';

@Template(
  `<start|restart> <service> [args...] -[d] -[w] -[q|v]
   <stop> <service> -[f] -[q|v]
   <status> [service] -[format]
   <logs> <service> -<o|e> -[n]`,
  { bin: 'svc', description: 'A toy service controller built on @drover/command.', version: '0.1.0' },
)
export class SvcTemplate {}

/**
 * The tool's router. Pass a container to replace services (tests bind a fixed clock); whatever
 * it lacks gets the defaults.
 */
export function createRouter(container = new Container()): CommandRouter {
  if (!container.isBound(ServiceCatalog)) container.bind(ServiceCatalog).toSelf().inSingletonScope();
  if (!container.isBound(CLOCK)) container.bind(CLOCK).toConstantValue(systemClock);
  return new CommandRouter(container, {
    template: SvcTemplate,
    actions: [StartAction, RestartAction, StopAction, StatusAction, LogsAction],
    options: [
      DetachOption,
      WorkersOption,
      QuietOption,
      VerboseOption,
      ForceOption,
      FormatOption,
      StdoutOption,
      StderrOption,
      LinesOption,
    ],
  });
}

// A small CLI on the framework, used by the router, help and property tests.
import {
  Action,
  CommandAction,
  type CommandOption,
  CommandRouter,
  Option,
  type ParamTarget,
  Template,
  UsageError,
} from '@drover/command';
import { Container, inject, injectable } from 'inversify';

/** Injected by class: records what each handler saw. */
export class Recorder {
  readonly runs: Array<{ action: string; params: Record<string, unknown>; args: Record<string, unknown> }> =
    [];
}

/** Injected by token. */
export interface Greeting {
  text(): string;
}
export const GREETING = Symbol('Greeting');

interface StartParams {
  detach: boolean;
  workers: number;
  scope: 'all' | 'single';
}

@Option({ name: 'd', long: 'detach', description: 'Run in the background', value: 'none' })
export class DetachOption implements CommandOption<{ detach: boolean }> {
  impactAction(action: ParamTarget<{ detach: boolean }>): void {
    action.setParam('detach', true);
  }
}

@Option({
  name: 'n',
  long: 'workers',
  description: 'Number of workers',
  value: 'required',
  valueName: 'count',
})
export class WorkersOption implements CommandOption<{ workers: number }> {
  impactAction(action: ParamTarget<{ workers: number }>, value: string | undefined): void {
    const count = Number(value);
    if (!Number.isInteger(count) || count < 1) {
      throw new UsageError(`option -n is ${JSON.stringify(value)}`, {
        hint: 'expected a whole number, 1 or more',
      });
    }
    action.setParam('workers', count);
  }
}

@Option({ name: 'a', long: 'all', description: 'Every instance', value: 'none' })
export class AllOption implements CommandOption<{ scope: 'all' | 'single' }> {
  impactAction(action: ParamTarget<{ scope: 'all' | 'single' }>): void {
    action.setParam('scope', 'all');
  }
}

@Option({ name: 's', long: 'single', description: 'One instance', value: 'none' })
export class SingleOption implements CommandOption<{ scope: 'all' | 'single' }> {
  impactAction(action: ParamTarget<{ scope: 'all' | 'single' }>): void {
    action.setParam('scope', 'single');
  }
}

@Option({ name: 'f', long: 'force', description: 'Do not wait', value: 'none' })
export class ForceOption implements CommandOption<{ force: boolean }> {
  impactAction(action: ParamTarget<{ force: boolean }>): void {
    action.setParam('force', true);
  }
}

@Option({ name: 'o', long: 'stdout', description: 'Standard output', value: 'none' })
export class StdoutOption implements CommandOption<{ stream: string }> {
  impactAction(action: ParamTarget<{ stream: string }>): void {
    action.setParam('stream', 'stdout');
  }
}

@Option({ name: 'e', long: 'stderr', description: 'Standard error', value: 'none' })
export class StderrOption implements CommandOption<{ stream: string }> {
  impactAction(action: ParamTarget<{ stream: string }>): void {
    action.setParam('stream', 'stderr');
  }
}

@Option({ name: 'lines', description: 'Lines to show; alone: all', value: 'optional', valueName: 'n' })
export class LinesOption implements CommandOption<{ lines: string }> {
  impactAction(action: ParamTarget<{ lines: string }>, value: string | undefined): void {
    action.setParam('lines', value ?? 'all');
  }
}

// A shared base with a constructor needs @injectable(), so its parameter types are emitted.
@injectable()
abstract class RecordingAction<P extends object, A extends object> extends CommandAction<P, A> {
  constructor(protected readonly recorder: Recorder) {
    super();
  }

  protected record(params: Record<string, unknown>): void {
    this.recorder.runs.push({ action: this.name(), params, args: { ...this.args } });
  }

  protected abstract name(): string;
}

@Action({ name: 'start', description: 'Start a script', args: { script: 'The script to run' } })
export class StartAction extends RecordingAction<StartParams, { script: string; args: string[] }> {
  // Injected by class (Recorder) and by token (an interface).
  constructor(
    recorder: Recorder,
    @inject(GREETING) private readonly greeting: Greeting,
  ) {
    super(recorder);
  }

  protected name(): string {
    return 'start';
  }

  handler(): void {
    this.record({
      detach: this.getParam('detach'),
      workers: this.getParam('workers'),
      scope: this.getParam('scope'),
    });
    this.io.stdout.write(`${this.greeting.text()} ${this.args.script}\n`);
  }
}

@Action({ name: 'restart', description: 'Restart a script' })
export class RestartAction extends StartAction {
  protected override name(): string {
    return 'restart';
  }
}

@Action({ name: 'stop', description: 'Stop one group or all of them' })
export class StopAction extends RecordingAction<{ force: boolean }, { name?: string }> {
  protected name(): string {
    return 'stop';
  }

  handler(): number | undefined {
    this.record({ force: this.getParam('force', false) });
    // An exit code of the action's own: 3 when there was nothing to stop.
    return this.args.name === 'nothing' ? 3 : undefined;
  }
}

@Action({ name: 'logs', description: 'Show the output of a group' })
export class LogsAction extends RecordingAction<{ stream: string; lines: string }, { name: string }> {
  protected name(): string {
    return 'logs';
  }

  async handler(): Promise<void> {
    await Promise.resolve();
    if (this.args.name === 'broken') throw new Error('log file is unreadable: /var/log/broken.log');
    if (this.args.name === 'bad')
      throw new UsageError("group 'bad' has no logs", { hint: 'pick a group that ran' });
    this.record({ stream: this.getParam('stream'), lines: this.getParam('lines') });
  }
}

@Template(
  `<start|restart> <script> [args...] -[d] -[n] -[a|s]
   <stop> [name] -[f] -[a|s]
   <logs> <name> -<o|e> -[lines]`,
  {
    bin: 'deploy',
    description: 'Runs scripts as supervised groups. A fixture of the command framework tests.',
    version: '1.2.3',
  },
)
export class DeployTemplate {}

export const deployActions = [StartAction, RestartAction, StopAction, LogsAction];
export const deployOptions = [
  DetachOption,
  WorkersOption,
  AllOption,
  SingleOption,
  ForceOption,
  StdoutOption,
  StderrOption,
  LinesOption,
];

/** The fixture router on a fresh container, with its recorder. */
export function deployRouter(container = new Container()) {
  container.bind(Recorder).toSelf().inSingletonScope();
  container.bind<Greeting>(GREETING).toConstantValue({ text: () => 'hello' });
  const router = new CommandRouter(container, {
    template: DeployTemplate,
    actions: deployActions,
    options: deployOptions,
  });
  return { router, container, recorder: container.get(Recorder) };
}

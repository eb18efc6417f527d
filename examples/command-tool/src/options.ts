import { type CommandOption, Option, type ParamTarget, UsageError } from '@drover/command';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

@Option({
  name: 'd',
  long: 'detach',
  description: 'Return once the service runs in the background',
  value: 'none',
})
export class DetachOption implements CommandOption<{ detach: boolean }> {
  impactAction(action: ParamTarget<{ detach: boolean }>): void {
    action.setParam('detach', true);
  }
}

@Option({
  name: 'w',
  long: 'workers',
  description: "Number of workers; alone, one per CPU; default: the service's own setting",
  value: 'optional',
  valueName: 'count',
})
export class WorkersOption implements CommandOption<{ workers: number | 'cpus' }> {
  impactAction(action: ParamTarget<{ workers: number | 'cpus' }>, value: string | undefined): void {
    if (value === undefined) {
      action.setParam('workers', 'cpus');
      return;
    }
    const count = Number(value);
    if (!Number.isInteger(count) || count < 1 || count > 64) {
      throw new UsageError(`option -w is ${JSON.stringify(value)}`, {
        hint: 'expected a whole number from 1 to 64',
      });
    }
    action.setParam('workers', count);
  }
}

@Option({ name: 'q', long: 'quiet', description: 'Print nothing on success', value: 'none' })
export class QuietOption implements CommandOption<{ verbosity: Verbosity }> {
  impactAction(action: ParamTarget<{ verbosity: Verbosity }>): void {
    action.setParam('verbosity', 'quiet');
  }
}

@Option({ name: 'v', long: 'verbose', description: 'Print each step', value: 'none' })
export class VerboseOption implements CommandOption<{ verbosity: Verbosity }> {
  impactAction(action: ParamTarget<{ verbosity: Verbosity }>): void {
    action.setParam('verbosity', 'verbose');
  }
}

@Option({
  name: 'f',
  long: 'force',
  description: 'Kill the workers instead of letting them finish',
  value: 'none',
})
export class ForceOption implements CommandOption<{ force: boolean }> {
  impactAction(action: ParamTarget<{ force: boolean }>): void {
    action.setParam('force', true);
  }
}

@Option({
  name: 'format',
  description: 'Output format: text or json',
  value: 'required',
  valueName: 'text|json',
})
export class FormatOption implements CommandOption<{ format: 'text' | 'json' }> {
  impactAction(action: ParamTarget<{ format: 'text' | 'json' }>, value: string | undefined): void {
    if (value !== 'text' && value !== 'json') {
      throw new UsageError(`option --format is ${JSON.stringify(value)}`, {
        hint: "expected 'text' or 'json'",
      });
    }
    action.setParam('format', value);
  }
}

@Option({ name: 'o', long: 'stdout', description: "Show the workers' standard output", value: 'none' })
export class StdoutOption implements CommandOption<{ stream: 'stdout' | 'stderr' }> {
  impactAction(action: ParamTarget<{ stream: 'stdout' | 'stderr' }>): void {
    action.setParam('stream', 'stdout');
  }
}

@Option({ name: 'e', long: 'stderr', description: "Show the workers' standard error", value: 'none' })
export class StderrOption implements CommandOption<{ stream: 'stdout' | 'stderr' }> {
  impactAction(action: ParamTarget<{ stream: 'stdout' | 'stderr' }>): void {
    action.setParam('stream', 'stderr');
  }
}

@Option({
  name: 'n',
  long: 'lines',
  description: 'How many lines to show',
  value: 'required',
  valueName: 'count',
})
export class LinesOption implements CommandOption<{ lines: number }> {
  impactAction(action: ParamTarget<{ lines: number }>, value: string | undefined): void {
    const lines = Number(value);
    if (!Number.isInteger(lines) || lines < 0) {
      throw new UsageError(`option -n is ${JSON.stringify(value)}`, {
        hint: 'expected a whole number, 0 or more',
      });
    }
    action.setParam('lines', lines);
  }
}

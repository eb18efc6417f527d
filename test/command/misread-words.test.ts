// Words the parser could misread: a long option written with one dash (`-tag`), and words so
// long that reading them as option letters would take minutes.
import {
  Action,
  CommandAction,
  type CommandOption,
  CommandRouter,
  Option,
  type ParamTarget,
  Template,
} from '@drover/command';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { capture } from './support/capture.js';

interface ShipParams {
  force: boolean;
  mode: 'all' | 'single';
  tag: string;
  verbose: boolean;
  lines: string;
}

const runs: Array<{ action: string; params: Partial<ShipParams>; args: object }> = [];

@Option({ name: 'f', long: 'force', description: 'Deploy even if checks fail', value: 'none' })
class ForceOption implements CommandOption<ShipParams> {
  impactAction(action: ParamTarget<ShipParams>): void {
    action.setParam('force', true);
  }
}
@Option({ name: 'a', long: 'all', description: 'All regions', value: 'none' })
class AllOption implements CommandOption<ShipParams> {
  impactAction(action: ParamTarget<ShipParams>): void {
    action.setParam('mode', 'all');
  }
}
@Option({ name: 's', long: 'single', description: 'One region', value: 'none' })
class SingleOption implements CommandOption<ShipParams> {
  impactAction(action: ParamTarget<ShipParams>): void {
    action.setParam('mode', 'single');
  }
}
@Option({ name: 't', long: 'tag', description: 'Image tag', value: 'required', valueName: 'tag' })
class TagOption implements CommandOption<ShipParams> {
  impactAction(action: ParamTarget<ShipParams>, value: string | undefined): void {
    action.setParam('tag', value!);
  }
}
@Option({ name: 'v', long: 'verbose', description: 'Say more', value: 'none' })
class VerboseOption implements CommandOption<ShipParams> {
  impactAction(action: ParamTarget<ShipParams>): void {
    action.setParam('verbose', true);
  }
}
@Option({ name: 'lines', description: 'Lines to show', value: 'optional', valueName: 'n' })
class LinesOption implements CommandOption<ShipParams> {
  impactAction(action: ParamTarget<ShipParams>, value: string | undefined): void {
    action.setParam('lines', value ?? 'all');
  }
}

abstract class RecordingAction extends CommandAction<ShipParams, object> {
  protected abstract readonly name: string;
  handler(): void {
    const params: Partial<ShipParams> = {};
    for (const key of ['force', 'mode', 'tag', 'verbose', 'lines'] as const) {
      if (this.hasParam(key)) Object.assign(params, { [key]: this.getParam(key) });
    }
    runs.push({ action: this.name, params, args: { ...this.args } });
  }
}
@Action({ name: 'deploy', description: 'Deploy an environment' })
class DeployAction extends RecordingAction {
  protected readonly name = 'deploy';
}
@Action({ name: 'scale', description: 'Scale a service' })
class ScaleAction extends RecordingAction {
  protected readonly name = 'scale';
}

@Template(
  `<deploy> <env> [extra...] -[f] -[a|s] -[t] -[v]
   <scale> <service> <count> -[v] -[lines]`,
  { bin: 'ship', version: '2.0.0' },
)
class ShipTemplate {}

function ship() {
  runs.length = 0;
  return new CommandRouter(new Container(), {
    template: ShipTemplate,
    actions: [DeployAction, ScaleAction],
    options: [ForceOption, AllOption, SingleOption, TagOption, VerboseOption, LinesOption],
  });
}

async function usageError(argv: string[]): Promise<string> {
  const out = capture();
  expect(await ship().run(argv, out.io)).toBe(2);
  expect(runs).toEqual([]);
  return out.stderr();
}

/** The hint that passes the word on to the action's arguments instead. */
const ARG = "; if it is meant as [extra...], put it after '--', options before it: ship deploy prod -- ";

describe('a long option written with one dash', () => {
  it.each([
    [
      ['deploy', 'prod', '-tag', 'v1'],
      `unknown option -tag; a long option takes two dashes: --tag; if it is meant as short options, write -t=ag${ARG}-tag v1`,
    ],
    [
      ['deploy', 'prod', '-tag=v1'],
      `unknown option -tag=v1; a long option takes two dashes: --tag=v1; if it is meant as short options, write -t=ag=v1${ARG}-tag=v1`,
    ],
    [
      ['deploy', 'prod', '-force'],
      `unknown option -force; a long option takes two dashes: --force${ARG}-force`,
    ],
    [['deploy', 'prod', '-all'], `unknown option -all; a long option takes two dashes: --all${ARG}-all`],
    [
      ['deploy', 'prod', '-verbose'],
      `unknown option -verbose; a long option takes two dashes: --verbose${ARG}-verbose`,
    ],
    // a short reading the action would refuse is not offered
    [
      ['scale', 'web', '1', '-tag'],
      'unknown option -tag; a long option takes two dashes: --tag (an option of: deploy)',
    ],
    [['scale', 'web', '1', '-lines=3'], 'unknown option -lines=3; a long option takes two dashes: --lines=3'],
    [
      ['-tag', 'v1', 'deploy', 'prod'],
      'unknown option -tag; a long option takes two dashes: --tag; if it is meant as short options, write -t=ag',
    ],
    // close to one, and not short options of the program
    [['deploy', 'prod', '-forec'], `unknown option -forec (did you mean --force?)${ARG}-forec`],
    [['scale', 'web', '1', '-lnes'], 'unknown option -lnes (did you mean --lines?)'],
  ])('%j is refused as typed, with the long form', async (argv, message) => {
    const action = argv[0] === '-tag' ? '' : ` ${argv[0]}`;
    expect(await usageError(argv)).toBe(`ship: ${message}\nRun 'ship${action} --help' for usage.\n`);
  });

  it.each([
    [['deploy', 'prod', '-fv'], { force: true, verbose: true }],
    [['deploy', 'prod', '-tv1'], { tag: 'v1' }],
    [['deploy', 'prod', '-t=v'], { tag: 'v' }],
    [['deploy', 'prod', '-ftv2'], { force: true, tag: 'v2' }],
    [['deploy', 'prod', '-vt', 'latest'], { verbose: true, tag: 'latest' }],
    // the letters of a short option with its value, though close to --tag: they read as getopt reads them
    [['deploy', 'prod', '-tga'], { tag: 'ga' }],
    [['deploy', 'prod', '-fa'], { force: true, mode: 'all' }],
  ])('%j: real clusters and short values work as documented', async (argv, params) => {
    const router = ship();
    const out = capture();
    expect(await router.run(argv, out.io)).toBe(0);
    expect(out.stderr()).toBe('');
    expect(runs).toEqual([{ action: 'deploy', params, args: { env: 'prod', extra: [] } }]);
  });

  it('a cluster of two alternatives is the exclusive-group error', async () => {
    expect(await usageError(['deploy', 'prod', '-as'])).toBe(
      "ship: options -a and -s are mutually exclusive: give one of them\nRun 'ship deploy --help' for usage.\n",
    );
  });

  it('-help still asks for help, as -h in any cluster does', async () => {
    const router = ship();
    const out = capture();
    expect(await router.run(['deploy', '-help'], out.io)).toBe(0);
    expect(out.stdout()).toBe(router.help('deploy'));
  });
});

describe('an option written with an em dash, en dash or minus sign', () => {
  it.each([
    [
      ['deploy', 'prod', '—force'],
      `unknown option —force; it starts with an em dash (—), not '--': --force${ARG}'—force'`,
    ],
    [
      ['deploy', 'prod', '–tag=v1'],
      `unknown option –tag=v1; it starts with an en dash (–), not '--': --tag=v1${ARG}'–tag=v1'`,
    ],
    [['deploy', 'prod', '−f'], `unknown option −f; it starts with a minus sign (−), not '-': -f${ARG}'−f'`],
    [
      ['deploy', 'prod', '−ftv2'],
      `unknown option −ftv2; it starts with a minus sign (−), not '-': -f -t=v2${ARG}'−ftv2'`,
    ],
    // no arguments to pass it on to
    [
      ['scale', 'web', '1', '—lines=3'],
      "unknown option —lines=3; it starts with an em dash (—), not '--': --lines=3",
    ],
    // before the action, and the built-in flags
    [
      ['—verbose', 'deploy', 'prod'],
      "unknown option —verbose; it starts with an em dash (—), not '--': --verbose",
    ],
    [['—help'], "unknown option —help; it starts with an em dash (—), not '--': --help"],
    [['—version'], "unknown option —version; it starts with an em dash (—), not '--': --version"],
    // never taken as an option's value: the dash is the mistake to fix first
    [
      ['deploy', 'prod', '-t', '—force'],
      "unknown option —force; it starts with an em dash (—), not '--': --force; if it is the value, join them with '=': ship deploy prod '-t=—force'",
    ],
  ])('%j is refused, naming the character and the option as typed', async (argv, message) => {
    const action = argv[0]!.startsWith('—') ? '' : ` ${argv[0]}`;
    expect(await usageError(argv)).toBe(`ship: ${message}\nRun 'ship${action} --help' for usage.\n`);
  });

  it.each([
    // after '--', and words that spell no option of the program
    [['deploy', 'prod', '--', '—force'], { args: { env: 'prod', extra: ['—force'] } }],
    [['deploy', 'prod', '—'], { args: { env: 'prod', extra: ['—'] } }],
    [
      ['deploy', 'prod', '—notes', '−5', '—see notes'],
      { args: { env: 'prod', extra: ['—notes', '−5', '—see notes'] } },
    ],
    [['deploy', 'prod', '-t', '–beta'], { params: { tag: '–beta' }, args: { env: 'prod', extra: [] } }],
  ])('%j is an argument or a value', async (argv, expected) => {
    const router = ship();
    const out = capture();
    expect(await router.run(argv, out.io)).toBe(0);
    expect(out.stderr()).toBe('');
    expect(runs).toEqual([{ action: 'deploy', params: {}, ...expected }]);
  });
});

// No timing asserted: each must finish (the old parser took minutes, or overflowed the stack)
// and say what it refused, shortened.
describe('very long words fail fast, shortened in the message', () => {
  const x = (n: number) => 'x'.repeat(n);

  it('a cluster of 128 KiB letters', { timeout: 60_000 }, async () => {
    expect(await usageError(['deploy', 'prod', `-f${x(128 * 1024)}`])).toBe(
      `ship: unknown option '-f${x(38)}…' (131074 characters): no option has a name that long\nRun 'ship deploy --help' for usage.\n`,
    );
  });

  it('a long option of 1 MB', { timeout: 60_000 }, async () => {
    expect(await usageError(['deploy', 'prod', `--${'y'.repeat(1 << 20)}`])).toBe(
      `ship: unknown option '--${'y'.repeat(38)}…' (1048578 characters): no option has a name that long\nRun 'ship deploy --help' for usage.\n`,
    );
  });

  it('an action word of 1 MB, before any option', { timeout: 60_000 }, async () => {
    expect(await usageError([x(1 << 20), '-f'])).toBe(
      `ship: unknown action '${x(40)}…' (1048576 characters); expected one of deploy, scale\nRun 'ship --help' for usage.\n`,
    );
  });

  it('an unexpected argument of 1 MB', { timeout: 60_000 }, async () => {
    expect(await usageError(['scale', 'web', '1', x(1 << 20)])).toBe(
      `ship: unexpected argument '${x(40)}…' (1048576 characters) for 'scale' (it takes <service> <count>)\nRun 'ship scale --help' for usage.\n`,
    );
  });

  it('a one-dash word of 1 MB that is a short option with its value', { timeout: 60_000 }, async () => {
    const router = ship();
    expect(await router.run(['deploy', 'prod', `-t${x(1 << 20)}`], capture().io)).toBe(0);
    expect(runs[0]!.params.tag).toHaveLength(1 << 20);
  });

  it('names up to 100 characters are read as names', async () => {
    expect(await usageError(['deploy', 'prod', `--${x(100)}`])).toMatch(
      /^ship: unknown option '--x{38}…' \(102 characters\); if it is meant as \[extra\.\.\.\]/,
    );
    expect(await usageError(['deploy', 'prod', `--${x(101)}`])).toMatch(
      /^ship: unknown option '--x{38}…' \(103 characters\): no option has a name that long\n/,
    );
  });
});

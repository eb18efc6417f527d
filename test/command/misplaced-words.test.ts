// Words in the wrong place on a line: a value an optional-valued option takes only after '='
// (`-w5`, `-w 5`), a negative number where no argument is free, an argument an option took as
// its value. The errors name the word that was misplaced, and the line to type.
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

type Params = Record<string, string | true>;
const NAMES = ['d', 'e', 'timeout', 'to', 'f', 'w', 'a'] as const;
const runs: Array<{ action: string; params: Params; args: object }> = [];

/** An option that records its value, or `true` when it has none. */
function recording(meta: Parameters<typeof Option>[0]) {
  const cls = class implements CommandOption<Params> {
    impactAction(action: ParamTarget<Params>, value: string | undefined): void {
      action.setParam(meta.name, value ?? true);
    }
  };
  Option(meta)(cls);
  return cls;
}

const options = [
  recording({ name: 'd', long: 'dry-run', description: 'Change nothing', value: 'none' }),
  recording({ name: 'e', long: 'env', description: 'Environment', value: 'required', valueName: 'env' }),
  recording({
    name: 'timeout',
    description: 'Seconds to wait; alone: 300',
    value: 'optional',
    valueName: 's',
  }),
  recording({ name: 'to', description: 'Version', value: 'required', valueName: 'version' }),
  recording({ name: 'f', long: 'force', description: 'Even if unhealthy', value: 'none' }),
  recording({
    name: 'w',
    long: 'watch',
    description: 'Refresh every n seconds',
    value: 'optional',
    valueName: 'n',
  }),
  recording({ name: 'a', long: 'all', description: 'Every service', value: 'none' }),
];

const actions = ['deploy', 'rollback', 'status'].map((name) => {
  const cls = class extends CommandAction<Params, object> {
    handler(): void {
      const params: Params = {};
      for (const key of NAMES) if (this.hasParam(key)) params[key] = this.getParam(key)!;
      runs.push({ action: name, params, args: { ...this.args } });
    }
  };
  Action({ name, description: `The ${name} action` })(cls);
  return cls;
});

@Template(
  `<deploy> <service> [extra...] -[d] -<e> -[timeout]
   <rollback> <service> -[to] -[f]
   <status> [service] -[w] -[a]`,
  { bin: 'shipit' },
)
class ShipitTemplate {}

function shipit() {
  runs.length = 0;
  return new CommandRouter(new Container(), { template: ShipitTemplate, actions, options });
}

/** The error line of a usage error (exit 2, nothing run). */
async function usageError(argv: string[]): Promise<string> {
  const out = capture();
  expect(await shipit().run(argv, out.io)).toBe(2);
  expect(runs).toEqual([]);
  const [line, help] = out.stderr().split('\n');
  expect(help).toMatch(/^Run 'shipit( \w+)? --help' for usage\.$/);
  return line!;
}

async function ran(argv: string[]): Promise<(typeof runs)[number]> {
  const out = capture();
  expect(await shipit().run(argv, out.io)).toBe(0);
  expect(out.stderr()).toBe('');
  return runs[0]!;
}

describe("a short option's optional value written in its word", () => {
  it.each([
    [['status', '-w5'], "shipit: option -w takes its value only after '=': -w=5"],
    [['status', 'web', '-w10'], "shipit: option -w takes its value only after '=': -w=10"],
    [['status', '-aw5'], "shipit: option -w takes its value only after '=': -aw=5"],
    [['status', '-w.5'], "shipit: option -w takes its value only after '=': -w=.5"],
    [['-w5', 'status'], "shipit: option -w takes its value only after '=': -w=5"],
  ])('%j names the option and the way to write it, not a letter the user never typed', async (argv, line) => {
    expect(await usageError(argv)).toBe(line);
  });

  it.each([
    [['status', '-waz'], 'shipit: unknown option -z'],
    [['status', '-wza'], 'shipit: unknown option -z'],
    [['status', 'web', '-wax'], 'shipit: unknown option -x'],
  ])('%j: a typo among flags after -w is named, not read as the value of -w', async (argv, line) => {
    expect(await usageError(argv)).toBe(line);
  });

  it.each([
    [['status', '-wx'], "shipit: unknown option -x; or, if 'x' was meant as the value of -w: -w=x"],
    [['status', '-awxy'], "shipit: unknown option -x; or, if 'xy' was meant as the value of -w: -aw=xy"],
  ])('%j: letters that are no options name the first, and the value of -w second', async (argv, line) => {
    expect(await usageError(argv)).toBe(line);
  });

  it('-w=5 and -w alone still work', async () => {
    expect(await ran(['status', '-wa'])).toMatchObject({ params: { w: true, a: true } });
    expect(await ran(['status', '-w=5'])).toMatchObject({ params: { w: '5' } });
    expect(await ran(['status', '-w'])).toMatchObject({ params: { w: true } });
  });
});

describe('a negative number where an option is read', () => {
  const tail = "a negative number reads as an option: put it after '--', options before it:";
  it.each([
    // an argument is free: the number may be meant as it
    [['rollback', '-9'], `shipit: unknown option -9; ${tail} shipit rollback -- -9`],
    [['status', '-1.5'], `shipit: unknown option -1.5; ${tail} shipit status -- -1.5`],
    // every argument is given: it can only be a mistyped option, and '--' would fail again
    [['rollback', 'web', '-9'], 'shipit: unknown option -9'],
    [['rollback', '-9', 'web'], 'shipit: unknown option -9'],
    [['rollback', '--to=v1', '-9', '--', 'web'], 'shipit: unknown option -9'],
    [['status', 'web', '-9'], 'shipit: unknown option -9'],
  ])('%j', async (argv, line) => {
    expect(await usageError(argv)).toBe(line);
  });
});

describe('an optional value given in the next word, one argument too many', () => {
  const tooMany = "shipit: too many arguments for 'status' (it takes [service]):";
  it.each([
    // the word after the option is the misplaced one, not the last argument
    [
      ['status', '-w', '5', 'web'],
      `${tooMany} '5' after option -w is one of them; option -w takes its value only after '=': -w=5`,
    ],
    [
      ['status', '--watch', '5', 'web'],
      `${tooMany} '5' after option --watch is one of them; option --watch takes its value only after '=': --watch=5`,
    ],
    [
      ['status', '-w', '5', '--', 'web'],
      `${tooMany} '5' after option -w is one of them; option -w takes its value only after '=': -w=5`,
    ],
    // the last argument is the one after the option
    [
      ['status', 'web', '-w', '5'],
      "shipit: unexpected argument '5' for 'status' (it takes [service]); option -w takes its value only after '=': -w=5",
    ],
    // no argument follows the option: the last one is unexpected
    [
      ['-w', 'status', 'web', 'extra'],
      "shipit: unexpected argument 'extra' for 'status' (it takes [service])",
    ],
    [
      ['status', 'web', 'extra', '-w'],
      "shipit: unexpected argument 'extra' for 'status' (it takes [service])",
    ],
  ])('%j', async (argv, line) => {
    expect(await usageError(argv)).toBe(line);
  });
});

describe('a missing argument after an option that took the next word as its value', () => {
  it('says the argument is missing first, and the option that may have taken it second', async () => {
    expect(await usageError(['deploy', '-e', 'staging'])).toBe(
      "shipit: missing argument <service> for 'deploy'; or, if 'staging' was meant as it, option -e took it as its value: give -e its own value (-e <env> staging, or -e=<env> staging)",
    );
    expect(await usageError(['deploy', '--env', 'my app'])).toBe(
      "shipit: missing argument <service> for 'deploy'; or, if 'my app' was meant as it, option --env took it as its value: give --env its own value (--env <env> 'my app', or --env=<env> 'my app')",
    );
  });
});

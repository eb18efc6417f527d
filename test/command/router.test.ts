import {
  Action,
  CommandAction,
  type CommandOption,
  CommandRouter,
  Option,
  type ParamTarget,
  Template,
  type TemplateHooks,
  type RunInfo,
} from '@drover/command';
import { Container, injectable } from 'inversify';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { capture } from './support/capture.js';
import {
  DeployTemplate,
  deployActions,
  deployOptions,
  deployRouter,
  GREETING,
  type Greeting,
  Recorder,
  StartAction,
  StopAction,
} from './support/deploy-cli.js';

describe('CommandRouter.run: command lines that fit', () => {
  const cases: Array<{
    argv: string[];
    action: string;
    params?: Record<string, unknown>;
    args?: Record<string, unknown>;
  }> = [
    { argv: ['start', 'app.mjs'], action: 'start', args: { script: 'app.mjs', args: [] } },
    {
      argv: ['start', 'app.mjs', '-d', '-n=4', '-a'],
      action: 'start',
      params: { detach: true, workers: 4, scope: 'all' },
    },
    // Options anywhere, long forms, clusters; a required value after '=', in the same word or the next.
    {
      argv: ['start', 'app.mjs', '-n', '4', 'x'],
      action: 'start',
      params: { workers: 4 },
      args: { script: 'app.mjs', args: ['x'] },
    },
    { argv: ['start', '-dn4', 'app.mjs'], action: 'start', params: { detach: true, workers: 4 } },
    { argv: ['--workers', '2', 'start', 'app.mjs'], action: 'start', params: { workers: 2 } },
    {
      argv: ['-d', 'start', '--workers=08', 'app.mjs'],
      action: 'start',
      params: { detach: true, workers: 8 },
    },
    { argv: ['start', '-ds', 'app.mjs'], action: 'start', params: { detach: true, scope: 'single' } },
    {
      argv: ['restart', 'app.mjs', '--', '-d', '--z'],
      action: 'restart',
      params: { detach: undefined },
      args: { script: 'app.mjs', args: ['-d', '--z'] },
    },
    { argv: ['start', 'app.mjs', 'a', 'b'], action: 'start', args: { script: 'app.mjs', args: ['a', 'b'] } },
    { argv: ['stop'], action: 'stop', params: { force: false }, args: { name: undefined } },
    { argv: ['stop', 'web', '--force'], action: 'stop', params: { force: true }, args: { name: 'web' } },
    { argv: ['logs', 'web', '-o'], action: 'logs', params: { stream: 'stdout', lines: undefined } },
    { argv: ['logs', 'web', '-e', '--lines'], action: 'logs', params: { stream: 'stderr', lines: 'all' } },
    { argv: ['logs', 'web', '-e', '--lines=20'], action: 'logs', params: { stream: 'stderr', lines: '20' } },
    { argv: ['logs', '-', '-o'], action: 'logs', args: { name: '-' } },
  ];

  it.each(cases)('$argv', async ({ argv, action, params, args }) => {
    const { router, recorder } = deployRouter();
    const out = capture();
    expect(await router.run(argv, out.io)).toBe(0);
    expect(out.stderr()).toBe('');
    expect(recorder.runs).toHaveLength(1);
    expect(recorder.runs[0]!.action).toBe(action);
    if (params) expect(recorder.runs[0]!.params).toMatchObject(params);
    if (args) expect(recorder.runs[0]!.args).toEqual(args);
  });

  it('hands the action its services, by class and by token, and the run streams', async () => {
    const { router } = deployRouter();
    const out = capture();
    expect(await router.run(['start', 'app.mjs'], out.io)).toBe(0);
    expect(out.stdout()).toBe('hello app.mjs\n');
  });

  it("returns the handler's own exit code", async () => {
    const { router } = deployRouter();
    expect(await router.run(['stop', 'nothing'], capture().io)).toBe(3);
  });
});

describe('CommandRouter.run: usage errors are one line, a hint, exit 2', () => {
  const cases: Array<{ argv: string[]; error: string; hint?: string }> = [
    { argv: [], error: 'missing action: expected one of start, restart, stop, logs' },
    // a valued option before the action takes the next word, the action too: the error says so
    {
      argv: ['-n', 'start', 'app.mjs'],
      error:
        "option -n took 'start' as its value, so the line has no action before the arguments; give its value after it (-n <count>) or with '=' (-n=<count>)",
    },
    {
      argv: ['--workers', 'help'],
      error:
        "option --workers took 'help' as its value, so the line has no action before the arguments; give its value after it (--workers <count>) or with '=' (--workers=<count>)",
    },
    {
      argv: ['strat', 'x'],
      error: "unknown action 'strat' (did you mean 'start'?); expected one of start, restart, stop, logs",
    },
    {
      argv: ['lgos'],
      error: "unknown action 'lgos' (did you mean 'logs'?); expected one of start, restart, stop, logs",
    },
    { argv: ['deploy'], error: "unknown action 'deploy'; expected one of start, restart, stop, logs" },
    // two edits away from 'logs': too far for a word of five letters to be a typo of it
    { argv: ['bogus'], error: "unknown action 'bogus'; expected one of start, restart, stop, logs" },
    {
      argv: ['help', 'strat'],
      error: "unknown action 'strat' (did you mean 'start'?); expected one of start, restart, stop, logs",
    },
    {
      argv: ['start', 'a', '--detahc'],
      error: 'unknown option --detahc (did you mean --detach?)',
      hint: 'start',
    },
    {
      argv: ['start', 'a', '--wrokers=3'],
      error: 'unknown option --wrokers (did you mean --workers?)',
      hint: 'start',
    },
    // an unknown option may be meant for the script: the way to pass it is said
    // The hint is the line to type: options stay before '--', arguments follow it in their order.
    {
      argv: ['start', 'a', '-x'],
      error:
        "unknown option -x; if it is meant as [args...], put it after '--', options before it: deploy start a -- -x",
      hint: 'start',
    },
    {
      argv: ['start', 'a', '--port=8080'],
      error:
        "unknown option --port; if it is meant as [args...], put it after '--', options before it: deploy start a -- --port=8080",
      hint: 'start',
    },
    {
      argv: ['start', 'a', '-x', 'b', '-d'],
      error:
        "unknown option -x; if it is meant as [args...], put it after '--', options before it: deploy start a -d -- -x b",
      hint: 'start',
    },
    {
      argv: ['start', 'my app', '--port=80', '--', 'b'],
      error:
        "unknown option --port; if it is meant as [args...], put it after '--', options before it: deploy start 'my app' -- --port=80 b",
      hint: 'start',
    },
    // before the script: the script stays first, the word goes after it
    {
      argv: ['start', '--frob', 'a'],
      error:
        "unknown option --frob; if it is meant as [args...], put it after '--', options before it: deploy start a -- --frob",
      hint: 'start',
    },
    {
      argv: ['start', '--frob', '-d', '--', 'a', 'b'],
      error:
        "unknown option --frob; if it is meant as [args...], put it after '--', options before it: deploy start -d -- a --frob b",
      hint: 'start',
    },
    // an option's value in the next word is no argument: it stays with its option
    {
      argv: ['start', 'a', '--port', '80', '-n', '2'],
      error:
        "unknown option --port; if it is meant as [args...], put it after '--', options before it: deploy start a -n 2 -- --port 80",
      hint: 'start',
    },
    {
      argv: ['start', '-n', '2', '--port=80', 'a'],
      error:
        "unknown option --port; if it is meant as [args...], put it after '--', options before it: deploy start -n 2 a -- --port=80",
      hint: 'start',
    },
    // an unknown option's next word moves with it when the action does not need it
    {
      argv: ['start', '--port', '8080', '-n', '2', 'a'],
      error:
        "unknown option --port; if it is meant as [args...], put it after '--', options before it: deploy start -n 2 a -- --port 8080",
      hint: 'start',
    },
    // an option that took the script as its value: the missing argument says so
    {
      argv: ['start', '-n', 'app.mjs'],
      error:
        "missing argument <script> for 'start'; or, if 'app.mjs' was meant as it, option -n took it as its value: give -n its own value (-n <count> app.mjs, or -n=<count> app.mjs)",
      hint: 'start',
    },
    // no script after it: it cannot be meant as an argument of the script, so no '--' line
    { argv: ['start', '--frob'], error: 'unknown option --frob', hint: 'start' },
    // a negative number for an action without variadic arguments: its first argument
    {
      argv: ['stop', '-1'],
      error:
        "unknown option -1; a negative number reads as an option: put it after '--', options before it: deploy stop -- -1",
      hint: 'stop',
    },
    {
      argv: ['logs', '-1', '--lines=3', '-o'],
      error:
        "unknown option -1; a negative number reads as an option: put it after '--', options before it: deploy logs --lines=3 -o -- -1",
      hint: 'logs',
    },
    // Before the action, an unknown option is judged against every option of the program, and the
    // first problem on the line is the one reported.
    { argv: ['--bogus'], error: 'unknown option --bogus' },
    { argv: ['--detahc', 'start', 'a'], error: 'unknown option --detahc (did you mean --detach?)' },
    { argv: ['--bogus', 'strat'], error: 'unknown option --bogus' },
    { argv: ['-=', 'start', 'a'], error: 'unknown option -=' },
    {
      argv: ['--no-detach', 'start', 'a'],
      error: 'unknown option --no-detach; flags have no --no- form: leave --detach out instead',
    },
    {
      argv: ['strat', '--bogus'],
      error: "unknown action 'strat' (did you mean 'start'?); expected one of start, restart, stop, logs",
    },
    {
      argv: ['strat', '-='],
      error: "unknown action 'strat' (did you mean 'start'?); expected one of start, restart, stop, logs",
    },
    // After '--', 'help' is an argument like any other, here in the place of the action.
    { argv: ['--', 'help'], error: "unknown action 'help'; expected one of start, restart, stop, logs" },
    // Help for an action that does not exist is refused, as `help strat` is.
    {
      argv: ['strat', '--help'],
      error: "unknown action 'strat' (did you mean 'start'?); expected one of start, restart, stop, logs",
    },
    { argv: ['nope', '-h'], error: "unknown action 'nope'; expected one of start, restart, stop, logs" },
    // an option with no argument to take it, or a near option name: no such hint
    { argv: ['stop', '-y'], error: 'unknown option -y', hint: 'stop' },
    { argv: ['start', 'a', '--d'], error: 'unknown option --d (did you mean -d?)', hint: 'start' },
    {
      argv: ['start', 'a', '---detach'],
      error: 'unknown option ---detach (did you mean --detach?)',
      hint: 'start',
    },
    {
      argv: ['start', 'a', '--no-detach'],
      error: 'unknown option --no-detach; flags have no --no- form: leave --detach out instead',
      hint: 'start',
    },
    {
      argv: ['stop', '-d'],
      error: "option -d does not apply to 'stop'; it is accepted by: start, restart",
      hint: 'stop',
    },
    { argv: ['logs', 'web'], error: 'missing required option: one of -o, -e', hint: 'logs' },
    {
      argv: ['start', 'a', '-a', '-s'],
      error: 'options -a and -s are mutually exclusive: give one of them',
      hint: 'start',
    },
    {
      argv: ['logs', 'web', '-oe'],
      error: 'options -o and -e are mutually exclusive: give one of them',
      hint: 'logs',
    },
    {
      argv: ['start', 'a', '-d=yes'],
      error: 'option -d does not take a value (got -d=yes); write -d alone',
      hint: 'start',
    },
    {
      argv: ['start', 'a', '--detach='],
      error: 'option --detach does not take a value (got --detach=); write --detach alone',
      hint: 'start',
    },
    { argv: ['start', 'a', '-n'], error: 'option -n needs a value: -n=<count>', hint: 'start' },
    // An optional value is only ever after '=': the next word stays an argument, and when it is
    // one too many, the error says how to give it as the value.
    {
      argv: ['logs', 'web', '-o', '--lines', '20'],
      error:
        "unexpected argument '20' for 'logs' (it takes <name>); option --lines takes its value only after '=': --lines=20",
      hint: 'logs',
    },
    {
      argv: ['logs', 'web', '--lines', 'a b', '-o'],
      error:
        "unexpected argument 'a b' for 'logs' (it takes <name>); option --lines takes its value only after '=': '--lines=a b'",
      hint: 'logs',
    },
    // not right after it: no such hint
    {
      argv: ['logs', 'web', '--lines', '-o', '20'],
      error: "unexpected argument '20' for 'logs' (it takes <name>)",
      hint: 'logs',
    },
    { argv: ['start', 'a', '-n', '-d'], error: 'option -n needs a value: -n=<count>', hint: 'start' },
    // A word that starts with '-' and is no option of the program, right after an option that
    // needs a value, was most likely meant as that value: it is not taken, and the hint joins them.
    {
      argv: ['start', 'a', '--workers', '--inspect'],
      error:
        "option --workers needs a value; '--inspect' after it starts with '-', so it is not taken as one; if it is the value, join them with '=': deploy start a --workers=--inspect",
      hint: 'start',
    },
    {
      argv: ['start', '-n', '-x', 'a', 'b'],
      error:
        "option -n needs a value; '-x' after it starts with '-', so it is not taken as one; if it is the value, join them with '=': deploy start -n=-x a b",
      hint: 'start',
    },
    {
      argv: ['start', 'a', '-dn', '--no-warnings'],
      error:
        "option -n needs a value; '--no-warnings' after it starts with '-', so it is not taken as one; if it is the value, join them with '=': deploy start a -dn=--no-warnings",
      hint: 'start',
    },
    {
      argv: ['start', 'a', '--workers', '---x y'],
      error:
        "option --workers needs a value; '---x y' after it starts with '-', so it is not taken as one; if it is the value, join them with '=': deploy start a '--workers=---x y'",
      hint: 'start',
    },
    // before the action, against every option of the program
    {
      argv: ['-n', '--inspect', 'start', 'a'],
      error:
        "option -n needs a value; '--inspect' after it starts with '-', so it is not taken as one; if it is the value, join them with '=': deploy -n=--inspect start a",
    },
    // not right after it: the word is an unknown option, with its own hint
    {
      argv: ['start', 'a', '-n', '2', '--inspect'],
      error:
        "unknown option --inspect; if it is meant as [args...], put it after '--', options before it: deploy start a -n 2 -- --inspect",
      hint: 'start',
    },
    // an option whose value is optional takes one only after '='
    {
      argv: ['logs', 'web', '-o', '--lines', '--frob'],
      error: 'unknown option --frob',
      hint: 'logs',
    },
    // what the user typed reaches the terminal as text, in the message and in the hint
    {
      argv: ['start', 'a', '-n', '--x\u001b[31m'],
      error:
        "option -n needs a value; '--x\\x1b[31m' after it starts with '-', so it is not taken as one; if it is the value, join them with '=': deploy start a '-n=--x\\x1b[31m'",
      hint: 'start',
    },
    {
      argv: ['start', 'a', '--x\u001b[31m'],
      error:
        "unknown option --x\\x1b[31m; if it is meant as [args...], put it after '--', options before it: deploy start a -- '--x\\x1b[31m'",
      hint: 'start',
    },
    {
      argv: ['start', 'a', '--workers', '--', 'x'],
      error: 'option --workers needs a value: --workers=<count>',
      hint: 'start',
    },
    {
      argv: ['stop', '-n', '4'],
      error: "option -n does not apply to 'stop'; it is accepted by: start, restart",
      hint: 'stop',
    },
    {
      argv: ['start', 'a', '--workers='],
      error: 'option --workers needs a value: --workers=<count>',
      hint: 'start',
    },
    { argv: ['start', 'a', '-d', '-d'], error: 'option -d is given more than once', hint: 'start' },
    {
      argv: ['start', 'a', '-d', '--detach'],
      error: 'option -d (as --detach) is given more than once',
      hint: 'start',
    },
    { argv: ['start'], error: "missing argument <script> for 'start'", hint: 'start' },
    { argv: ['logs', '-o'], error: "missing argument <name> for 'logs'", hint: 'logs' },
    { argv: ['stop', 'a', 'b'], error: "unexpected argument 'b' for 'stop' (it takes [name])", hint: 'stop' },
    // Raised by the option itself, from its value.
    {
      argv: ['start', 'a', '-n=many'],
      error: 'option -n is "many"; expected a whole number, 1 or more',
      hint: 'start',
    },
    // Raised by the handler.
    { argv: ['logs', 'bad', '-o'], error: "group 'bad' has no logs; pick a group that ran", hint: 'logs' },
    { argv: ['start', 'a\0b'], error: 'argument 2 contains a NUL character' },
    // Built-in commands: a value on their flags is refused as on other flags, a word after
    // `help <action>` too, and their misspellings get a suggestion.
    {
      argv: ['--help=yes'],
      error: 'option --help does not take a value (got --help=yes); write --help alone',
    },
    { argv: ['start', '-h=1'], error: 'option -h does not take a value (got -h=1); write -h alone' },
    {
      argv: ['--version=1'],
      error: 'option --version does not take a value (got --version=1); write --version alone',
    },
    { argv: ['help', 'start', 'more'], error: "unexpected argument 'more' for 'help' (it takes [action])" },
    {
      argv: ['hepl'],
      error: "unknown action 'hepl' (did you mean 'help'?); expected one of start, restart, stop, logs",
    },
    { argv: ['--hlep'], error: 'unknown option --hlep (did you mean --help?)' },
    { argv: ['--verison'], error: 'unknown option --verison (did you mean --version?)' },
    // rather than the line that would pass it to the script
    {
      argv: ['start', 'a', '--verison'],
      error: 'unknown option --verison (did you mean --version?)',
      hint: 'start',
    },
    // an option of other actions is not suggested as such: which actions take it is said
    {
      argv: ['stop', 'web', '--lnes'],
      error: 'unknown option --lnes (--lines is an option of: logs)',
      hint: 'stop',
    },
    {
      argv: ['logs', 'web', '-o', '--lnes'],
      error: 'unknown option --lnes (did you mean --lines?)',
      hint: 'logs',
    },
    // --no-x is refused with "leave --x out" only when --x exists
    { argv: ['stop', '--no-such'], error: 'unknown option --no-such', hint: 'stop' },
    // A long option written with one dash, refused as typed, with the long form.
    {
      argv: ['start', 'a', '-workers', '4'],
      error:
        "unknown option -workers; a long option takes two dashes: --workers; if it is meant as [args...], put it after '--', options before it: deploy start a -- -workers 4",
      hint: 'start',
    },
    {
      argv: ['start', 'a', '-workers=4'],
      error:
        "unknown option -workers=4; a long option takes two dashes: --workers=4; if it is meant as [args...], put it after '--', options before it: deploy start a -- -workers=4",
      hint: 'start',
    },
    {
      argv: ['stop', '-force'],
      error: 'unknown option -force; a long option takes two dashes: --force',
      hint: 'stop',
    },
    {
      argv: ['stop', '-all'],
      error: 'unknown option -all; a long option takes two dashes: --all',
      hint: 'stop',
    },
    { argv: ['-version'], error: 'unknown option -version; a long option takes two dashes: --version' },
    { argv: ['stop', '-forse'], error: 'unknown option -forse (did you mean --force?)', hint: 'stop' },
    {
      argv: ['start', 'a', '-forse'],
      error:
        "unknown option -forse (--force is an option of: stop); if it is meant as [args...], put it after '--', options before it: deploy start a -- -forse",
      hint: 'start',
    },
    { argv: ['-verison'], error: 'unknown option -verison (did you mean --version?)' },
    {
      argv: ['start', 'a', '-force'],
      error:
        "unknown option -force; a long option takes two dashes: --force (an option of: stop); if it is meant as [args...], put it after '--', options before it: deploy start a -- -force",
      hint: 'start',
    },
  ];

  it.each(cases)('$argv', async ({ argv, error, hint }) => {
    const { router, recorder } = deployRouter();
    const out = capture();
    expect(await router.run(argv, out.io)).toBe(2);
    expect(out.stderr()).toBe(`deploy: ${error}\nRun 'deploy${hint ? ` ${hint}` : ''} --help' for usage.\n`);
    expect(out.stdout()).toBe('');
    expect(recorder.runs).toEqual([]);
  });

  it('--version is an unknown option when the template sets no version', async () => {
    @Action({ name: 'go', description: 'Go' })
    class GoAction extends CommandAction {
      handler(): void {}
    }
    @Template('<go>', { bin: 'plain' })
    class PlainTemplate {}
    const router = new CommandRouter(new Container(), { template: PlainTemplate, actions: [GoAction] });
    const out = capture();
    expect(await router.run(['--version'], out.io)).toBe(2);
    expect(out.stderr()).toBe("plain: unknown option --version\nRun 'plain --help' for usage.\n");
    expect(await router.run(['go', '--version'], out.io)).toBe(2);
    expect(out.stderr()).toContain('plain: unknown option --version\n');
  });
});

describe('CommandRouter.run: built-in commands win over everything', () => {
  const general: string[][] = [
    ['--help'],
    ['-h'],
    ['help'],
    ['--no-detach', '--help'],
    ['-dh'],
    ['help', 'help'],
    // help about help: the whole help lists `help <action>`
    ['help', '--help'],
    ['help', '-h'],
    ['-help'],
  ];
  it.each(general)('%j prints the whole help, exit 0', async (...argv) => {
    const { router, recorder } = deployRouter();
    const out = capture();
    expect(await router.run(argv, out.io)).toBe(0);
    expect(out.stdout()).toBe(router.help());
    expect(out.stdout()).toMatch(/^Usage: deploy \(start\|restart\)/);
    expect(out.stderr()).toBe('');
    expect(recorder.runs).toEqual([]);
  });

  const single: string[][] = [
    ['start', '--help'],
    ['help', 'start'],
    ['start', '-a', '-s', '-h'],
    ['start', '-x', '--bogus', '-h'],
    ['help', 'start', '--help'],
  ];
  it.each(single)("%j prints the action's help, exit 0", async (...argv) => {
    const { router } = deployRouter();
    const out = capture();
    expect(await router.run(argv, out.io)).toBe(0);
    expect(out.stdout()).toBe(router.help('start'));
    expect(out.stdout()).toMatch(/^Usage: deploy start <script> \[args\.\.\.\]/);
  });

  it('--version prints the version, exit 0, even on a line with errors', async () => {
    const { router } = deployRouter();
    const out = capture();
    expect(await router.run(['--version'], out.io)).toBe(0);
    expect(await router.run(['strat', '-x', '--version'], out.io)).toBe(0);
    expect(out.stdout()).toBe('1.2.3\n1.2.3\n');
  });

  it('the hint for an option meant as an argument is a line that works', async () => {
    const { router, recorder } = deployRouter();
    const out = capture();
    expect(await router.run(['logs', '-1', '--lines=3', '-o'], out.io)).toBe(2);
    const suggested = out.stderr().split('options before it: deploy ')[1]!.split('\n')[0]!.split(' ');
    expect(await router.run(suggested, capture().io)).toBe(0);
    expect(recorder.runs).toEqual([
      { action: 'logs', params: { stream: 'stdout', lines: '3' }, args: { name: '-1' } },
    ]);
  });

  it('--help after -- is an argument, not a command', async () => {
    const { router, recorder } = deployRouter();
    expect(await router.run(['start', 'a', '--', '--help'], capture().io)).toBe(0);
    expect(recorder.runs[0]!.args).toEqual({ script: 'a', args: ['--help'] });
  });
});

describe('CommandRouter.run: failures of the action exit 1', () => {
  it('prints the error message as one line, without a usage hint', async () => {
    const { router } = deployRouter();
    const out = capture();
    expect(await router.run(['logs', 'broken', '-o'], out.io)).toBe(1);
    expect(out.stderr()).toBe('deploy: log file is unreadable: /var/log/broken.log\n');
  });

  it('adds the stack when DEBUG is set', async () => {
    const { router } = deployRouter();
    const out = capture({ env: { DEBUG: '1' } });
    expect(await router.run(['logs', 'broken', '-o'], out.io)).toBe(1);
    expect(out.stderr()).toMatch(
      /^deploy: log file is unreadable.*\nError: log file is unreadable.*\n\s+at /,
    );
  });

  it('reports a service the container cannot provide', async () => {
    const container = new Container();
    container.bind(Recorder).toSelf();
    const router = new CommandRouter(container, {
      template: DeployTemplate,
      actions: deployActions,
      options: deployOptions,
    });
    const out = capture();
    expect(await router.run(['start', 'a'], out.io)).toBe(1);
    expect(out.stderr()).toBe(
      "deploy: action 'start': the container has no binding for Symbol(Greeting), which StartAction needs; " +
        'bind it in the container before running the router\n',
    );
    // inversify's own account stays available for debugging.
    const debug = capture({ env: { DEBUG: '1' } });
    expect(await router.run(['start', 'a'], debug.io)).toBe(1);
    expect(debug.stderr()).toContain('Caused by: ');
    expect(debug.stderr()).toContain('No bindings found for service: "Symbol(Greeting)"');
  });

  it('reports a service bound twice, and an action bound twice, on one line', async () => {
    const container = new Container();
    container.bind<Greeting>(GREETING).toConstantValue({ text: () => 'host' });
    container.bind(StopAction).toSelf();
    container.bind(StopAction).toSelf();
    const { router } = deployRouter(container);
    const out = capture();
    expect(await router.run(['start', 'a'], out.io)).toBe(1);
    expect(await router.run(['stop'], out.io)).toBe(1);
    const fix =
      'bind it once: a second bind() adds a binding, it does not replace the first (use rebind() for that)';
    expect(out.stderr()).toBe(
      `deploy: action 'start': the container has 2 bindings for Symbol(Greeting), which StartAction needs; ${fix}\n` +
        `deploy: action 'stop': the container has 2 bindings for StopAction; ${fix}\n`,
    );
    // inversify's own account stays available for debugging.
    const debug = capture({ env: { DEBUG: '1' } });
    expect(await router.run(['start', 'a'], debug.io)).toBe(1);
    expect(debug.stderr()).toContain('Caused by: ');
    expect(debug.stderr()).toContain('Ambiguous bindings found for service: "Symbol(Greeting)"');
  });

  it('names a class the container cannot provide to an option', async () => {
    class Clock {}
    @Option({ name: 'v', description: 'Verbose', value: 'none' })
    class TimedOption implements CommandOption<object> {
      constructor(readonly clock: Clock) {}
      impactAction(): void {}
    }
    @Action({ name: 'go', description: 'Go' })
    class GoAction extends CommandAction {
      handler(): void {}
    }
    @Template('<go> -[v]', { bin: 'g' })
    class GoTemplate {}
    const router = new CommandRouter(new Container(), {
      template: GoTemplate,
      actions: [GoAction],
      options: [TimedOption],
    });
    const out = capture();
    expect(await router.run(['go', '-v'], out.io)).toBe(1);
    expect(out.stderr()).toBe(
      "g: action 'go': the container has no binding for Clock, which TimedOption needs; " +
        'bind it in the container before running the router\n',
    );
  });

  it('turns a rejection with a non-Error into exit 1', async () => {
    @Action({ name: 'boom', description: 'Rejects with a string' })
    class BoomAction extends CommandAction {
      handler(): Promise<void> {
        return Promise.reject('plain string');
      }
    }
    @Template('<boom>', { bin: 'b' })
    class BoomTemplate {}
    const router = new CommandRouter(new Container(), { template: BoomTemplate, actions: [BoomAction] });
    const out = capture();
    expect(await router.run(['boom'], out.io)).toBe(1);
    expect(out.stderr()).toBe("b: action 'boom' failed: handler() threw a non-Error value: 'plain string'\n");
  });
});

describe('CommandRouter.run: what a part of an action threw, said on one line', () => {
  class DeployError extends Error {}
  const thrown: Record<string, () => unknown> = {
    object: () => ({ code: 42 }),
    undefined: () => undefined,
    null: () => null,
    'null prototype': () => Object.create(null),
    symbol: () => Symbol('boom'),
    'control characters': () => 'a\x1b[2Jb\nc',
    long: () => 'x'.repeat(1000),
    'empty message': () => new Error(''),
    'empty TypeError': () => new TypeError(''),
    'empty subclass': () => new DeployError(''),
    'escape sequence in a message': () => new Error('moved\x1b[2J\rover\nsecond line\tend'),
    'a cause chain': () =>
      new Error('deploy failed', {
        cause: new Error('ECONNREFUSED 10.0.0.1:443', { cause: { code: 'ECONNREFUSED', port: 443 } }),
      }),
    'a cause it quotes': () =>
      new Error("cannot read '/etc/app.json': ENOENT: no such file", {
        cause: new Error('ENOENT: no such file', { cause: new Error('tool: config lookup failed') }),
      }),
    'a cause without a message': () => new Error('deploy failed', { cause: new TypeError('') }),
    'a cycle of causes': () => {
      const first = new Error('first');
      first.cause = new Error('second', { cause: first });
      return first;
    },
  };

  @Template('<deploy> [what] -[n]', { bin: 'tool' })
  class ThrowTemplate {}
  @Option({ name: 'n', description: 'Throws what it is given', value: 'required' })
  class ThrowOption implements CommandOption<object> {
    impactAction(_action: ParamTarget<object>, value: string | undefined): void {
      throw thrown[value!]!();
    }
  }
  @Action({ name: 'deploy', description: 'Throws what it is given' })
  class DeployAction extends CommandAction<object, { what?: string }> {
    handler(): Promise<void> {
      return Promise.reject(thrown[this.args.what!]!());
    }
  }
  const router = () =>
    new CommandRouter(new Container(), {
      template: ThrowTemplate,
      actions: [DeployAction],
      options: [ThrowOption],
    });

  it.each([
    ['object', "action 'deploy' failed: handler() threw a non-Error value: { code: 42 }"],
    ['undefined', "action 'deploy' failed: handler() threw a non-Error value: undefined"],
    ['null', "action 'deploy' failed: handler() threw a non-Error value: null"],
    [
      'null prototype',
      "action 'deploy' failed: handler() threw a non-Error value: [Object: null prototype] {}",
    ],
    ['symbol', "action 'deploy' failed: handler() threw a non-Error value: Symbol(boom)"],
    ['control characters', "action 'deploy' failed: handler() threw a non-Error value: 'a\\x1B[2Jb\\nc'"],
    ['long', `action 'deploy' failed: handler() threw a non-Error value: '${'x'.repeat(199)}…`],
    ['empty message', "action 'deploy' failed: handler() threw Error with no message"],
    ['empty TypeError', "action 'deploy' failed: handler() threw TypeError with no message"],
    ['empty subclass', "action 'deploy' failed: handler() threw DeployError with no message"],
    // the message's own lines stay; what would move the cursor or rewrite the line is escaped
    ['escape sequence in a message', 'moved\\x1b[2J\\rover\nsecond line\tend'],
  ])('the handler threw %s', async (what, line) => {
    const out = capture();
    expect(await router().run(['deploy', what], out.io)).toBe(1);
    expect(out.stderr()).toBe(`tool: ${line}\n`);
  });

  it('names the option that threw', async () => {
    const out = capture();
    expect(await router().run(['deploy', '-n', 'object'], out.io)).toBe(1);
    expect(out.stderr()).toBe(
      "tool: action 'deploy' failed: option -n threw a non-Error value: { code: 42 }\n",
    );
  });

  it.each([
    [
      'a cause chain',
      "deploy failed\ncaused by: ECONNREFUSED 10.0.0.1:443\ncaused by: { code: 'ECONNREFUSED', port: 443 }",
    ],
    // what the message already quotes, and a program's name before it, are not said again
    [
      'a cause it quotes',
      "cannot read '/etc/app.json': ENOENT: no such file\ncaused by: tool: config lookup failed",
    ],
    ['a cause without a message', 'deploy failed'],
    ['a cycle of causes', 'first\ncaused by: second'],
  ])('%s: each cause is a line of its message, with no stack', async (what, text) => {
    const out = capture();
    expect(await router().run(['deploy', what], out.io)).toBe(1);
    expect(out.stderr()).toBe(`tool: ${text}\n`);
  });

  it('showCauses: false leaves the causes to DEBUG', async () => {
    const quiet = new CommandRouter(new Container(), {
      template: ThrowTemplate,
      actions: [DeployAction],
      options: [ThrowOption],
      showCauses: false,
    });
    const out = capture();
    expect(await quiet.run(['deploy', 'a cause chain'], out.io)).toBe(1);
    expect(out.stderr()).toBe('tool: deploy failed\n');
    const debug = capture({ env: { DEBUG: '1' } });
    expect(await quiet.run(['deploy', 'a cause chain'], debug.io)).toBe(1);
    expect(debug.stderr()).toMatch(
      /^tool: deploy failed\nError: deploy failed\n[\s\S]*\nCaused by: Error: ECONNREFUSED/,
    );
  });

  it('with DEBUG, the stack of the error and of each cause follow', async () => {
    const out = capture({ env: { DEBUG: '1' } });
    expect(await router().run(['deploy', 'a cause chain'], out.io)).toBe(1);
    expect(out.stderr()).toMatch(
      /^tool: deploy failed\ncaused by: ECONNREFUSED 10\.0\.0\.1:443\ncaused by: .*\nError: deploy failed\n\s+at [\s\S]*\nCaused by: Error: ECONNREFUSED 10\.0\.0\.1:443\n\s+at [\s\S]*\nCaused by: \{ code: 'ECONNREFUSED', port: 443 \}\n$/,
    );
  });

  it('keeps the thrown value as the cause, shown after the stack when DEBUG is set', async () => {
    const out = capture({ env: { DEBUG: '1' } });
    expect(await router().run(['deploy', 'object'], out.io)).toBe(1);
    expect(out.stderr()).toMatch(
      /^tool: action 'deploy' failed: handler\(\) threw a non-Error value: \{ code: 42 \}\nCommandError: .*\n\s+at [\s\S]*\nCaused by: \{ code: 42 \}\n$/,
    );
  });
});

describe('CommandRouter.run: exit codes a handler returns', () => {
  @Action({ name: 'code', description: 'Returns the exit code it is given' })
  class CodeAction extends CommandAction<object, { value: string }> {
    handler(): number | undefined {
      return JSON.parse(this.args.value, (_key, value) => (value === 'NaN' ? Number.NaN : value));
    }
  }
  @Template('<code> <value>', { bin: 'c' })
  class CodeTemplate {}
  const router = new CommandRouter(new Container(), { template: CodeTemplate, actions: [CodeAction] });

  it.each(['0', '3', '255'])('returns %s as the exit code', async (value) => {
    const out = capture();
    expect(await router.run(['code', value], out.io)).toBe(Number(value));
    expect(out.stderr()).toBe('');
  });

  it.each([
    ['300', '300'],
    ['256', '256'],
    ['-1', '-1'],
    ['1.5', '1.5'],
    ['"NaN"', 'NaN'],
    ['"3"', 'the string "3"'],
    ['true', 'a boolean'],
    ['null', 'null'],
  ])('refuses %s: exit 1 and one line naming the action, the value and the rule', async (value, shown) => {
    const out = capture();
    expect(await router.run(['code', '--', value], out.io)).toBe(1);
    expect(out.stderr()).toBe(
      `c: action 'code' returned ${shown} from handler(); an exit code is an integer 0-255 (return nothing for 0)\n`,
    );
  });
});

describe('CommandRouter.run never throws, even when its output streams do', () => {
  const throwing = {
    write: () => {
      throw new Error('EPIPE');
    },
  };
  const rejecting = { write: () => Promise.reject(new Error('stream closed')) };

  it.each([
    ['throws', throwing],
    ['returns a rejected promise', rejecting],
  ])('resolves to the exit code when write() %s', async (_how, stream) => {
    const { router } = deployRouter();
    const io = { stdout: stream, stderr: stream, env: {} };
    await expect(router.run(['strat'], io)).resolves.toBe(2);
    await expect(router.run(['--help'], io)).resolves.toBe(0);
    await expect(router.run(['--version'], io)).resolves.toBe(0);
    await expect(router.run(['logs', 'broken', '-o'], io)).resolves.toBe(1);
  });

  it("reports a handler's own failed write as the handler's failure", async () => {
    const { router } = deployRouter();
    await expect(router.run(['start', 'a'], { stdout: throwing, stderr: throwing, env: {} })).resolves.toBe(
      1,
    );
  });

  it('resolves to 1 when the io object itself is unusable', async () => {
    const { router } = deployRouter();
    const io = {
      get stdout(): never {
        throw new Error('no stdout');
      },
    };
    await expect(router.run(['--version'], io)).resolves.toBe(1);
  });
});

describe('CommandRouter: container and life cycle', () => {
  it('resolves a fresh action per run, so parameters never leak between runs', async () => {
    const { router, recorder } = deployRouter();
    await router.run(['start', 'a', '-d', '-n=2'], capture().io);
    await router.run(['start', 'b'], capture().io);
    expect(recorder.runs.map((r) => r.params)).toEqual([
      { detach: true, workers: 2, scope: undefined },
      { detach: undefined, workers: undefined, scope: undefined },
    ]);
  });

  it('keeps bindings the host made, and resets a singleton action between runs', async () => {
    const container = new Container();
    container.bind(StartAction).toSelf().inSingletonScope();
    const { router, recorder } = deployRouter(container);
    await router.run(['start', 'a', '-d'], capture().io);
    await router.run(['start', 'b'], capture().io);
    expect(recorder.runs.map((r) => r.params.detach)).toEqual([true, undefined]);
    expect(container.get(StartAction)).toBe(container.get(StartAction));
  });

  it('refuses a second run of a singleton action that is still running, leaving the first alone', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entered: Array<() => void> = [];
    const entries = [0, 1].map((i) => new Promise<void>((resolve) => (entered[i] = resolve)));
    let runs = 0;
    @Action({ name: 'slow', description: 'Waits for the test' })
    class SlowAction extends CommandAction<{ force: boolean }, { name: string }> {
      async handler(): Promise<void> {
        entered[runs++]!();
        await gate;
        this.io.stdout.write(`${this.args.name} force=${this.getParam('force', false)}\n`);
      }
    }
    @Template('<slow> <name> -[f]', { bin: 'sl' })
    class SlowTemplate {}
    const container = new Container();
    container.bind(SlowAction).toSelf().inSingletonScope();
    const router = new CommandRouter(container, {
      template: SlowTemplate,
      actions: [SlowAction],
      options: [deployOptions[4]!],
    });
    const first = capture();
    const second = capture();
    const firstRun = router.run(['slow', 'one', '-f'], first.io);
    await entries[0];
    const secondRun = router.run(['slow', 'two'], second.io);
    // The second run ends at once; were it let through, it would reach the handler instead.
    await Promise.race([secondRun, entries[1]]);
    release();
    expect(await secondRun).toBe(1);
    expect(second.stderr()).toBe(
      "sl: action 'slow' is already running: the container gave this run the same SlowAction instance (singleton scope); " +
        'bind SlowAction in transient scope, the default, to run it concurrently\n',
    );
    expect(second.stdout()).toBe('');
    expect(await firstRun).toBe(0);
    expect(first.stdout()).toBe('one force=true\n');
    expect(first.stderr()).toBe('');
    // Once the first run is over, the instance runs again, with fresh parameters.
    const third = capture();
    expect(await router.run(['slow', 'three'], third.io)).toBe(0);
    expect(third.stdout()).toBe('three force=false\n');
  });

  it('resolves the template and runs its beforeHandler hook after the options', async () => {
    const seen: string[] = [];
    @injectable()
    class Audit {
      note(text: string): void {
        seen.push(text);
      }
    }
    @Option({ name: 'v', long: 'verbose', description: 'More output', value: 'none' })
    class VerboseOption implements CommandOption<{ verbose: boolean }> {
      impactAction(action: ParamTarget<{ verbose: boolean }>): void {
        seen.push('option');
        action.setParam('verbose', true);
      }
    }
    @Action({ name: 'go', description: 'Go' })
    class GoAction extends CommandAction<{ verbose: boolean }, { target?: string }> {
      handler(): void {
        seen.push(`handler verbose=${this.getParam('verbose')}`);
      }
    }
    @Template('<go> [target] -[v]', { bin: 'hooked' })
    class HookedTemplate implements TemplateHooks {
      constructor(private readonly audit: Audit) {}
      beforeHandler(action: CommandAction<object, object>, info: RunInfo): void {
        this.audit.note(`before ${info.action} ${JSON.stringify(info.options)} ${JSON.stringify(info.args)}`);
        expect(action).toBeInstanceOf(GoAction);
      }
    }
    const container = new Container();
    container.bind(Audit).toSelf();
    const router = new CommandRouter(container, {
      template: HookedTemplate,
      actions: [GoAction],
      options: [VerboseOption],
    });
    expect(await router.run(['go', 'x', '-v'], capture().io)).toBe(0);
    expect(seen).toEqual(['option', 'before go [{"name":"v"}] {"target":"x"}', 'handler verbose=true']);
  });

  it('runs several routers in one program and one container, each with its own template', async () => {
    const container = new Container();
    const { router: deploy, recorder } = deployRouter(container);

    @Action({ name: 'start', description: 'Start the other thing' })
    class OtherStart extends CommandAction<{ detach: boolean }> {
      constructor(private readonly rec: Recorder) {
        super();
      }
      handler(): void {
        this.rec.runs.push({ action: 'other-start', params: { detach: this.getParam('detach') }, args: {} });
      }
    }
    // Shares DetachOption with the deploy router.
    @Template('<start> -[d]', { bin: 'other' })
    class OtherTemplate {}
    const other = new CommandRouter(container, {
      template: OtherTemplate,
      actions: [OtherStart],
      options: [deployOptions[0]!],
    });

    const out = capture();
    expect(await other.run(['start', '-d'], out.io)).toBe(0);
    expect(await deploy.run(['start', 'x.mjs', '-d'], out.io)).toBe(0);
    expect(await other.run(['start', 'x.mjs'], out.io)).toBe(2);
    expect(await other.run(['start', '-n=3'], out.io)).toBe(2);
    expect(out.stderr()).toBe(
      "other: unexpected argument 'x.mjs' for 'start' (it takes no arguments)\nRun 'other start --help' for usage.\n" +
        "other: unknown option -n\nRun 'other start --help' for usage.\n",
    );
    expect(recorder.runs.map((r) => [r.action, r.params.detach])).toEqual([
      ['other-start', true],
      ['start', true],
    ]);
    expect(other.help()).toMatch(/^Usage: other start \[-d\]\n/);
  });

  it('exposes the parsed template', () => {
    const { router } = deployRouter();
    expect(router.template.lines.map((l) => l.actions)).toEqual([['start', 'restart'], ['stop'], ['logs']]);
    expect(router.spec.bin).toBe('deploy');
  });
});

describe('typed parameters', () => {
  it('types getParam, setParam and args from the class generics', () => {
    // Compile-time checks: `tsc -p tsconfig.json` fails if a type drifts or an error line stops
    // erroring. The function is never called.
    const typeChecks = (action: StartAction, target: ParamTarget<{ detach: boolean }>) => {
      expectTypeOf(action.getParam('workers')).toEqualTypeOf<number | undefined>();
      expectTypeOf(action.getParam('workers', 1)).toEqualTypeOf<number>();
      expectTypeOf(action.getParam('scope')).toEqualTypeOf<'all' | 'single' | undefined>();
      expectTypeOf(action.args.script).toEqualTypeOf<string>();
      expectTypeOf(action.args.args).toEqualTypeOf<string[]>();
      // @ts-expect-error: an unknown key
      target.setParam('detahc', true);
      // @ts-expect-error: a value of the wrong type
      target.setParam('detach', 'yes');
      // @ts-expect-error: a key the action does not have
      action.getParam('force');
    };
    expect(typeChecks).toBeTypeOf('function');
  });
});

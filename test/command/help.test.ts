import { Action, CommandAction, CommandRouter, Option, Template } from '@drover/command';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { capture } from './support/capture.js';
import { deployRouter } from './support/deploy-cli.js';

const ESC = '\u001b[';
const stripColors = (text: string) =>
  text
    .split(ESC)
    .map((part, i) => (i === 0 ? part : part.replace(/^\d+m/, '')))
    .join('');

describe('generated help', () => {
  it('whole program, 80 columns', async () => {
    const { router } = deployRouter();
    const out = capture();
    expect(await router.run(['--help'], out.io)).toBe(0);
    expect(out.stdout()).toMatchInlineSnapshot(`
      "Usage: deploy (start|restart) <script> [args...] [-d] [-n=<count>] [-a|-s]
             deploy stop [name] [-f] [-a|-s]
             deploy logs <name> (-o|-e) [--lines[=<n>]]

      Runs scripts as supervised groups. A fixture of the command framework tests.

      Actions:
        start                  Start a script
        restart                Restart a script
        stop                   Stop one group or all of them
        logs                   Show the output of a group

      Options:
        -d, --detach           Run in the background (start, restart only)
        -n, --workers=<count>  Number of workers (start, restart only)
        -a, --all              Every instance (exclusive with -s; start, restart, stop
                               only)
        -s, --single           One instance (exclusive with -a; start, restart, stop
                               only)
        -f, --force            Do not wait (stop only)
        -o, --stdout           Standard output (required: this or -e; logs only)
        -e, --stderr           Standard error (required: this or -o; logs only)
            --lines[=<n>]      Lines to show; alone: all (logs only)

      Commands:
        -h, --help             Show this help
        help <action>          Show one action's help (also: deploy <action> --help)
            --version          Print the version
      "
    `);
  });

  it('one action', async () => {
    const { router } = deployRouter();
    const out = capture();
    expect(await router.run(['logs', '--help'], out.io)).toBe(0);
    expect(out.stdout()).toMatchInlineSnapshot(`
      "Usage: deploy logs <name> (-o|-e) [--lines[=<n>]]

      Show the output of a group

      Arguments:
        <name>

      Options:
        -o, --stdout       Standard output (required: this or -e)
        -e, --stderr       Standard error (required: this or -o)
            --lines[=<n>]  Lines to show; alone: all
      "
    `);
  });

  it('wraps descriptions to the stream width', async () => {
    const { router } = deployRouter();
    const out = capture({ columns: 50 });
    expect(await router.run(['--help'], out.io)).toBe(0);
    const lines = out.stdout().split('\n');
    // Usage lines too: they break between items.
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(50);
    expect(out.stdout()).toMatchInlineSnapshot(`
      "Usage: deploy (start|restart) <script> [args...]
                                    [-d] [-n=<count>]
                                    [-a|-s]
             deploy stop [name] [-f] [-a|-s]
             deploy logs <name> (-o|-e) [--lines[=<n>]]

      Runs scripts as supervised groups. A fixture of
      the command framework tests.

      Actions:
        start             Start a script
        restart           Restart a script
        stop              Stop one group or all of them
        logs              Show the output of a group

      Options:
        -d, --detach      Run in the background (start,
                          restart only)
        -n, --workers=<count>
                          Number of workers (start,
                          restart only)
        -a, --all         Every instance (exclusive with
                          -s; start, restart, stop only)
        -s, --single      One instance (exclusive with
                          -a; start, restart, stop only)
        -f, --force       Do not wait (stop only)
        -o, --stdout      Standard output (required:
                          this or -e; logs only)
        -e, --stderr      Standard error (required: this
                          or -o; logs only)
            --lines[=<n>]
                          Lines to show; alone: all
                          (logs only)

      Commands:
        -h, --help        Show this help
        help <action>     Show one action's help (also:
                          deploy <action> --help)
            --version     Print the version
      "
    `);
  });

  it('is plain text when stdout is not a TTY, and for NO_COLOR', async () => {
    const { router } = deployRouter();
    const plain = capture({ isTTY: false });
    await router.run(['--help'], plain.io);
    expect(plain.stdout()).not.toContain(ESC);
    const noColor = capture({ isTTY: true, env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    await router.run(['--help'], noColor.io);
    expect(noColor.stdout()).toBe(plain.stdout());
  });

  it('is coloured on a TTY and under FORCE_COLOR, and the colours are the only difference', async () => {
    const { router } = deployRouter();
    const plain = capture();
    await router.run(['--help'], plain.io);
    for (const target of [capture({ isTTY: true }), capture({ env: { FORCE_COLOR: '1' } })]) {
      await router.run(['--help'], target.io);
      expect(target.stdout()).toContain(`${ESC}1mUsage: ${ESC}22m`);
      expect(target.stdout()).toContain(`${ESC}36m-d, --detach${ESC}39m`);
      expect(stripColors(target.stdout())).toBe(plain.stdout());
    }
    const forcedOff = capture({ isTTY: true, env: { FORCE_COLOR: '0' } });
    await router.run(['--help'], forcedOff.io);
    expect(forcedOff.stdout()).toBe(plain.stdout());
  });

  it('takes an empty FORCE_COLOR as unset: the TTY decides', async () => {
    const { router } = deployRouter();
    const plain = capture();
    await router.run(['--help'], plain.io);
    const emptyOffTTY = capture({ env: { FORCE_COLOR: '' } });
    await router.run(['--help'], emptyOffTTY.io);
    expect(emptyOffTTY.stdout()).toBe(plain.stdout());
    const emptyOnTTY = capture({ isTTY: true, env: { FORCE_COLOR: '' } });
    await router.run(['--help'], emptyOnTTY.io);
    expect(emptyOnTTY.stdout()).toContain(`${ESC}1mUsage: ${ESC}22m`);
  });

  it('is plain on a TTY under TERM=dumb, and FORCE_COLOR=FALSE (any case) forces colours off', async () => {
    const { router } = deployRouter();
    const plain = capture();
    await router.run(['--help'], plain.io);
    for (const env of [{ TERM: 'dumb' }, { FORCE_COLOR: 'FALSE' }] as Record<string, string>[]) {
      const target = capture({ isTTY: true, env });
      await router.run(['--help'], target.io);
      expect(target.stdout()).toBe(plain.stdout());
    }
  });

  it('colours usage errors only when stderr is a TTY', async () => {
    const { router } = deployRouter();
    const tty = capture({ isTTY: true });
    expect(await router.run(['strat'], tty.io)).toBe(2);
    expect(tty.stderr()).toBe(
      `${ESC}31mdeploy:${ESC}39m unknown action 'strat' (did you mean 'start'?); expected one of start, restart, stop, logs\n` +
        `${ESC}2mRun 'deploy --help' for usage.${ESC}22m\n`,
    );
  });
});

// `-e` is required for deploy, optional for status, one of two for logs and tail.
@Template(
  `<deploy> -[a|s] -<e>
   <status> -[a] -[e]
   <logs|tail> -[e|a] -[s]
   <ping>`,
  { bin: 'rules' },
)
class RulesTemplate {}
@Option({ name: 'a', long: 'all', description: 'All sites', value: 'none' })
class RulesAll {
  impactAction(): void {}
}
@Option({ name: 's', long: 'site', description: 'One site', value: 'required' })
class RulesSite {
  impactAction(): void {}
}
@Option({ name: 'e', long: 'env', description: 'Environment', value: 'required' })
class RulesEnv {
  impactAction(): void {}
}
class RulesAction extends CommandAction {
  handler(): void {}
}
const rulesActions = ['deploy', 'status', 'logs', 'tail', 'ping'].map((name) => {
  const cls = class extends RulesAction {};
  Action({ name, description: `The ${name} action` })(cls);
  return cls;
});

describe("an option's rules in the program's help", () => {
  const router = new CommandRouter(new Container(), {
    template: RulesTemplate,
    actions: rulesActions,
    options: [RulesAll, RulesSite, RulesEnv],
  });

  it('name the actions they hold for when they do not hold for every action that has the option', () => {
    expect(router.help(undefined, { env: { COLUMNS: '100' } })).toContain(`
Options:
  -a, --all           All sites (exclusive with -s for deploy; exclusive with -e for logs, tail;
                      deploy, status, logs, tail only)
  -s, --site=<value>  One site (exclusive with -a for deploy; deploy, logs, tail only)
  -e, --env=<value>   Environment (required for deploy; exclusive with -a for logs, tail; deploy,
                      status, logs, tail only)
`);
  });

  it("an action's help says only its own rules", () => {
    expect(router.help('status', { env: { COLUMNS: '100' } })).toContain(`
  -a, --all          All sites
  -e, --env=<value>  Environment
`);
    expect(router.help('deploy', { env: { COLUMNS: '100' } })).toContain(`
  -a, --all           All sites (exclusive with -s)
  -s, --site=<value>  One site (exclusive with -a)
  -e, --env=<value>   Environment (required)
`);
  });
});

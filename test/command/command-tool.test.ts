// The example tool (examples/command-tool), in-process and as the bundled bin users run.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK, type Clock } from '../../examples/command-tool/src/services.js';
import { createRouter } from '../../examples/command-tool/src/tool.js';
import { capture } from './support/capture.js';

const root = join(import.meta.dirname, '../..');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  // Colour settings come only from the test, not from the shell running it.
  const { NO_COLOR: _noColor, FORCE_COLOR: _forceColor, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: root, timeout: 30_000, env: { ...inherited, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('command-tool in process', () => {
  const fixedClock: Clock = { now: () => new Date('2026-01-02T03:04:05.000Z') };

  function tool() {
    const container = new Container();
    container.bind<Clock>(CLOCK).toConstantValue(fixedClock);
    return createRouter(container);
  }

  it('runs an action with a service injected by class and one by token', async () => {
    const out = capture();
    expect(await tool().run(['status', 'web', '--format=json'], out.io)).toBe(0);
    expect(JSON.parse(out.stdout())).toEqual({
      at: '2026-01-02T03:04:05.000Z',
      services: [{ name: 'web', state: 'stopped' }],
    });
  });

  it('inherits constructor injection in a subclass action (restart extends start)', async () => {
    const out = capture();
    expect(await tool().run(['restart', 'mailer', '-w=3', '-v'], out.io)).toBe(0);
    expect(out.stdout()).toBe('resolved mailer → mailer.mjs\nstarting mailer (mailer.mjs) with 3 workers\n');
  });

  it('fails with 1 when the service catalog refuses the name', async () => {
    const out = capture();
    expect(await tool().run(['stop', 'nope'], out.io)).toBe(1);
    expect(out.stderr()).toBe("svc: no service named 'nope'; known services: web, mailer, cron\n");
  });
});

// Spawns the example tool's bundled file, built in beforeAll by examples/command-tool/build.mjs
// into a temporary directory (the same rolldown build its README runs).
describe('command-tool as a bundled bin', () => {
  let dir: string;
  let bin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drover-command-tool-'));
    bin = join(dir, 'svc.mjs');
    const built = await runNode(['examples/command-tool/build.mjs', bin]);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the generated help on stdout, exit 0', async () => {
    const result = await runNode([bin, '--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(
      /^Usage: svc \(start\|restart\) <service> \[args\.\.\.\] \[-d\] \[-w\[=<count>\]\] \[-q\|-v\]\n/,
    );
    expect(result.stdout).toContain('\nActions:\n  start ');
    expect(result.stdout).toContain('  -w, --workers[=<count>]');
  });

  it('runs a custom action with its injected service, exit 0', async () => {
    const result = await runNode([bin, 'start', 'web', '-d', '--workers=2', '--', '--port=8080']);
    expect(result).toEqual({
      code: 0,
      stdout: 'starting web (server.mjs --port=8080) with 2 workers in the background\n',
      stderr: '',
    });
  });

  it('keeps decorator metadata through the bundle: a subclass action inherits its injections', async () => {
    const result = await runNode([bin, 'restart', 'mailer', '-w']);
    expect(result).toEqual({
      code: 0,
      stdout: 'starting mailer (mailer.mjs) with one worker per CPU\n',
      stderr: '',
    });
  });

  it('prints help in colour only when asked, for a pipe', async () => {
    const plain = await runNode([bin, '--help']);
    const forced = await runNode([bin, '--help'], { FORCE_COLOR: '1' });
    expect(plain.stdout).not.toContain('\u001b[');
    expect(forced.stdout).toContain('\u001b[1mUsage: \u001b[22m');
  });

  const usageErrors: Array<{ what: string; argv: string[]; stderr: string }> = [
    {
      what: 'unknown action, with a suggestion',
      argv: ['strat', 'web'],
      stderr:
        "svc: unknown action 'strat' (did you mean 'start'?); expected one of start, restart, stop, status, logs\nRun 'svc --help' for usage.\n",
    },
    {
      what: 'unknown option, with a suggestion',
      argv: ['start', 'web', '--detahc'],
      stderr: "svc: unknown option --detahc (did you mean --detach?)\nRun 'svc start --help' for usage.\n",
    },
    {
      what: 'missing required group',
      argv: ['logs', 'web'],
      stderr: "svc: missing required option: one of -o, -e\nRun 'svc logs --help' for usage.\n",
    },
    {
      what: 'two alternatives of one exclusive group',
      argv: ['start', 'web', '-q', '-v'],
      stderr:
        "svc: options -q and -v are mutually exclusive: give one of them\nRun 'svc start --help' for usage.\n",
    },
    {
      what: 'a value given to a flag',
      argv: ['start', 'web', '-d=yes'],
      stderr:
        "svc: option -d does not take a value (got -d=yes); write -d alone\nRun 'svc start --help' for usage.\n",
    },
    {
      what: 'a valued option without its value',
      argv: ['logs', 'web', '-o', '-n'],
      stderr: "svc: option -n needs a value: -n=<count>\nRun 'svc logs --help' for usage.\n",
    },
  ];

  it.each(usageErrors)('$what: one line and a hint on stderr, exit 2', async ({ argv, stderr }) => {
    expect(await runNode([bin, ...argv])).toEqual({ code: 2, stdout: '', stderr });
  });
});

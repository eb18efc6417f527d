// Every error path of the `drover` bin, spawned from its bundle: one clear line on stderr and
// the exit code (2: the command line does not fit; 1: the command failed).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_VERSION } from '../../packages/cli/src/version.js';
import { CLI_FIXTURES, cliEnv, drover, ensureBuilt, ROOT, withoutElsewhere } from './support/bin.js';

let dir: string;
let env: NodeJS.ProcessEnv;
const loop = join(CLI_FIXTURES, 'loop.mjs');

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'drover-cli-err-'));
  mkdirSync(join(dir, 'run'));
  env = cliEnv(join(dir, 'run'));
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The usage line and the pointer to help the router prints under it. */
function usage(message: string, action?: string): string {
  return `drover: ${message}\nRun 'drover${action ? ` ${action}` : ''} --help' for usage.\n`;
}

describe('drover: usage errors exit 2', () => {
  const cases: Array<{ argv: string[]; stderr: string | RegExp }> = [
    {
      argv: [],
      stderr: usage('missing action: expected one of start, stop, restart, reload, status, scale, logs'),
    },
    {
      argv: ['strat'],
      stderr: usage(
        "unknown action 'strat' (did you mean 'start'?); expected one of start, stop, restart, reload, status, scale, logs",
      ),
    },
    {
      argv: ['start', loop, '--bogus'],
      stderr: usage(
        `unknown option --bogus; if it is meant as [args...], put it after '--', options before it: drover start ${loop} -- --bogus`,
        'start',
      ),
    },
    {
      argv: ['scale', 'loop', '-1'],
      stderr: usage(
        "unknown option -1; a negative number reads as an option: put it after '--', options before it: drover scale loop -- -1",
        'scale',
      ),
    },
    {
      argv: ['start', loop, '--nmae=x'],
      stderr: usage('unknown option --nmae (did you mean --name?)', 'start'),
    },
    {
      argv: ['status', '-w=2'],
      stderr: usage("option -w does not apply to 'status'; it is accepted by: start", 'status'),
    },
    { argv: ['status', '--jsn'], stderr: usage('unknown option --jsn (did you mean --json?)', 'status') },
    {
      argv: ['status', 'a', 'b'],
      stderr: usage("unexpected argument 'b' for 'status' (it takes [name])", 'status'),
    },
    {
      argv: ['status', 'bad/name'],
      stderr: usage(
        `group name "bad/name" is not valid; a group name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '-'`,
        'status',
      ),
    },
    {
      argv: ['start', loop, '-w=0'],
      stderr: usage('-w is "0"; expected a whole number from 1 to 1024, or max (one per CPU)', 'start'),
    },
    {
      argv: ['start', loop, '-w=two'],
      stderr: usage('-w is "two"; expected a whole number from 1 to 1024, or max (one per CPU)', 'start'),
    },
    {
      argv: ['start', loop, '-w=1025'],
      stderr: usage('-w is "1025"; expected a whole number from 1 to 1024, or max (one per CPU)', 'start'),
    },
    { argv: ['start', loop, '-w'], stderr: usage('option -w needs a value: -w=<count>', 'start') },
    { argv: ['start', loop, '-w', '-d'], stderr: usage('option -w needs a value: -w=<count>', 'start') },
    {
      argv: ['start', loop, '--workers', 'two'],
      stderr: usage('-w is "two"; expected a whole number from 1 to 1024, or max (one per CPU)', 'start'),
    },
    {
      argv: ['start', loop, '-d=yes'],
      stderr: usage('option -d does not take a value (got -d=yes); write -d alone', 'start'),
    },
    {
      argv: ['start', loop, '--name=-web'],
      stderr: usage(
        `--name is "-web"; a group name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '-'`,
        'start',
      ),
    },
    {
      argv: ['start', loop, '--name=a b'],
      stderr: usage(
        `--name is "a b"; a group name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '-'`,
        'start',
      ),
    },
    {
      argv: ['start', '-w=2'],
      stderr: usage(
        'option -w needs a <script>; a config file sets maxWorkerNum and baseTitle per group',
        'start',
      ),
    },
    { argv: ['stop'], stderr: usage("missing argument <name> for 'stop'", 'stop') },
    {
      argv: ['reload', '../x'],
      stderr: usage(
        `group name "../x" is not valid; a group name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '-', or 'all'`,
        'reload',
      ),
    },
    { argv: ['scale', 'web'], stderr: usage("missing argument <count> for 'scale'", 'scale') },
    { argv: ['logs'], stderr: usage("missing argument <name> for 'logs'", 'logs') },
    {
      argv: ['help', 'stat'],
      stderr: usage(
        "unknown action 'stat' (did you mean 'start'?); expected one of start, stop, restart, reload, status, scale, logs",
      ),
    },
    {
      argv: ['scale', 'web', 'two'],
      stderr: usage('<count> is "two"; expected a whole number from 0 to 1024', 'scale'),
    },
    {
      argv: ['scale', 'all', '2'],
      stderr: usage(
        `group name "all" is not valid here; scale takes the name of one group (1 to 64 letters, digits, '.', '_' or '-', not starting with '-')`,
        'scale',
      ),
    },
    {
      argv: ['logs', 'web', '-n=many'],
      stderr: usage('-n is "many"; expected a whole number from 0 to 1000000', 'logs'),
    },
  ];

  for (const { argv, stderr } of cases) {
    it(`drover ${argv.map((a) => a.replace(CLI_FIXTURES, '')).join(' ') || '(nothing)'}`, async () => {
      const result = await drover(argv, { env });
      expect(result.stderr).toEqual(stderr);
      expect(result.stdout).toBe('');
      expect(result.code).toBe(2);
    });
  }

  it('start without a script in a directory without a config file', async () => {
    const result = await drover(['start'], { env, cwd: dir });
    expect(result.stderr).toBe(
      usage(
        `missing argument [script] for 'start', and no drover.config.js, .mjs or .json in ${dir}; give a script to run, or write a config file`,
        'start',
      ),
    );
    expect(result.code).toBe(2);
  });
});

describe('drover: failures exit 1', () => {
  it('a script that does not exist', async () => {
    const result = await drover(['start', 'no-such-script.mjs'], { env });
    expect(result.stderr).toBe(
      `drover: script 'no-such-script.mjs' does not exist (looked for ${join(ROOT, 'no-such-script.mjs')}); check the path\n`,
    );
    expect(result.code).toBe(1);
  });

  it('a script that is a directory', async () => {
    const result = await drover(['start', CLI_FIXTURES, '-d'], { env });
    expect(result.stderr).toBe(
      `drover: script '${CLI_FIXTURES}' is not a file (${CLI_FIXTURES.replace(/\/$/, '')}); give the script to run\n`,
    );
    expect(result.code).toBe(1);
  });

  for (const argv of [
    ['stop', 'ghost'],
    ['restart', 'ghost'],
    ['reload', 'ghost'],
    ['scale', 'ghost', '2'],
  ]) {
    it(`drover ${argv.join(' ')} with nothing running`, async () => {
      const result = await drover(argv, { env });
      expect(withoutElsewhere(result.stderr)).toBe(
        `drover: no group named 'ghost' is running in ${join(dir, 'run')}; start it first ('start')\n`,
      );
      expect(result.code).toBe(1);
    });
  }

  for (const argv of [
    ['status', 'ghost'],
    ['status', 'ghost', '--json'],
    ['status', '--json', 'ghost'],
  ]) {
    it(`drover ${argv.join(' ')} with nothing running (the quick status path)`, async () => {
      const result = await drover(argv, { env });
      expect(withoutElsewhere(result.stderr)).toBe(
        `drover: no group named 'ghost' is running in ${join(dir, 'run')}; start it first ('start')\n`,
      );
      expect(result.stdout).toBe('');
      expect(result.code).toBe(1);
    });
  }

  it('the failure line is red on a colour terminal, as the router colours it', async () => {
    const result = await drover(['status', 'ghost'], { env: { ...env, NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(withoutElsewhere(result.stderr)).toBe(
      `\x1b[31mdrover:\x1b[39m no group named 'ghost' is running in ${join(dir, 'run')}; start it first ('start')\n`,
    );
    expect(result.code).toBe(1);
  });

  it('an empty FORCE_COLOR forces nothing: a pipe stays plain', async () => {
    const result = await drover(['status', 'ghost'], { env: { ...env, NO_COLOR: '', FORCE_COLOR: '' } });
    expect(withoutElsewhere(result.stderr)).toBe(
      `drover: no group named 'ghost' is running in ${join(dir, 'run')}; start it first ('start')\n`,
    );
    expect(result.code).toBe(1);
  });

  it('logs of a group without a log file', async () => {
    const result = await drover(['logs', 'ghost'], { env });
    expect(result.stderr).toMatch(
      /^drover: no log file for group 'ghost' at \S+ghost\.log; log files are written in background mode \(start it with -d\)\n$/,
    );
    expect(result.code).toBe(1);
  });

  it('a config file that does not validate names the file and the entry', async () => {
    const cwd = join(dir, 'bad-config');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(
      join(cwd, 'drover.config.json'),
      JSON.stringify({ groups: [{ baseTitle: 'web', script: loop, maxWorkerNum: -1 }] }),
    );
    const result = await drover(['start'], { env, cwd });
    expect(result.stderr).toMatch(/^drover: .*drover\.config\.json.*maxWorkerNum.*\n$/);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.code).toBe(1);
  });
});

describe('drover: help and version exit 0', () => {
  it('--version prints the package version', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    };
    expect(CLI_VERSION).toBe(manifest.version);
    const result = await drover(['--version'], { env });
    expect(result).toMatchObject({ code: 0, stdout: `${CLI_VERSION}\n`, stderr: '' });
  });

  it('--help lists every action and the exit codes', async () => {
    const result = await drover(['--help'], { env });
    expect(result.code).toBe(0);
    for (const action of ['start', 'stop', 'restart', 'reload', 'status', 'scale', 'logs']) {
      expect(result.stdout).toContain(action);
    }
    expect(result.stdout.replace(/\s+/g, ' ')).toContain(
      "Exit codes: 0 success, 1 failure, 2 usage error, 3 'status' of a degraded group (a PIN crash-loops, was given up or is stopped by a signal).",
    );
  });

  it('status --help goes through the router, not the quick path', async () => {
    const result = await drover(['status', '--help'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--json');
  });
});

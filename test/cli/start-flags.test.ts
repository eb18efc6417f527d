// The group options `drover start <script>` takes as flags reach the group, in the foreground and
// in the daemon (which reads the same command line again); bad values are usage errors naming the
// flag; a config file start refuses them, pointing at the entry's key.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_FIXTURES, type LiveProcess, spawnNode } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();
const SCRIPT = join(CLI_FIXTURES, 'start-flags.mjs');

/** `drover start` in the foreground, its master tracked for the sandbox's cleanup. */
function startForeground(box: Sandbox, args: readonly string[]): LiveProcess {
  const master = spawnNode([BIN, 'start', ...args], { env: box.env, cwd: box.dir });
  box.track(master.pid);
  return master;
}

describe('drover start: group options as flags, in the foreground', () => {
  it('--max-memory recycles a worker whose memory grows past it', async () => {
    const box = openSandbox();
    const master = startForeground(box, [
      SCRIPT,
      '--name=sf-memory',
      '--max-memory=100M',
      '--',
      'memory',
      '160',
    ]);
    try {
      await master.waitForOutput(/\[sf-memory:0 #\d+\] holding 160 MB/);
      // 100M as the master counts it: the flag's value parsed as the config key's
      await master.waitForOutput(/worker over maxMemory, recycling.*maxMemory=104857600/);
      // over the limit as soon as it is ready: every successor will be, which is said once
      await master.waitForOutput(
        /maxMemory \(100\.0 MiB\) is below what a worker uses as soon as it is ready \(\d+\.\d MiB\): every worker will be recycled at once, again and again/,
      );
      await master.waitForOutput(/(worker over maxMemory, recycling[\s\S]*){2}/);
      expect(master.output.match(/is below what a worker uses/g)).toHaveLength(1);
    } finally {
      await master.kill();
    }
  }, 60_000);

  it('--ready-when=message waits for the script to send ready', async () => {
    const box = openSandbox();
    const master = startForeground(box, [
      SCRIPT,
      '--name=sf-late',
      '--ready-when=message',
      '--',
      'ready-after',
      '1000',
    ]);
    try {
      await master.waitForOutput(/\[sf-late:master #\d+\] worker ready pin=0/);
      // ready only after the script said so: with readyWhen 'loaded' it is ready at once
      const sent = master.output.indexOf('sending ready');
      expect(sent).toBeGreaterThan(-1);
      expect(sent).toBeLessThan(master.output.search(/worker ready pin=0/));
    } finally {
      await master.kill();
    }
  }, 60_000);

  it('--ready-when=message and --ready-timeout (1.5s): a script that never sends ready fails the start with exit 1', async () => {
    const box = openSandbox();
    const master = startForeground(box, [
      SCRIPT,
      '--name=sf-never',
      '--ready-when=message',
      '--ready-timeout=1.5s',
      '--',
      'ready-never',
    ]);
    try {
      expect((await master.waitExit()).code).toBe(1);
      expect(master.output).toContain("worker 0 of 'sf-never' was not ready within 1500 ms");
      expect(master.output).toContain("never called process.send('ready')");
      // the fix is said as the flag too, which is how this group got its value
      expect(master.output).toContain('raise readyTimeout (drover start --ready-timeout=60s)');
    } finally {
      await master.kill();
    }
  }, 60_000);

  it('--stop-timeout (1s) bounds the stop of a script that ignores SIGTERM', async () => {
    const box = openSandbox();
    const master = startForeground(box, [SCRIPT, '--name=sf-stop', '--stop-timeout=1s', '--', 'ignore-term']);
    try {
      await box.waitWorkers('sf-stop', 1);
      // the default, 10 s, would outlast this deadline
      const stopped = await box.drover(['stop', 'sf-stop'], { timeoutMs: 8000 });
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(await master.waitExit(5000)).toEqual({ code: 0, signal: null });
      expect(master.output).toContain('SIGTERM ignored');
      expect(master.output).toMatch(/signal=SIGKILL/);
    } finally {
      await master.kill();
    }
  }, 60_000);

  it('--hang-timeout replaces a worker whose event loop stopped answering', async () => {
    const box = openSandbox();
    const marker = join(box.dir, 'hung');
    const master = startForeground(box, [
      SCRIPT,
      '--name=sf-hang',
      '--hang-timeout=1500',
      '--',
      'hang-once',
      marker,
    ]);
    try {
      await master.waitForOutput(/did not answer heartbeats for 1500 ms, killing it/);
      await master.waitForOutput(/running, not hanging/);
    } finally {
      await master.kill();
    }
  }, 60_000);
});

describe('drover start -d: the daemon gets the same flags', () => {
  it('--node-args reach the workers, --log-dir holds the log file', async () => {
    const box = openSandbox();
    const started = await box.drover([
      'start',
      SCRIPT,
      '-d',
      '--name=sf-node',
      '--node-args= --max-old-space-size=200   --no-deprecation ',
      '--log-dir=mylogs',
      '--',
      'execargv',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const logFile = join(box.dir, 'mylogs', 'sf-node.log');
    expect(started.stdout).toMatch(
      new RegExp(`^started 'sf-node' in the background \\(pid \\d+\\); log: ${logFile}\n$`),
    );
    expect(existsSync(join(box.runDir, 'logs', 'sf-node.log'))).toBe(false);
    expect(readFileSync(logFile, 'utf8')).toContain(
      'execArgv ["--max-old-space-size=200","--no-deprecation"]',
    );
    const logs = await box.drover(['logs', 'sf-node']);
    expect(logs.stdout).toContain('execArgv ["--max-old-space-size=200","--no-deprecation"]');
  }, 60_000);

  it('--ready-when=message with a script that never sends ready: the start fails naming the --ready-timeout value', async () => {
    const box = openSandbox();
    const started = await box.drover(
      [
        'start',
        SCRIPT,
        '-d',
        '--name=sf-never',
        '--ready-when=message',
        '--ready-timeout=1500',
        '--',
        'ready-never',
      ],
      { timeoutMs: 25_000 },
    );
    expect(started.code, started.stderr).toBe(1);
    expect(started.stderr).toContain("drover: 'sf-never' did not start in the background");
    expect(started.stderr).toContain('was not ready within 1500 ms');
    expect(await box.status()).toEqual([]);
  }, 60_000);
});

describe('drover start: bad flag values are usage errors naming the flag', () => {
  const cases: [flag: string, message: string][] = [
    [
      '--max-memory=lots',
      `--max-memory is "lots"; expected a number of bytes >= 0 or a size such as '512M', '1.5G'`,
    ],
    [
      '--max-memory=300',
      '--max-memory is "300"; that is 300 bytes, less than any Node process uses: give a unit (--max-memory=300M), or 0 for no limit',
    ],
    ['--ready-when=ready', `--ready-when is "ready"; expected one of 'loaded', 'listening', 'message'`],
    [
      '--ready-timeout=0',
      `--ready-timeout is "0"; expected whole milliseconds from 1 to 2147483647, or a duration such as '500ms', '10s', '2m'`,
    ],
    [
      '--ready-timeout=10 sec',
      `--ready-timeout is "10 sec"; expected whole milliseconds from 1 to 2147483647, or a duration such as '500ms', '10s', '2m'`,
    ],
    [
      '--stop-timeout=1.5',
      `--stop-timeout is "1.5"; expected whole milliseconds from 0 to 2147483647, or a duration such as '500ms', '10s', '2m'`,
    ],
    [
      '--hang-timeout=-5',
      `--hang-timeout is "-5"; expected whole milliseconds from 0 to 2147483647, or a duration such as '500ms', '10s', '2m'`,
    ],
    [
      '--stop-timeout=30d',
      `--stop-timeout is "30d"; expected whole milliseconds from 0 to 2147483647, or a duration such as '500ms', '10s', '2m'`,
    ],
    [
      '--node-args=max-old-space-size=512',
      `--node-args is "max-old-space-size=512"; expected Node options, starting with '-': --node-args='--max-old-space-size=512'`,
    ],
  ];

  it('exits 2 with the flag, the value and what is allowed', async () => {
    const box = openSandbox();
    for (const [flag, message] of cases) {
      const result = await box.drover(['start', SCRIPT, flag]);
      expect(result.code, `${flag}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toBe(`drover: ${message}\nRun 'drover start --help' for usage.\n`);
    }
  }, 60_000);

  it('--log-dir without -d: the foreground writes no log file', async () => {
    const box = openSandbox();
    const result = await box.drover(['start', SCRIPT, '--log-dir=mylogs', '--', 'execargv'], {
      timeoutMs: 15_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "drover: option --log-dir needs -d: a group in the foreground writes its log to the terminal; add -d to run it in the background, where it logs to a file; in the foreground, redirect its output instead (> app.log)\nRun 'drover start --help' for usage.\n",
    );
    expect(await box.status()).toEqual([]);
  }, 60_000);

  it('a flag before the script that took it as its value says so', async () => {
    const box = openSandbox();
    const result = await box.drover(['start', '--stop-timeout', SCRIPT]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      `--stop-timeout took '${SCRIPT}', the word after it, as its value: write --stop-timeout=<value>`,
    );
  }, 60_000);
});

describe('drover start with a config file', () => {
  it('refuses the flags, pointing at the key of the entry', async () => {
    const box = openSandbox();
    writeFileSync(
      join(box.dir, 'drover.config.json'),
      JSON.stringify({ groups: [{ baseTitle: 'web', script: SCRIPT, args: ['ready-never'] }] }),
    );
    const all = await box.drover(['start', '--stop-timeout=5000'], { timeoutMs: 15_000 });
    expect(all.code).toBe(2);
    expect(all.stderr).toContain(
      "drover: option --stop-timeout needs a <script>; a config file sets it per group: put stopTimeout: 5000 in the group's entry",
    );
    const named = await box.drover(['start', 'web', '--max-memory=300M', '-d'], { timeoutMs: 15_000 });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain(
      `drover: option --max-memory needs a <script>; a config file sets it per group: put maxMemory: "300M" in the entry of 'web'`,
    );
    expect(await box.status()).toEqual([]);
  }, 60_000);
});

describe('drover start --help', () => {
  it('lists each flag with its value', async () => {
    const box = openSandbox();
    const help = await box.drover(['start', '--help']);
    expect(help.code).toBe(0);
    for (const row of [
      '--max-memory=<size>',
      '--ready-when=<when>',
      '--ready-timeout=<time>',
      '--stop-timeout=<time>',
      '--hang-timeout=<time>',
      '--node-args=<args>',
      '--log-dir=<dir>',
    ]) {
      expect(help.stdout).toContain(`\n      ${row}  `);
    }
  }, 60_000);
});

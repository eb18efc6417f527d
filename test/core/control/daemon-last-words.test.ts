// A background master's last words reach files the operator can read, however often its log
// rotated before: its stdout and stderr are `<name>.out` (never renamed nor deleted by rotation,
// kept under 10 MiB by a copy and truncate), and its crash (uncaught exception, unhandled
// rejection) and process warnings are written as records into the group's current log.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive, startFixture, tempDir } from '../../support/group.js';
import { DaemonCase } from './daemon-support.js';

let world: DaemonCase | undefined;
let triggers: { dir: string; cleanup(): void } | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
  triggers?.cleanup();
  triggers = undefined;
});

async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs = 30_000,
  detail?: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

interface Started {
  pid: number;
  logs: string;
  log: string;
  out: string;
  /** every log file of the group, current and rotated, as one text */
  allLogs(): string;
  trigger(...names: string[]): void;
}

/** Starts the fixture's group `lw` in the background with a log of 1K (or `size`) rotated into 2 files. */
async function startLastWords(
  opts: { execArgv?: string[]; preTrigger?: string; size?: string } = {},
): Promise<Started> {
  world = new DaemonCase();
  triggers = tempDir('drover-lw-');
  const dir = triggers.dir;
  if (opts.preTrigger) writeFileSync(join(dir, opts.preTrigger), '');
  const env = {
    ...world.env,
    ...world.config({ logRotation: { size: opts.size ?? '1K', maxFiles: 2, interval: false } }),
    TRIGGER_DIR: dir,
  };
  const launcher = startFixture('control/bg-last-words.mjs', { env, execArgv: opts.execArgv });
  await launcher.waitExit(60_000);
  const pid = Number(/STARTED (\d+)/.exec(launcher.output)?.[1]);
  const logs = join(world.runDir, 'logs');
  const started: Started = {
    pid,
    logs,
    log: join(logs, 'lw.log'),
    out: join(logs, 'lw.out'),
    allLogs: () =>
      readdirSync(logs)
        .filter((f) => /^lw\.log(\.\d+)?$/.test(f))
        .map((f) => read(join(logs, f)))
        .join(''),
    trigger: (...names) => {
      for (const name of names) writeFileSync(join(dir, name), '');
    },
  };
  if (!opts.preTrigger) expect(pid, launcher.output).toBeGreaterThan(0);
  (started as Started & { launcherOutput: string }).launcherOutput = launcher.output;
  return started;
}

/** Waits until the file the daemon's log was at its start has been rotated away and deleted. */
async function firstLogFileDeleted(s: Started): Promise<void> {
  await waitFor(
    'the first log file to be rotated out and deleted',
    () =>
      existsSync(join(s.logs, 'lw.log.2')) && !s.allLogs().includes('worker line 0 ') ? true : undefined,
    30_000,
    () => readdirSync(s.logs).join(' '),
  );
}

describe("a background master's last words", () => {
  it('a crash after many rotations: a fatal record in the current log, the stack trace and the master output in lw.out, where stdout and stderr point', async () => {
    const s = await startLastWords();
    await waitFor('the master to print', () => (read(s.out).includes('MASTER-STDOUT 2') ? true : undefined));
    await firstLogFileDeleted(s);
    // the descriptors the daemon writes raw to were not rotated with the log
    expect(readlinkSync(`/proc/${s.pid}/fd/1`)).toBe(s.out);
    expect(readlinkSync(`/proc/${s.pid}/fd/2`)).toBe(s.out);

    // a warning, then the crash, in the same turn: no rotation can take the warning's record away
    s.trigger('warn', 'crash');
    await waitFor('the daemon to end', () => (pidAlive(s.pid) ? undefined : true));

    const log = read(s.log);
    expect(log).toMatch(
      new RegExp(
        `warning \\[lw:master #${s.pid}\\] process warning: OddWarning: MASTER-WARNING something odd\\n`,
      ),
    );
    expect(log).toMatch(
      new RegExp(
        `fatal   \\[lw:master #${s.pid}\\] the master process is ending on an uncaught exception \\(Node's own report of it is in '${s.out}'\\): Error: MASTER-CRASH the master script failed\\\\n    at `,
      ),
    );
    const out = read(s.out);
    expect(out).toMatch(
      new RegExp(`^--- \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z start of 'lw' in the background, pid ${s.pid} ---\\n`),
    );
    expect(out).toContain('MASTER-STDOUT 2\n');
    expect(out).toContain(`(node:${s.pid}) OddWarning: MASTER-WARNING something odd`);
    expect(out).toContain('Error: MASTER-CRASH the master script failed\n    at ');
  }, 90_000);

  it('an unhandled rejection that ends the master: a fatal record in the current log', async () => {
    const s = await startLastWords();
    await firstLogFileDeleted(s);
    s.trigger('reject');
    await waitFor('the daemon to end', () => (pidAlive(s.pid) ? undefined : true));
    expect(read(s.log)).toMatch(
      new RegExp(
        `fatal   \\[lw:master #${s.pid}\\] the master process is ending on an unhandled promise rejection \\(Node's own report of it is in '${s.out}'\\): Error: MASTER-REJECT nobody awaited this`,
      ),
    );
    expect(read(s.out)).toContain('Error: MASTER-REJECT nobody awaited this');
  }, 90_000);

  it("an exception the script's own uncaughtException listener takes: an error record, and the master goes on", async () => {
    // a log that does not rotate the record away before it is read
    const s = await startLastWords({ size: '10M' });
    s.trigger('handled');
    await waitFor('the error record', () =>
      read(s.log).includes(
        "an uncaught exception, left to the script's own 'uncaughtException' handler: Error: MASTER-HANDLED",
      )
        ? true
        : undefined,
    );
    await waitFor('the listener to have run', () =>
      read(s.out).includes('HANDLED MASTER-HANDLED the script catches this one\n') ? true : undefined,
    );
    expect(pidAlive(s.pid)).toBe(true);
    expect(read(s.log)).not.toContain('the master process is ending');
    const status = await world?.remote('lw', 'status');
    expect(status?.ok, status?.output).toBe(true);
  }, 90_000);

  it("V8's FATAL ERROR of a heap exhausted, which no handler sees, is in lw.out", async () => {
    const s = await startLastWords({ execArgv: ['--max-old-space-size=48'] });
    await firstLogFileDeleted(s);
    s.trigger('oom');
    await waitFor('the daemon to end', () => (pidAlive(s.pid) ? undefined : true), 60_000);
    const out = read(s.out);
    expect(out).toContain('FATAL ERROR:');
    expect(out).toContain('JavaScript heap out of memory');
    // the reaper's line says it ended, in the current log
    await waitFor('the reaper line', () =>
      read(s.log).includes(`the master (pid ${s.pid}) ended without stopping its workers`) ? true : undefined,
    );
  }, 120_000);

  it('lw.out past 10 MiB is copied to lw.out.1 and cut in place: the daemon goes on writing to the file at that path', async () => {
    const s = await startLastWords();
    s.trigger('flood');
    await waitFor('lw.out to be cut', () => (existsSync(`${s.out}.1`) ? true : undefined), 30_000);
    expect(read(`${s.out}.1`)).toContain('MASTER-FLOOD-END\n');
    expect(statSync(`${s.out}.1`).size).toBeGreaterThan(10 * 1024 * 1024);
    await waitFor('the master to print again after the cut', () =>
      new RegExp(
        `^--- \\S+ pid ${s.pid}: this file passed 10 MiB: what it held is now in lw\\.out\\.1 ---\\n(.*\\n)*MASTER-STDOUT \\d+\\n`,
        'm',
      ).test(read(s.out))
        ? true
        : undefined,
    );
    expect(statSync(s.out).size).toBeLessThan(1024 * 1024);
    expect(readlinkSync(`/proc/${s.pid}/fd/1`)).toBe(s.out);
  }, 90_000);

  it("a daemon of two groups: the crash is in both groups' logs, Node's report in the daemon's alpha,beta.out", async () => {
    world = new DaemonCase();
    triggers = tempDir('drover-lw-');
    const crashFile = join(triggers.dir, 'crash');
    const { code, pid, output } = await world.launch('control/multi-groups.mjs', {
      RUN_DIR: world.runDir,
      CRASH_FILE: crashFile,
    });
    expect(code, output).toBe(0);
    const daemon = pid as number;
    writeFileSync(crashFile, '');
    await waitFor('the daemon to end', () => (pidAlive(daemon) ? undefined : true));
    const out = join(world.runDir, 'logs', 'alpha,beta.out');
    for (const name of ['alpha', 'beta']) {
      expect(read(join(world.runDir, 'logs', `${name}.log`))).toMatch(
        new RegExp(
          `fatal   \\[${name}:master #${daemon}\\] the master process is ending on an uncaught exception \\(Node's own report of it is in '${out}'\\): Error: MULTI-CRASH the daemon script failed`,
        ),
      );
    }
    expect(read(out)).toMatch(
      new RegExp(`^--- .* start of 'alpha', 'beta' in the background, pid ${daemon} ---\\n`),
    );
    expect(read(out)).toContain('Error: MULTI-CRASH the daemon script failed\n    at ');
    expect(existsSync(join(world.runDir, 'logs', 'alpha.out'))).toBe(false);
    expect(existsSync(join(world.runDir, 'logs', 'beta.out'))).toBe(false);
  }, 90_000);

  it("a master that crashes as soon as it started: the failed start shows lw.out's lines too", async () => {
    const s = await startLastWords({ preTrigger: 'crash' });
    const output = (s as Started & { launcherOutput: string }).launcherOutput;
    expect(output).toMatch(
      /FAILED EDAEMON drover: 'lw' did not start in the background: the daemon \(pid \d+\) exited with code 1/,
    );
    expect(output).toContain('  --- lw.out\n');
    expect(output).toContain('  Error: MASTER-CRASH the master script failed\n');
  }, 90_000);
});

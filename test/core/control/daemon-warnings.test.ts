// A background master's process warnings reach its group's log as `warning` records through the
// group's logger: the log's rotation counts them and its level applies; a kind of warning is
// written at most 3 times; none when Node was told to keep quiet (NODE_NO_WARNINGS=1,
// --no-warnings). The crash record alone is written straight into the file.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, tempDir } from '../../support/group.js';
import { DaemonCase } from './daemon-support.js';

let world: DaemonCase | undefined;
let triggers: { dir: string; cleanup(): void } | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
  triggers?.cleanup();
  triggers = undefined;
});

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

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

const SENTINEL =
  "an uncaught exception, left to the script's own 'uncaughtException' handler: Error: SENTINEL";

interface Warned {
  pid: number;
  logs: string;
  /** every log file of the group, current and rotated, as one text */
  allLogs(): string;
}

/**
 * Starts group `bw` in the background with `config`, has its master emit the warnings of the
 * `triggers` (see bg-warnings.mjs), and waits until the record its logger writes after them is in.
 */
async function warnAndWait(
  config: Record<string, unknown>,
  names: string[],
  opts: { env?: Record<string, string>; execArgv?: string[] } = {},
): Promise<Warned> {
  world = new DaemonCase();
  triggers = tempDir('drover-bw-');
  const launcher = startFixture('control/bg-warnings.mjs', {
    env: { ...world.env, ...world.config(config), TRIGGER_DIR: triggers.dir, ...opts.env },
    execArgv: opts.execArgv,
  });
  await launcher.waitExit(60_000);
  const pid = Number(/STARTED (\d+)/.exec(launcher.output)?.[1]);
  expect(pid, launcher.output).toBeGreaterThan(0);
  const logs = join(world.runDir, 'logs');
  const allLogs = () =>
    readdirSync(logs)
      .filter((f) => /^bw\.log(\.\d+)?$/.test(f))
      .map((f) => read(join(logs, f)))
      .join('');
  for (const name of [...names, 'sentinel']) writeFileSync(join(triggers.dir, name), '');
  await waitFor(
    'the record written after the warnings',
    () => (read(join(logs, 'bw.log')).includes(SENTINEL) ? true : undefined),
    30_000,
    () => read(join(logs, 'bw.log')).slice(-2000),
  );
  return { pid, logs, allLogs };
}

const warningRecords = (text: string) =>
  text.split('\n').filter((line) => / warning \[bw:master #\d+\] process warning: /.test(line));

describe("a background master's process warnings", () => {
  it('200 warnings of one kind: the first 3 are written, the third saying further ones are not', async () => {
    const w = await warnAndWait({}, ['many']);
    const records = warningRecords(w.allLogs());
    expect(records).toHaveLength(3);
    expect(records[0]).toContain(
      `warning [bw:master #${w.pid}] process warning: ManyWarning: MANY-WARNINGS number 0`,
    );
    expect(records[2]).toMatch(
      /process warning: ManyWarning: MANY-WARNINGS number 2 \(further ManyWarnings are not written to this log\)$/,
    );
  }, 90_000);

  it("go through the group's logger: its rotation counts them, and a file ends near its size", async () => {
    // 40 kinds of 150-byte warnings, 3 of each written: about 30 KB for a log rotated at 1K
    const w = await warnAndWait({ logRotation: { size: '1K', maxFiles: 3, interval: false } }, ['kinds']);
    const files = readdirSync(w.logs).filter((f) => /^bw\.log(\.\d+)?$/.test(f));
    expect(files).toContain('bw.log.1');
    // at most one batch (512 bytes) or one line past the size
    for (const file of files) expect(statSync(join(w.logs, file)).size, file).toBeLessThan(1024 + 512 + 400);
    // the newest of them are there, 3 of each kind at most
    expect(
      warningRecords(w.allLogs()).filter((l) => l.includes('KIND-WARNING 39 ')).length,
    ).toBeLessThanOrEqual(3);
  }, 90_000);

  it("the group's logLevel applies: at 'error', no warning record", async () => {
    const w = await warnAndWait({ logLevel: 'error' }, ['many', 'kinds']);
    expect(warningRecords(w.allLogs())).toEqual([]);
  }, 90_000);

  it.each([
    ['NODE_NO_WARNINGS=1', { env: { NODE_NO_WARNINGS: '1' } }],
    ['--no-warnings', { execArgv: ['--no-warnings'] }],
  ])(
    'with %s, no warning record (Node prints none either)',
    async (_, opts) => {
      const w = await warnAndWait({}, ['many'], opts);
      expect(warningRecords(w.allLogs())).toEqual([]);
      expect(read(join(w.logs, 'bw.out'))).not.toContain('MANY-WARNINGS');
    },
    90_000,
  );
});

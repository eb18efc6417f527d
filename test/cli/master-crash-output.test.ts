// A background master that crashed after its log rotated many times: `drover status` says where
// its last words are (the log, with a fatal record of the crash, and `<name>.out`, with Node's own
// report), and both files hold them. A master killed by SIGKILL wrote nothing outside its log:
// its `.out` is not named, though an earlier run's crash report is there.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** A worker that logs about 20 kB a second: a 1K log rotates every 50 ms or so. */
const CHATTY = `let i = 0;
setInterval(() => console.log(\`line \${i++} \${'z'.repeat(90)}\`), 5);
`;

/**
 * Loaded into every process by NODE_OPTIONS; in the daemon alone (DROVER_DAEMON is still set
 * when a --require runs), it throws once the file 'crash-now' appears in its working directory.
 */
const CRASH_ON_FILE = `if (process.env.DROVER_DAEMON === '1') {
  const { existsSync } = require('node:fs');
  setInterval(() => {
    if (existsSync('crash-now')) throw new Error('DAEMON-CRASH on request');
  }, 50).unref();
}
`;

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

async function startChatty(box: Sandbox): Promise<number> {
  writeFileSync(join(box.dir, 'chatty.mjs'), CHATTY);
  writeFileSync(join(box.dir, 'crash-on-file.cjs'), CRASH_ON_FILE);
  writeFileSync(
    join(box.dir, 'drover.config.mjs'),
    `export default { groups: [{ baseTitle: 'chatty', script: './chatty.mjs', maxWorkerNum: 1, logRotation: { size: '1K', maxFiles: 2, interval: false } }] };\n`,
  );
  const started = await box.drover(['start', '-d'], {
    env: { NODE_OPTIONS: `--require ${join(box.dir, 'crash-on-file.cjs')}` },
  });
  expect(started.code, started.stderr).toBe(0);
  return box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
}

describe('a background master that crashed', () => {
  it('drover status names its log, which holds the crash, and its .out, which holds Node’s report', async () => {
    const box = openSandbox();
    const pid = await startChatty(box);
    const logs = join(box.runDir, 'logs');
    const log = join(logs, 'chatty.log');
    const out = join(logs, 'chatty.out');
    // the file the daemon's log began in has been rotated out and deleted
    await waitUntil(
      'the first log file to be rotated away and deleted',
      () => {
        const all = readdirSync(logs)
          .filter((f) => f.startsWith('chatty.log'))
          .map((f) => read(join(logs, f)))
          .join('');
        return existsSync(`${log}.2`) && !/\] line 0 /.test(all) ? true : undefined;
      },
      30_000,
    );
    writeFileSync(join(box.dir, 'crash-now'), '');
    await waitUntil('the master to end', () => (pidAlive(pid) ? undefined : true), 30_000);

    const status = await box.drover(['status', 'chatty']);
    expect(status.code).toBe(3);
    expect(status.stderr).toBe(
      `drover: 'chatty' (pid ${pid}) is no longer running: its master ended without stopping (killed, or crashed); removed its stale files; its log: ${log}; Node's report of its crash (Error: DAEMON-CRASH on request): ${out}\n`,
    );
    expect(read(log)).toMatch(
      new RegExp(
        `fatal   \\[chatty:master #${pid}\\] the master process is ending on an uncaught exception \\(Node's own report of it is in '${out}'\\): Error: DAEMON-CRASH on request\\\\n    at `,
      ),
    );
    expect(read(out)).toContain('Error: DAEMON-CRASH on request\n    at ');
  }, 120_000);

  it('a later run killed by SIGKILL (the OOM killer) wrote nothing there: the earlier crash in its .out is not named', async () => {
    const box = openSandbox();
    const first = await startChatty(box);
    const out = join(box.runDir, 'logs', 'chatty.out');
    writeFileSync(join(box.dir, 'crash-now'), '');
    await waitUntil('the first master to end', () => (pidAlive(first) ? undefined : true), 30_000);
    await box.drover(['status']);
    rmSync(join(box.dir, 'crash-now'));

    const second = await startChatty(box);
    await box.waitWorkers('chatty', 1);
    process.kill(second, 'SIGKILL');
    await waitUntil('the second master to end', () => (pidAlive(second) ? undefined : true), 30_000);

    const status = await box.drover(['status', 'chatty']);
    expect(status.code).toBe(3);
    expect(status.stderr).toBe(
      `drover: 'chatty' (pid ${second}) is no longer running: its master ended without stopping (killed, or crashed); removed its stale files; its log: ${join(box.runDir, 'logs', 'chatty.log')}\n`,
    );
    // the earlier run's report is still in the file, above the start of the later run
    expect(read(out)).toMatch(
      new RegExp(
        `Error: DAEMON-CRASH on request\\n[^]*\\n--- \\S+ start of 'chatty' in the background, pid ${second} ---\\n$`,
      ),
    );
  }, 120_000);
});

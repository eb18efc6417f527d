// A daemon of several groups (a config file's) has an output file of its own, `a,b.out`, and
// writes its last words only into the logs of the groups it still runs. When one of its groups
// is stopped and started again as a daemon of its own, the two daemons share no file: the old
// one's crash is not written into the restarted group's log, and `drover status` names the file
// that holds its report for the group that did end.
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

const QUIET = `setInterval(() => {}, 1000);
`;

/**
 * Loaded into every process by NODE_OPTIONS; in a daemon alone (DROVER_DAEMON is still set when
 * a --require runs), it throws once the file 'crash-<its pid>' appears in its working directory.
 */
const CRASH_ON_FILE = `if (process.env.DROVER_DAEMON === '1') {
  const { existsSync } = require('node:fs');
  setInterval(() => {
    if (existsSync('crash-' + process.pid)) throw new Error('DAEMON-CRASH of ' + process.pid);
  }, 50).unref();
}
`;

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

describe('a group of a daemon of several groups, started again on its own', () => {
  it("does not share the old daemon's output file, nor get its crash in its log", async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'quiet.mjs'), QUIET);
    writeFileSync(join(box.dir, 'crash-on-file.cjs'), CRASH_ON_FILE);
    writeFileSync(
      join(box.dir, 'drover.config.mjs'),
      `export default { groups: [{ baseTitle: 'dgo-a', script: './quiet.mjs' }, { baseTitle: 'dgo-b', script: './quiet.mjs' }] };\n`,
    );
    const env = { NODE_OPTIONS: `--require ${join(box.dir, 'crash-on-file.cjs')}` };
    const logs = join(box.runDir, 'logs');
    const shared = join(logs, 'dgo-a,dgo-b.out');

    const started = await box.drover(['start', '-d'], { env });
    expect(started.code, started.stderr).toBe(0);
    const old = box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    expect(readlinkSync(`/proc/${old}/fd/1`)).toBe(shared);
    expect(read(shared)).toMatch(
      new RegExp(`^--- \\S+ start of 'dgo-a', 'dgo-b' in the background, pid ${old} ---\\n`),
    );

    const stopped = await box.drover(['stop', 'dgo-a']);
    expect(stopped.code, stopped.stderr).toBe(0);
    const again = await box.drover(['start', '-d', 'dgo-a'], { env });
    expect(again.code, again.stderr).toBe(0);
    const fresh = box.track(Number(/\(pid (\d+)\)/.exec(again.stdout)?.[1]));
    expect(fresh).not.toBe(old);
    // each daemon writes to a file of its own
    expect(readlinkSync(`/proc/${fresh}/fd/1`)).toBe(join(logs, 'dgo-a.out'));
    expect(readlinkSync(`/proc/${old}/fd/1`)).toBe(shared);

    // the old daemon, which runs dgo-b alone now, crashes
    writeFileSync(join(box.dir, `crash-${old}`), '');
    await waitUntil('the old daemon to end', () => (pidAlive(old) ? undefined : true), 30_000);

    const bLog = join(logs, 'dgo-b.log');
    await waitUntil('the crash record in dgo-b.log', () =>
      read(bLog).includes(
        `fatal   [dgo-b:master #${old}] the master process is ending on an uncaught exception (Node's own report of it is in '${shared}'): Error: DAEMON-CRASH of ${old}`,
      )
        ? true
        : undefined,
    );
    // nothing of the old daemon in the log of dgo-a, which runs healthy elsewhere
    expect(read(join(logs, 'dgo-a.log'))).not.toContain(`#${old}] the master process is ending`);
    expect(read(join(logs, 'dgo-a.out'))).not.toContain('DAEMON-CRASH');
    expect(read(shared)).toContain(`Error: DAEMON-CRASH of ${old}\n    at `);

    const status = await box.drover(['status']);
    expect(status.code).toBe(3);
    expect(status.stderr).toBe(
      `drover: 'dgo-b' (pid ${old}) is no longer running: its master ended without stopping (killed, or crashed); removed its stale files; its log: ${bLog}; Node's report of its crash (Error: DAEMON-CRASH of ${old}): ${shared}\n`,
    );
    expect(status.stdout).toMatch(new RegExp(`dgo-a[^\\n]*\\n[^]*\\b${fresh}\\b`));
    expect(pidAlive(fresh)).toBe(true);
  }, 120_000);
});

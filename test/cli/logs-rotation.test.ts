// `drover logs` of a background group whose log rotates all the time: each run reads the file its
// master writes, even when it looks between the close of the old file and the open of the new.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnNode, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** A worker that prints about 200 kB a second: a 1K log rotates about two hundred times a second (its master holds no log file open a quarter of the time). */
const FLOOD = `let i = 0;
setInterval(() => {
  for (let n = 0; n < 20; n++) console.log(\`line \${i++} \${'z'.repeat(80)}\`);
}, 10);
`;

const RUNS = 30;

/**
 * A stand-in for a master of an older drover, whose status has no `run` (and so names no log
 * file): it answers ping and status on its socket, and rotates its log every few milliseconds,
 * with no log file open for a moment each time. Usage: <socket> <log file> <name>.
 */
const OLDER_MASTER = `import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
const [socket, log, name] = process.argv.slice(2);
let fd = openSync(log, 'a', 0o600);
let n = 0;
function write() {
  writeSync(fd, \`line \${n++}\\n\`);
  if (n % 5 !== 0) return setTimeout(write, 1);
  closeSync(fd);
  renameSync(log, \`\${log}.1\`);
  setTimeout(() => {
    fd = openSync(log, 'a', 0o600);
    write();
  }, 3);
}
write();
const answers = {
  ping: () => ({ pid: process.pid, baseTitle: name, version: '0.9.0' }),
  status: () => ({ master: { pid: process.pid, baseTitle: name }, workers: [] }),
};
createServer((conn) => {
  let buffer = '';
  conn.on('data', (chunk) => {
    buffer += chunk;
    for (let at = buffer.indexOf('\\n'); at !== -1; at = buffer.indexOf('\\n')) {
      const { id, cmd } = JSON.parse(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
      if (cmd === 'stop') process.exit(0);
      const answer = answers[cmd];
      conn.write(JSON.stringify(answer ? { id, ok: true, result: answer() } : { id, ok: false, error: { code: 'EUNKNOWN', message: cmd } }) + '\\n');
    }
  });
}).listen(socket, () => console.log('ready'));
`;

describe('drover logs during rotations', () => {
  it(`reads the log ${RUNS} times in a row while it rotates many times a second`, async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'flood.mjs'), FLOOD);
    writeFileSync(
      join(box.dir, 'drover.config.mjs'),
      `export default { groups: [{ baseTitle: 'flood', script: './flood.mjs', maxWorkerNum: 1, logRotation: { size: '1K', maxFiles: 3 } }] };\n`,
    );
    const started = await box.drover(['start', '-d']);
    expect(started.code, started.stderr).toBe(0);
    box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    await box.waitWorkers('flood', 1);
    const rotated = join(box.runDir, 'logs', 'flood.log.2');
    await waitUntil('two rotations', () => existsSync(rotated) || undefined, 20_000);

    const log = join(box.runDir, 'logs', 'flood.log');
    const inode = () => statSync(log, { throwIfNoEntry: false })?.ino;
    const failures: string[] = [];
    let rotatedDuringRuns = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = inode();
      const result = await box.drover(['logs', 'flood', '-n', '5']);
      if (inode() !== before) rotatedDuringRuns++;
      if (result.code !== 0 || result.stderr !== '') failures.push(`exit ${result.code}: ${result.stderr}`);
    }
    expect(failures).toEqual([]);
    // the log did rotate while the runs read it
    expect(rotatedDuringRuns).toBeGreaterThan(RUNS / 2);
  }, 120_000);

  it('reads the log file an older master holds open, across its rotations', async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'older-master.mjs'), OLDER_MASTER);
    // not the default path: only what the master holds open says where its log is
    mkdirSync(join(box.dir, 'elsewhere'));
    const log = join(box.dir, 'elsewhere', 'old.log');
    const master = spawnNode([join(box.dir, 'older-master.mjs'), join(box.runDir, 'old.sock'), log, 'old'], {
      env: box.env,
      cwd: box.dir,
    });
    try {
      await master.waitForOutput(/ready/);
      const failures: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        const result = await box.drover(['logs', 'old', '-n', '2']);
        if (result.code !== 0 || result.stderr !== '' || !/^(line \d+\n){0,2}$/.test(result.stdout))
          failures.push(`exit ${result.code}: ${result.stderr}${result.stdout}`);
      }
      expect(failures).toEqual([]);
    } finally {
      await master.kill();
    }
  }, 120_000);
});

// `drover logs` of a background group whose log rotates all the time: each run reads the file its
// master writes, even when it looks between the close of the old file and the open of the new.
// The first tests race real rotations; the last two make the missing window certain: a file
// renamed away just before logs looks for it, and one renamed away between its check and its open.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, spawnNode, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** A worker that prints about 200 kB a second: a 1K log rotates about two hundred times a second (its master holds no log file open a quarter of the time). */
const FLOOD = `let i = 0;
setInterval(() => {
  for (let n = 0; n < 20; n++) console.log(\`line \${i++} \${'z'.repeat(80)}\`);
}, 10);
`;

const RUNS = 30;

/** The stand-in masters' control socket: one JSON line per request, answered from `answers`. */
const SERVE_ANSWERS = `createServer((conn) => {
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
${SERVE_ANSWERS}`;

/**
 * A stand-in master whose status names its log file (as this drover's does) and which rotates
 * that log at the moment of its choosing, so that a test need not race a fast rotation. Its log
 * holds `line 1` to `line 5`. With ROTATE_ON_STATUS, answering `status` renames the log to
 * `<log>.1` (its rotation closes and renames the file), and ROTATE_NEW_MS later creates the new
 * one with `line 6` and `line 7`: whoever asked status finds the file missing right after.
 * Usage: <socket> <log file> <name>.
 */
const ROTATING_MASTER = `import { renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
const [socket, log, name] = process.argv.slice(2);
writeFileSync(log, 'line 1\\nline 2\\nline 3\\nline 4\\nline 5\\n', { mode: 0o600 });
let rotations = 0;
function status() {
  if (process.env.ROTATE_ON_STATUS && rotations++ === 0) {
    renameSync(log, \`\${log}.1\`);
    setTimeout(() => {
      writeFileSync(log, 'line 6\\nline 7\\n', { mode: 0o600 });
      console.log('rotated');
    }, Number(process.env.ROTATE_NEW_MS));
  }
  return { master: { pid: process.pid, baseTitle: name, workerCount: 0, run: { script: '/x.mjs', mode: 'script', args: [], cwd: '/', execArgv: [], logFile: log } }, workers: [] };
}
const answers = {
  ping: () => ({ pid: process.pid, baseTitle: name, version: '1.0.0' }),
  status,
};
${SERVE_ANSWERS}`;

/**
 * Preloaded into \`drover logs\` (node --require): a rotation between its check that the log file
 * is there and its open of it, made certain. The first open of ROTATE_FILE finds it renamed away
 * (ENOENT, as in the middle of a rotation); it is back as soon as that open has failed. Each
 * such open is appended to ROTATE_TRACE.
 */
const RENAME_DURING_OPEN = `const fs = require('node:fs');
const fsp = require('node:fs/promises');
const { syncBuiltinESMExports } = require('node:module');
const file = process.env.ROTATE_FILE;
const open = fsp.open;
let armed = true;
fsp.open = async function (path, ...rest) {
  if (!armed || String(path) !== file) return open.call(this, path, ...rest);
  armed = false;
  fs.renameSync(file, file + '.moving');
  try {
    return await open.call(this, path, ...rest);
  } catch (error) {
    fs.appendFileSync(process.env.ROTATE_TRACE, 'open ' + error.code + '\\n');
    throw error;
  } finally {
    fs.renameSync(file + '.moving', file);
  }
};
syncBuiltinESMExports();
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

  it('waits for a log file that a rotation renamed away just before it looked, and reads on into the rotated one', async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'rotating-master.mjs'), ROTATING_MASTER);
    const log = join(box.dir, 'rot.log');
    const master = spawnNode(
      [join(box.dir, 'rotating-master.mjs'), join(box.runDir, 'rot.sock'), log, 'rot'],
      {
        env: { ...box.env, ROTATE_ON_STATUS: '1', ROTATE_NEW_MS: '150' },
        cwd: box.dir,
      },
    );
    try {
      await master.waitForOutput(/ready/);
      // status names rot.log and renames it away: the file is missing when logs looks, for 150 ms
      const result = await box.drover(['logs', 'rot', '-n', '4']);
      await master.waitForOutput(/rotated/);
      expect(result).toMatchObject({ code: 0, stderr: '', stdout: 'line 4\nline 5\nline 6\nline 7\n' });
    } finally {
      await master.kill();
    }
  });

  it('reads a log file that a rotation renamed away between its check and its open, once it is back', async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'rotating-master.mjs'), ROTATING_MASTER);
    writeFileSync(join(box.dir, 'rename-during-open.cjs'), RENAME_DURING_OPEN);
    const log = join(box.dir, 'rot.log');
    const trace = join(box.dir, 'trace');
    const master = spawnNode(
      [join(box.dir, 'rotating-master.mjs'), join(box.runDir, 'rot.sock'), log, 'rot'],
      {
        env: box.env,
        cwd: box.dir,
      },
    );
    try {
      await master.waitForOutput(/ready/);
      const result = await box.node(
        ['--require', join(box.dir, 'rename-during-open.cjs'), BIN, 'logs', 'rot', '-n', '3'],
        {
          env: { ROTATE_FILE: log, ROTATE_TRACE: trace },
        },
      );
      // the file was there for the check, missing for the open: the open failed once
      expect(readFileSync(trace, 'utf8')).toBe('open ENOENT\n');
      expect(result).toMatchObject({ code: 0, stderr: '', stdout: 'line 3\nline 4\nline 5\n' });
    } finally {
      await master.kill();
    }
  });
});

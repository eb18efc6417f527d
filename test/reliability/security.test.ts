import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { join } from 'node:path';
import { Manage } from '@drover/core';
import { describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from '../support/group.js';
import {
  account,
  expectFailedStart,
  is,
  isRoot,
  startGroup,
  uidOf,
  until,
  wholeGroup,
  cleanupAfterEach,
} from './support.js';

const { cleanups, track } = cleanupAfterEach();

/** A private run dir of this user, created before the start (so links can be planted in it). */
function runDirWith(): { runDir: string; outside: string } {
  const { dir, cleanup } = tempDir('drover-rel-sec-');
  cleanups.push(cleanup);
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { mode: 0o700 });
  return { runDir, outside: dir };
}

const nobody = account('nobody');
const uid = process.getuid?.() ?? 0;

/** The /proc/PID/status line `Uid:` or `Gid:`: real, effective, saved and file-system ids. */
function ids(pid: number, which: 'Uid' | 'Gid'): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'latin1')
    .split('\n')
    .find((l) => l.startsWith(`${which}:`));
  return (line ?? '').split(/\s+/).slice(1).filter(Boolean).map(Number);
}

/** What another user gets when it tries to connect to `socket` and to read `pidFile`. */
function tryAs(
  user: { uid: number; gid: number },
  socket: string,
  pidFile: string,
): Promise<Record<string, string>> {
  const code = `
    const net = require('node:net');
    const fs = require('node:fs');
    const out = {};
    try { fs.readFileSync(${JSON.stringify(pidFile)}); out.read = 'ok'; } catch (e) { out.read = e.code; }
    const s = net.connect(${JSON.stringify(socket)});
    s.on('connect', () => { out.connect = 'ok'; s.write('{"id":1,"cmd":"stop"}\\n'); setTimeout(() => { console.log(JSON.stringify(out)); process.exit(0); }, 300); });
    s.on('error', (e) => { out.connect = e.code; console.log(JSON.stringify(out)); process.exit(0); });
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', code],
      { uid: user.uid, gid: user.gid, timeout: 10_000 },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(JSON.parse(stdout) as Record<string, string>);
      },
    );
  });
}

describe('files of a live master', () => {
  it('run dir 0700, control socket and pid file 0600, all owned by the user', async () => {
    const name = 'rel-modes';
    const g = track(startGroup({ name, config: { maxWorkerNum: 1 } }));
    await g.group.waitEvent(is('started'), 'started');
    const dir = lstatSync(g.runDir);
    expect(dir.isDirectory()).toBe(true);
    expect({ mode: dir.mode & 0o777, uid: dir.uid }).toEqual({ mode: 0o700, uid });
    const sock = lstatSync(join(g.runDir, `${name}.sock`));
    expect(sock.isSocket()).toBe(true);
    expect({ mode: sock.mode & 0o777, uid: sock.uid }).toEqual({ mode: 0o600, uid });
    const pid = lstatSync(join(g.runDir, `${name}.pid`));
    expect(pid.isFile()).toBe(true);
    expect({ mode: pid.mode & 0o777, uid: pid.uid }).toEqual({ mode: 0o600, uid });
  });

  it('a run dir drover made, opened to others, is narrowed back to 0700 at the next start', async () => {
    const { outside } = runDirWith();
    // drover makes this one, with its logs and files, as the default run dir is made
    const runDir = join(outside, 'made');
    const first = track(startGroup({ name: 'rel-narrow', runDir, config: { maxWorkerNum: 1 } }));
    await first.group.waitEvent(is('started'), 'started');
    await first.cleanup();
    chmodSync(runDir, 0o777);
    const g = track(startGroup({ name: 'rel-narrow', runDir, config: { maxWorkerNum: 1 } }));
    await g.group.waitEvent(is('started'), 'started');
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
  });

  it.each([
    [
      'a shared directory (sticky, as /tmp)',
      0o1777,
      'is a shared directory (sticky bit, as /tmp)',
      `give drover a directory of its own, for example`,
    ],
    // names and owners cannot tell a dir of drover's from one it is pointed at (/run, a home)
    [
      'open to others and not made by drover, whatever it holds',
      0o755,
      'is open to others (mode 755), holds files and drover did not create it',
      'if it is meant for drover alone, or give drover a directory of its own, for example',
    ],
  ])('a run dir that is %s is refused, never narrowed', async (_what, mode, text, hint) => {
    const { runDir } = runDirWith();
    // what another service may keep there: drover's own kinds of names are no proof
    writeFileSync(join(runDir, 'nginx.pid'), '');
    chmodSync(runDir, mode);
    const g = track(startGroup({ name: 'rel-shared', runDir, config: { maxWorkerNum: 1 } }));
    const failed = await g.group.waitEvent(is('startFailed'), 'start to fail');
    expect(await g.group.waitExit()).toEqual({ code: 1, signal: null });
    expect(failed.code).toBe('EUNSAFE_RUNDIR');
    expect(failed.message).toContain(`'${runDir}' ${text}`);
    expect(failed.message).toContain(`${hint} '${join(runDir, 'drover')}'`);
    expect(g.group.count(is('workerStart'))).toBe(0);
    expect(statSync(runDir).mode & 0o7777).toBe(mode);
  });
});

describe('links and foreign directories are refused at start, never followed', () => {
  it.each([
    ['pid file', 'pid', 'EUNSAFE_PIDFILE', 'is a symbolic link; it is never followed'],
    ['control socket', 'sock', 'EUNSAFE_SOCKET', 'is a symbolic link; it is never followed'],
  ])('a %s path that is a symlink to a file: the target is untouched', async (_what, ext, code, text) => {
    const { runDir, outside } = runDirWith();
    const name = `rel-link-${ext}`;
    const target = join(outside, 'precious.txt');
    writeFileSync(target, 'precious\n');
    const before = statSync(target);
    const link = join(runDir, `${name}.${ext}`);
    symlinkSync(target, link);

    const g = track(startGroup({ name, runDir, config: { maxWorkerNum: 2 } }));
    const failed = await g.group.waitEvent(is('startFailed'), 'start to fail');
    expect(await g.group.waitExit()).toEqual({ code: 1, signal: null });
    expect(failed.code).toBe(code);
    expect(failed.message).toContain(`'${link}' ${text}`);
    expect(g.group.count(is('workerStart'))).toBe(0);
    // neither the link nor what it points to was touched
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    const after = statSync(target);
    expect({ mtime: after.mtimeMs, mode: after.mode, uid: after.uid }).toEqual({
      mtime: before.mtimeMs,
      mode: before.mode,
      uid: before.uid,
    });
  });

  it('a dangling pid-file link: refused, and its target is not created', async () => {
    const { runDir, outside } = runDirWith();
    const target = join(outside, 'created-through-link');
    symlinkSync(target, join(runDir, 'rel-dangling.pid'));
    const g = track(startGroup({ name: 'rel-dangling', runDir, config: { maxWorkerNum: 1 } }));
    const failed = await g.group.waitEvent(is('startFailed'), 'start to fail');
    expect(failed.code).toBe('EUNSAFE_PIDFILE');
    expect(await g.group.waitExit()).toEqual({ code: 1, signal: null });
    expect(existsSync(target)).toBe(false);
  });

  it('a run dir that is a symlink', async () => {
    const { runDir, outside } = runDirWith();
    const link = join(outside, 'run-link');
    symlinkSync(runDir, link);
    const g = track(startGroup({ name: 'rel-dirlink', runDir: link, config: { maxWorkerNum: 1 } }));
    const failed = await expectFailedStart(g);
    expect(failed.code).toBe('EUNSAFE_RUNDIR');
    expect(failed.message).toContain(`run directory '${link}' is a symbolic link`);
  });

  it.skipIf(!isRoot || !nobody)('a run dir owned by another user', async () => {
    const { runDir } = runDirWith();
    chownSync(runDir, nobody!.uid, nobody!.gid);
    const g = track(startGroup({ name: 'rel-foreign', runDir, config: { maxWorkerNum: 1 } }));
    const failed = await expectFailedStart(g);
    expect(failed.code).toBe('EUNSAFE_RUNDIR');
    expect(failed.message).toContain(
      `run directory '${runDir}' belongs to uid ${nobody!.uid}, not to this user (uid ${uid})`,
    );
  });
});

describe.skipIf(!isRoot || !nobody)('another user (nobody)', () => {
  it('cannot connect to the control socket or read the pid file, even when the run dir is opened', async () => {
    const name = 'rel-other-user';
    const g = track(startGroup({ name, config: { maxWorkerNum: 1 } }));
    await g.group.waitEvent(is('started'), 'started');
    const socket = join(g.runDir, `${name}.sock`);
    const pidFile = join(g.runDir, `${name}.pid`);
    const outside = join(g.runDir, '..');
    chmodSync(outside, 0o755); // the temp dir above the run dir: let nobody walk up to it

    // first line of defence: the run dir (0700)
    expect(await tryAs(nobody!, socket, pidFile)).toEqual({ read: 'EACCES', connect: 'EACCES' });
    // second: the files themselves (0600), with the run dir opened by mistake
    chmodSync(g.runDir, 0o755);
    try {
      expect(await tryAs(nobody!, socket, pidFile)).toEqual({ read: 'EACCES', connect: 'EACCES' });
    } finally {
      chmodSync(g.runDir, 0o700);
    }
    expect(g.group.alive).toBe(true);
    await until('a whole group', async () => wholeGroup(await g.status(), name, 1));
  });

  it("workers run as the configured user and group ('user' / 'group' privilege drop)", async () => {
    const name = 'rel-drop';
    const g = track(startGroup({ name, config: { maxWorkerNum: 2, user: 'nobody', group: nobody!.gid } }));
    await g.group.waitEvent(is('started'), 'started');
    const status = await until('a whole group', async () => wholeGroup(await g.status(), name, 2));
    for (const w of status.workers) {
      expect(ids(w.pid!, 'Uid'), `uids of worker ${w.pin}`).toEqual([
        nobody!.uid,
        nobody!.uid,
        nobody!.uid,
        nobody!.uid,
      ]);
      expect(ids(w.pid!, 'Gid'), `gids of worker ${w.pin}`).toEqual([
        nobody!.gid,
        nobody!.gid,
        nobody!.gid,
        nobody!.gid,
      ]);
    }
    // the workers say so themselves, and the master kept its own identity
    const ups = g.group.events.filter(is('workerUp'));
    expect(ups.map((e) => [e.uid, e.gid])).toEqual([
      [nobody!.uid, nobody!.gid],
      [nobody!.uid, nobody!.gid],
    ]);
    expect(uidOf(g.group.pid)).toBe(uid);
  });
  it('a foreground master on a terminal warns that workers of another user share its session', async () => {
    const { runDir } = runDirWith();
    // `script` gives the master a terminal, as an operator's shell would
    const child = spawn(
      'script',
      ['-qec', `${process.execPath} ${join(FIXTURES, 'core/loop.mjs')}`, '/dev/null'],
      {
        env: {
          ...process.env,
          NO_COLOR: '1',
          GROUP_CONFIG: JSON.stringify({ runDir, maxWorkerNum: 1, user: 'nobody' }),
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    const exited = new Promise((done) => child.once('exit', done));
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    await until('the warning and a ready group', () =>
      output.includes('"event":"started"') ? true : `not started yet: ${output.slice(-600)}`,
    );
    await new Manage({ baseTitle: 'loop', runDir }).stop();
    await exited;
    expect(output).toMatch(
      new RegExp(
        `warning .*workers run as uid ${nobody!.uid} in this terminal's session: they can write to it hint="start the group in the background`,
      ),
    );
  });

  it("'user' alone: the workers take that user's primary group and its HOME, USER and LOGNAME", async () => {
    const name = 'rel-drop-user';
    const g = track(startGroup({ name, config: { maxWorkerNum: 1, user: 'nobody' } }));
    await g.group.waitEvent(is('started'), 'started');
    const status = await until('a whole group', async () => wholeGroup(await g.status(), name, 1));
    const pid = status.workers[0]!.pid!;
    // not the master's group (0 when the master is root)
    expect(ids(pid, 'Gid')).toEqual([nobody!.gid, nobody!.gid, nobody!.gid, nobody!.gid]);
    const env = new Map(
      readFileSync(`/proc/${pid}/environ`, 'latin1')
        .split('\0')
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
    );
    expect([env.get('HOME'), env.get('USER'), env.get('LOGNAME')]).toEqual([
      nobody!.home,
      'nobody',
      'nobody',
    ]);
  });
});

describe('no shell between the master and its workers', () => {
  it('self-launch (Manage) mode: arguments with spaces, quotes, $(…), globs and ; reach every worker verbatim', async () => {
    const scratch = tempDir('drover-rel-argv-');
    cleanups.push(scratch.cleanup);
    const marker = join(scratch.dir, 'pwned');
    const args = [
      '--port',
      '80 80',
      `it's "$(whoami)"`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      '*',
      '$HOME',
      '',
      'tab\there',
      'new\nline',
    ];
    const g = track(startGroup({ name: 'rel-argv', args, config: { maxWorkerNum: 2 } }));
    await g.group.waitEvent(is('started'), 'started');
    const ups = await g.group.waitFor('both workers up', () => {
      const found = g.group.events.filter(is('workerUp'));
      return found.length >= 2 ? found : undefined;
    });
    for (const up of ups) expect(up.argv).toEqual(args);
    expect(existsSync(marker)).toBe(false);
  });
});

// A group another user runs (a container image with `USER node`, OpenShift's random uid), looked
// at by root (`docker exec <c> drover ...` runs as root): status, stop, reload, restart, scale and
// logs of its name say that user runs it, and how to run drover as that user; a start as root
// warns before it starts a second copy. The exit codes are those of a group that does not run.
// Any other user sees nothing of it: it could not control it.
import { chmodSync, chownSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_FIXTURES, pidAlive, type Result, runCommand, spawnNode, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const isRoot = process.getuid?.() === 0;
const openSandbox = sandboxPerTest();
const plain = join(CLI_FIXTURES, 'plain.mjs');

/** A group name no other test file (nor a parallel run of this one) starts. */
const NAME = `otheruid-${process.pid}`;

/** `nobody` when /etc/passwd has it (then named), else a uid without an account, as OpenShift gives. */
function otherAccount(): { uid: number; gid: number; user: string | null } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === 'nobody') return { uid: Number(uid), gid: Number(gid), user };
  }
  return { uid: 47123, gid: 47123, user: null };
}

/** A uid that owns no file and runs nothing: a plain user of the same machine. */
const BYSTANDER = 47124;

/** Runs `drover ...args` as `uid` (setpriv, as a `docker exec -u` would), in `cwd`. */
function droverAs(
  uid: number,
  gid: number,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Result> {
  const argv = [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', process.execPath, BIN, ...args];
  return runCommand('setpriv', argv, { cwd, env });
}

/** A directory of the sandbox owned by `uid`, private: its run directory. */
function runDirOf(box: Sandbox, name: string, uid: number, gid: number): string {
  const dir = join(box.dir, name);
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, uid, gid);
  return dir;
}

describe.skipIf(!isRoot)('a group another user runs, looked at by root', () => {
  it('every command of its name says who runs it and how to reach it; a start as root warns; another user sees nothing', async () => {
    const box = openSandbox();
    // let the other users reach their run directories in the sandbox
    chmodSync(box.dir, 0o755);
    const other = otherAccount();
    const otherRun = runDirOf(box, 'other', other.uid, other.gid);
    const otherEnv = { ...box.env, DROVER_RUN_DIR: otherRun, HOME: box.dir };

    const started = await droverAs(
      other.uid,
      other.gid,
      ['start', plain, '-d', `--name=${NAME}`],
      otherEnv,
      box.dir,
    );
    expect(started.code, started.stderr).toBe(0);
    const pid = box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    const where = realpathSync(otherRun);
    const label = other.user === null ? `uid ${other.uid}` : `uid ${other.uid} (${other.user})`;
    const who = `${label} runs '${NAME}' (pid ${pid}, run directory ${where})`;
    const how =
      `run drover as that user, with DROVER_RUN_DIR=${where}: ` +
      `${other.user === null ? '' : `runuser -u ${other.user} -- drover ..., `}` +
      `setpriv --reuid=${other.uid} --regid=${other.gid} --clear-groups drover ..., or docker exec -u ${other.uid} <container> drover ...`;

    // root's run directory has nothing: status says so on stdout, exit 0, and names the other user's group
    const status = await box.drover(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(`no drover group is running in ${box.runDir}\n`);
    // masters of root's own in other run directories (other tests) may come first
    expect(status.stderr).toMatch(/^drover: but /);
    expect(status.stderr).toContain(`${who}; ${how}`);

    const notHere = `drover: no group named '${NAME}' is running in ${box.runDir}; but ${who}; ${how}\n`;
    for (const args of [
      ['status', NAME],
      ['stop', NAME],
      ['reload', NAME],
      ['restart', NAME],
      ['scale', NAME, '2'],
    ]) {
      const result = await box.drover(args);
      expect(result, args.join(' ')).toMatchObject({ code: 1, stdout: '', stderr: notHere });
    }
    const logs = await box.drover(['logs', NAME]);
    expect(logs).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `drover: no log file for group '${NAME}' at ${box.runDir}/logs/${NAME}.log; log files are written in background mode (start it with -d); but ${who}; ${how}\n`,
    });
    expect(pidAlive(pid)).toBe(true);

    // a start of that name as root, in its default run directory: a warning before the second copy
    const xdg = join(box.dir, 'xdg');
    mkdirSync(xdg, { mode: 0o700 });
    const asDefault = { DROVER_RUN_DIR: '', XDG_RUNTIME_DIR: xdg };
    const second = await box.drover(['start', plain, '-d', `--name=${NAME}`], { env: asDefault });
    expect(second.code, second.stderr).toBe(0);
    const secondPid = box.track(Number(/\(pid (\d+)\)/.exec(second.stdout)?.[1]));
    expect(second.stderr).toBe(
      `drover: warning: ${label} already runs '${NAME}' (pid ${pid}, run directory ${where}); ` +
        `this start, as root, runs a second copy in ${join(xdg, 'drover')}, and the drover commands of each user see only their own; ` +
        `to control that one, ${how}\n`,
    );
    const stopSecond = await box.drover(['stop', NAME], { env: asDefault });
    expect(stopSecond.code, stopSecond.stderr).toBe(0);

    // with a run directory of root's own set: still a second copy, still said (in the foreground, before it runs)
    const third = spawnNode([BIN, 'start', plain, `--name=${NAME}`], { env: box.env, cwd: box.dir });
    try {
      await third.waitForOutput(/worker is ready/);
      const [warning] = third.output.split('\n');
      expect(warning).toBe(
        `drover: warning: ${label} already runs '${NAME}' (pid ${pid}, run directory ${where}); ` +
          `this start, as root, runs a second copy in ${box.runDir}, and the drover commands of each user see only their own; ` +
          `to control that one, ${how}`,
      );
      expect((await box.drover(['stop', NAME])).code).toBe(0);
      await third.waitExit();
    } finally {
      await third.kill();
    }

    // any other user: not a word about it (it could not control it)
    const bystanderRun = runDirOf(box, 'bystander', BYSTANDER, BYSTANDER);
    const bystanderEnv = { ...box.env, DROVER_RUN_DIR: bystanderRun, HOME: box.dir };
    const theirStatus = await droverAs(BYSTANDER, BYSTANDER, ['status'], bystanderEnv, box.dir);
    expect(theirStatus).toMatchObject({
      code: 0,
      stdout: `no drover group is running in ${bystanderRun}\n`,
      stderr: '',
    });
    const theirStop = await droverAs(BYSTANDER, BYSTANDER, ['stop', NAME], bystanderEnv, box.dir);
    expect(theirStop).toMatchObject({
      code: 1,
      stderr: `drover: no group named '${NAME}' is running in ${bystanderRun}; start it first ('start')\n`,
    });

    // the way the hint gives reaches it
    const stop = await droverAs(other.uid, other.gid, ['stop', NAME], otherEnv, box.dir);
    expect(stop).toMatchObject({ code: 0, stdout: `stopped '${NAME}' (pid ${pid})\n` });
    await waitUntil('the masters to end', () => (!pidAlive(pid) && !pidAlive(secondPid) ? true : undefined));
  }, 120_000);
});

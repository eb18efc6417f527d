// A shell whose DROVER_RUN_DIR is not the group's (a `sudo -u app drover ...` without the
// service's variable): the commands name the run directory they looked in, and the masters of
// this user that run with another one (found in /proc), with the DROVER_RUN_DIR that reaches
// them; a start in the default run directory of a group that runs elsewhere warns.
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_FIXTURES, pidAlive, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();
const plain = join(CLI_FIXTURES, 'plain.mjs');

/** A group name no other test file (nor a parallel run of this one) starts. */
const NAME = `fixcli-else-${process.pid}`;

/** Starts NAME in the sandbox's run directory; resolves with its master's pid. */
async function startHere(box: Sandbox): Promise<number> {
  const started = await box.drover(['start', plain, '-d', `--name=${NAME}`]);
  expect(started.code, started.stderr).toBe(0);
  return box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
}

/** A private directory of the sandbox, for another run directory or XDG_RUNTIME_DIR. */
function privateDir(box: Sandbox, name: string): string {
  const dir = join(box.dir, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

describe('a group that runs with another run directory', () => {
  it('status, stop and reload all name the run directory they looked in, and the master found elsewhere', async () => {
    const box = openSandbox();
    const pid = await startHere(box);
    const where = realpathSync(box.runDir);
    const other = privateDir(box, 'other');
    const env = { DROVER_RUN_DIR: other };

    const status = await box.drover(['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(`no drover group is running in ${other}\n`);
    // other masters of this user (other tests) may be named as well
    expect(status.stderr).toMatch(
      /^drover: but (a drover master|\d+ drover masters) of this user runs? with another run directory: /,
    );
    expect(status.stderr).toContain(`pid ${pid} (${NAME}) in ${where}`);

    const stop = await box.drover(['stop', NAME], { env });
    expect(stop).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `drover: no group named '${NAME}' is running in ${other}; a drover master of this user runs '${NAME}' with another run directory: pid ${pid} in ${where}; set DROVER_RUN_DIR=${where} to reach it\n`,
    });
    expect(pidAlive(pid)).toBe(true);

    // a name that runs nowhere (a typo): the masters that run elsewhere are named all the same
    const typo = await box.drover(['stop', `${NAME}-typo`], { env });
    expect(typo).toMatchObject({ code: 1, stdout: '' });
    expect(typo.stderr).toMatch(
      new RegExp(
        `^drover: no group named '${NAME}-typo' is running in ${other}; start it first \\('start'\\); but (a drover master|\\d+ drover masters) of this user runs? with another run directory: `,
      ),
    );
    expect(typo.stderr).toContain(`pid ${pid} (${NAME}) in ${where}`);

    const reload = await box.drover(['reload', 'all'], { env });
    expect(reload.code).toBe(1);
    expect(reload.stderr).toMatch(
      new RegExp(`^drover: no drover group is running in ${other}, so none was reloaded; but `),
    );
    expect(reload.stderr).toContain(`pid ${pid} (${NAME}) in ${where}`);

    // the variable the message gives reaches it
    const stopped = await box.drover(['stop', NAME], { env: { DROVER_RUN_DIR: where } });
    expect(stopped).toMatchObject({ code: 0, stdout: `stopped '${NAME}' (pid ${pid})\n` });
  }, 90_000);

  it('a start in the default run directory warns that the group runs elsewhere; one in a chosen directory does not', async () => {
    const box = openSandbox();
    const pid = await startHere(box);
    const where = realpathSync(box.runDir);
    // DROVER_RUN_DIR unset (empty): the default run directory, $XDG_RUNTIME_DIR/drover
    const xdg = privateDir(box, 'xdg');
    const asDefault = { DROVER_RUN_DIR: '', XDG_RUNTIME_DIR: xdg };
    const defaultDir = join(xdg, 'drover');

    const second = await box.drover(['start', plain, '-d', `--name=${NAME}`], { env: asDefault });
    expect(second.code, second.stderr).toBe(0);
    const match = new RegExp(
      `^started '${NAME}' in the background \\(pid (\\d+)\\); log: ${defaultDir}/logs/${NAME}.log\\n$`,
    ).exec(second.stdout);
    expect(match, second.stdout).not.toBeNull();
    const secondPid = box.track(Number(match![1]));
    expect(second.stderr).toBe(
      `drover: warning: a master of this user already runs '${NAME}' (pid ${pid}, run directory ${where}); ` +
        `this start uses ${defaultDir}, another run directory, so two copies run, and the commands of a shell see only the one of its DROVER_RUN_DIR; ` +
        `to control that one, set DROVER_RUN_DIR=${where}\n`,
    );
    expect(pidAlive(pid)).toBe(true);

    // a run directory given on purpose is a namespace of its own: no warning
    const chosen = privateDir(box, 'chosen');
    const third = await box.drover(['start', plain, '-d', `--name=${NAME}`], {
      env: { DROVER_RUN_DIR: chosen },
    });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toBe('');
    const thirdPid = box.track(Number(/\(pid (\d+)\)/.exec(third.stdout)?.[1]));

    for (const env of [asDefault, { DROVER_RUN_DIR: chosen }]) {
      const stop = await box.drover(['stop', NAME], { env });
      expect(stop.code, stop.stderr).toBe(0);
    }
    await waitUntil('the other masters to end', () =>
      !pidAlive(secondPid) && !pidAlive(thirdPid) ? true : undefined,
    );
  }, 90_000);
});

// A master in the foreground and its terminal: a hangup (an ssh session dropped) leaves the group
// running with its output dropped, and SIGUSR1 opens no inspector (docs/cli.md, README signals).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_FIXTURES, LiveProcess, pidAlive, spawnNode, waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();
const LOOP = join(CLI_FIXTURES, 'loop.mjs');

describe('a foreground master and its terminal', () => {
  it('its terminal hangs up: the group goes on (reloaded by the SIGHUP) and stops cleanly later', async () => {
    const box = openSandbox();
    // script(1) gives the master a terminal of its own; SIGKILL to script closes it: a hangup
    const command = `exec ${process.execPath} ${BIN} start ${LOOP} -w 2 --name=hup`;
    const terminal = new LiveProcess(
      spawn('script', ['-qfec', command, '/dev/null'], {
        cwd: box.dir,
        env: box.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    try {
      const started = await box.waitWorkers('hup', 2);
      const master = box.track(started.master.pid);
      expect(started.master.lastReload).toBeUndefined();
      terminal.proc.kill('SIGKILL');
      await terminal.exited;

      // the hangup's SIGHUP reloads the group, whose every log line now fails with EIO
      const reloaded = await waitUntil(
        'the reload after the hangup',
        async () => {
          const group = (await box.status()).find((g) => g.master.baseTitle === 'hup');
          if (!group) throw new Error(`the master (pid ${master}) is gone after its terminal hung up`);
          return group.master.lastReload ? group : undefined;
        },
        20_000,
      );
      expect(reloaded.master.pid).toBe(master);
      expect(reloaded.master.lastReload).toMatchObject({ aborted: false, replaced: 2 });
      await box.waitWorkers('hup', 2);

      const stopped = await box.drover(['stop', 'hup']);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stdout).toMatch(/^stopped 'hup'/);
      await waitUntil('the master to exit', () => (pidAlive(master) ? undefined : true), 15_000);
    } finally {
      await terminal.kill();
    }
  }, 90_000);

  it('SIGUSR1 to the master opens no inspector, and the log says what to do instead', async () => {
    const box = openSandbox();
    const master = spawnNode([BIN, 'start', LOOP, '-w', '1', '--name=usr1'], { env: box.env, cwd: box.dir });
    try {
      await master.waitForOutput(/worker ready/);
      master.proc.kill('SIGUSR1');
      await master.waitForOutput(/SIGUSR1 ignored: Node's inspector is not opened on a signal/);
      // a signal the master keeps working after: its status answers
      await box.waitWorkers('usr1', 1);
      expect(master.output).not.toMatch(/Debugger listening|Starting inspector/);
      master.proc.kill('SIGTERM');
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
      expect(master.output).not.toMatch(/Debugger listening/);
    } finally {
      await master.kill();
    }
  }, 60_000);
});

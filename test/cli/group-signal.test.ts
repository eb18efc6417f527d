// A SIGTERM sent to the whole process group (systemd's KillMode=control-group, `kill -TERM -<pgid>`,
// dumb-init) reaches the master and every worker at once. A script that handles SIGTERM itself gets
// it once: the group's copy, or the master's stop relayed as SIGTERM when no copy comes.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, LiveProcess } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** Counts the SIGTERMs its own handler gets, and ends 300 ms after the first. */
const OWN_HANDLER = `let calls = 0;
process.on('SIGTERM', () => {
  calls++;
  console.log(\`pid \${process.pid} SIGTERM call \${calls}\`);
  if (calls === 1) setTimeout(() => process.exit(0), 300);
});
setInterval(() => {}, 1000);
`;

/** A foreground master of 2 workers, leader of its own process group. */
async function startLeader(box: Sandbox, name: string): Promise<LiveProcess> {
  writeFileSync(join(box.dir, 'own.mjs'), OWN_HANDLER);
  const master = new LiveProcess(
    spawn(process.execPath, [BIN, 'start', 'own.mjs', '-w', '2', `--name=${name}`], {
      cwd: box.dir,
      env: box.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  box.track(master.pid);
  await master.waitForOutput(/all 2 workers ready/);
  return master;
}

const calls = (output: string) =>
  [...output.matchAll(/pid (\d+) SIGTERM call (\d+)/g)].map((m) => Number(m[2]));

describe('a SIGTERM to the whole process group', () => {
  it("reaches a script's own SIGTERM handler once in each worker, whichever comes first: the copy or the master's stop", async () => {
    // three rounds: the copy and the master's word race, and each order must hold
    for (let round = 0; round < 3; round++) {
      const box = openSandbox();
      const master = await startLeader(box, `fixcli-grp${round}`);
      try {
        process.kill(-master.pid, 'SIGTERM');
        expect(await master.waitExit()).toEqual({ code: 0, signal: null });
        expect(calls(master.output), master.output).toEqual([1, 1]);
      } finally {
        await master.kill();
      }
    }
  }, 90_000);

  it('sent to the master alone, it reaches the handler once too, relayed by the worker', async () => {
    const box = openSandbox();
    const master = await startLeader(box, 'fixcli-grpm');
    try {
      process.kill(master.pid, 'SIGTERM');
      expect(await master.waitExit()).toEqual({ code: 0, signal: null });
      expect(calls(master.output), master.output).toEqual([1, 1]);
    } finally {
      await master.kill();
    }
  }, 60_000);
});

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/group.js';
import { is, type LoopGroup, readyPids, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
let scratch: { dir: string; cleanup(): void } | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
  scratch?.cleanup();
  scratch = undefined;
});

describe("the workers' directory (cwd)", () => {
  it('a start whose cwd does not exist fails at once naming it, and forks no worker', async () => {
    scratch = tempDir();
    const missing = join(scratch.dir, 'releases', 'gone');
    current = startLoop({ maxWorkerNum: 2, cwd: missing });
    const { group } = current;
    const failed = await group.waitEvent(is('startFailed'), 'the start rejected');
    expect(failed).toMatchObject({ code: 'ECWD' });
    expect(failed.message).toBe(
      `drover: the workers' directory (cwd) '${missing}' does not exist: no worker of 'loop' can start there; create it, or set cwd to an existing directory`,
    );
    expect(group.events.filter(is('workerStart'))).toEqual([]);
  });

  it('a cwd removed while the group runs: a respawn fails naming the directory, not the node binary', async () => {
    scratch = tempDir();
    const release = join(scratch.dir, 'release');
    mkdirSync(release);
    current = startLoop({ maxWorkerNum: 1, cwd: release, restart: { maxRestarts: 2, initialDelayMs: 20 } });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const [[, pid]] = [...readyPids(group)];
    // a deploy removes the old release the group runs from
    rmSync(release, { recursive: true });
    process.kill(pid!, 'SIGKILL');
    const failedFork = await group.waitEvent(
      is('workerExit', (e) => e.pid === -1),
      'a respawn that could not fork',
    );
    expect(failedFork.error).toBe(
      `Error: the workers' directory (cwd) '${release}' does not exist (spawn ${process.execPath} ENOENT)`,
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { type RunningGroup, startFixture, tempDir } from '../../support/group.js';
import { is } from './helpers.js';

let group: RunningGroup | undefined;
let dir: { dir: string; cleanup(): void } | undefined;
afterEach(async () => {
  await group?.kill();
  group = undefined;
  dir?.cleanup();
  dir = undefined;
});

describe('a worker that is never ready', () => {
  it('in a script whose workers never call start() (cluster-style), the timeout names that cause', async () => {
    dir = tempDir();
    group = startFixture('core/guarded-start.mjs', { env: { RUN_DIR: dir.dir } });
    const failed = await group.waitEvent(is('startFailed'), 'the start rejected');
    expect(failed.code).toBe('EREADYTIMEOUT');
    expect(failed.hint).toContain(
      "a worker whose script never calls start() of 'guarded' never gets ready: call it in the worker too",
    );
    expect((await group.waitExit()).code).toBe(1);
  });
});

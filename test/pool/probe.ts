import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/group.js';
import { PoolGroup, type StartedPool } from './helpers.js';

const PROBE = fileURLToPath(new URL('./fixtures/probe-pool.mjs', import.meta.url));

/**
 * Starts test/pool/fixtures/probe-pool.mjs (a pool master that can call close() in itself, and
 * whose workers record the `tasks` messages they receive) in a private run dir, as `startPool`
 * starts the main fixture; `cleanup` kills whatever is left.
 */
export function startProbePool(config: Record<string, unknown> = {}): StartedPool {
  const { dir, cleanup } = tempDir('drover-probe-');
  const proc = spawn(process.execPath, ['--title=drover:Master:probe', PROBE], {
    env: { ...process.env, NO_COLOR: '1', POOL_CONFIG: JSON.stringify({ runDir: dir, ...config }) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const group = new PoolGroup(proc);
  return {
    group,
    runDir: dir,
    cleanup: async () => {
      await group.kill();
      cleanup();
    },
  };
}

import { fileURLToPath } from 'node:url';
import { type StartedPool, startPoolScript } from './helpers.js';

const PROBE = fileURLToPath(new URL('./fixtures/probe-pool.mjs', import.meta.url));

/**
 * Starts test/pool/fixtures/probe-pool.mjs (a pool master that can call close() in itself, and
 * whose workers record the `tasks` messages they receive) as `startPool` starts the main fixture.
 */
export function startProbePool(config: Record<string, unknown> = {}): StartedPool {
  return startPoolScript(PROBE, config);
}

import { createColors } from 'picocolors';
import type { OutputStream } from '../io.js';

export type Colors = ReturnType<typeof createColors>;

/**
 * Colours for one stream: on for a TTY (not `TERM=dumb`), off otherwise; `NO_COLOR` (any non-empty
 * value) turns them off and `FORCE_COLOR` (any non-empty value but `0`/`false`, in any case) on,
 * `NO_COLOR` first, as no-color.org asks. An empty `FORCE_COLOR` counts as unset, as picocolors
 * reads it. `@drover/core`'s log lines follow the same rule (`colorWanted`).
 */
export function colorsFor(stream: OutputStream, env: Readonly<Record<string, string | undefined>>): Colors {
  return createColors(useColor(stream, env));
}

export function useColor(stream: OutputStream, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

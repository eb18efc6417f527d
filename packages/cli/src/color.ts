import type { OutputStream } from '@drover/command';

/**
 * Colour for one stream, as the command framework decides it: off under `NO_COLOR`, on under
 * `FORCE_COLOR` (any value but `0`/`false`; empty counts as unset), else on a TTY only.
 */
export function useColor(stream: OutputStream, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}

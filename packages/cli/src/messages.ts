import type { EnvUpdateStatus, ReloadResult } from '@drover/core';
import { RELOAD_STOPPING } from '@drover/core/control';

/**
 * Core errors start with `drover: ` so they read well on their own; a router already prefixes its
 * bin's name to every failure, so the CLI drops the inner one to print a single clear line.
 */
export function withoutPrefix(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.startsWith('drover: ')) return error;
  const plain = new Error(error.message.slice('drover: '.length), { cause: error });
  plain.stack = error.stack;
  return plain;
}

/** Runs `task` and rethrows its error without the `drover: ` prefix. */
export async function plainErrors<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    throw withoutPrefix(error);
  }
}

/**
 * Why a reload of `label` (`'web'`, or a config file's groups) stopped after `replaced` workers.
 * A stopping group keeps nothing running, so only an aborted reload says the others keep the
 * old code. `envUpdate`: the reload carried an environment update, which a reload that did not
 * complete does not keep.
 */
export function reloadStopped(
  label: string,
  replaced: number,
  error: string | undefined,
  envUpdate = false,
): Error {
  if (error === RELOAD_STOPPING) {
    return new Error(
      replaced === 0
        ? `cannot reload ${label}: the group is stopping; start it again once it has stopped`
        : `reload of ${label} stopped after ${replaced} worker(s): the group is stopping`,
    );
  }
  const env = envUpdate
    ? '; the environment update was not kept: workers started from now on (respawns, recycles, scale ups) run with the environment the group had, the ones replaced so far run with the new one until they are next replaced'
    : '';
  return new Error(
    `reload of ${label} stopped after ${replaced} worker(s): ${error ?? 'aborted'}; the others keep running the old code${env}`,
  );
}

/**
 * What a reload that went through all its PINs did, in one line (`reloaded 'web': 3 worker(s)
 * replaced, 1 started again (crash backoff or given up)`), and the error that fails the command when a PIN that
 * had no running worker did not start: the reload went on, but the group is not whole. A master
 * of an earlier version counts such PINs as replaced and sends neither `started` nor `notStarted`.
 */
export function reloadOutcome(
  label: string,
  results: readonly Partial<ReloadResult>[],
  suffix = '',
): { line: string; failure: Error | null } {
  const replaced = results.reduce((sum, r) => sum + (r.replaced ?? 0), 0);
  const started = results.reduce((sum, r) => sum + (r.started ?? 0), 0);
  const notStarted = results.flatMap((r) => r.notStarted ?? []);
  const done = `${replaced} worker(s) replaced${started > 0 ? `, ${started} started again (crash backoff or given up)` : ''}`;
  const line = `reloaded ${label}: ${done}${suffix}`;
  if (notStarted.length === 0) return { line, failure: null };
  const pins = notStarted.map((n) => n.pin).join(', ');
  return {
    line,
    failure: new Error(
      `reload of ${label}: ${done}${suffix}, but worker ${pins}, which had no running worker (crash backoff or given up), did not start: ${notStarted[0]!.error}; ${notStarted.length === 1 ? 'it is' : 'they are'} retried with backoff as after a crash, up to restart.maxRestarts`,
    ),
  };
}

/**
 * ` (changed FOO; removed BAR)`: the names of the variables an environment update kept by a
 * master added, changed and removed; empty for a master that does not record them.
 */
export function describeEnvChange(update: EnvUpdateStatus | undefined): string {
  if (!update) return '';
  const parts = (
    [
      ['added', update.added],
      ['changed', update.changed],
      ['removed', update.removed],
    ] as const
  )
    .filter(([, names]) => names.length > 0)
    .map(
      ([what, names]) =>
        `${what} ${names.length > 12 ? `${names.slice(0, 12).join(' ')} …` : names.join(' ')}`,
    );
  return ` (${parts.length > 0 ? parts.join('; ') : 'no variable changed'})`;
}

/** This process's environment, as a record of strings: what `--update-env` hands the workers. */
export function shellEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return env;
}

/**
 * The environment of a group's workers. By default it is the master's own (`cluster.fork()` puts
 * `process.env` underneath what it is given), then the identity of `user`, then the group's `env`,
 * then drover's envelope. An update (`--update-env`, `reload({ env })`) replaces the base, the
 * group's `env`, or both, for this group alone: the master's `process.env`, which the other
 * groups of the same process share, is never touched.
 */
import { type EnvRecord, envProblem, envRecord } from '../control/protocol.js';
import { DAEMON_GROUPS_VAR, DAEMON_VAR } from '../daemon/role.js';
import { DroverError } from '../errors.js';
import { ENVELOPE_VAR } from '../ipc/messages.js';

/** A change of the workers' environment (`Manage.reload({ env })`, `restart({ env })`, `--update-env`). */
export interface EnvUpdate {
  /**
   * The environment new workers start from, in place of the master's own (or of an earlier
   * update's): variables it lacks are gone from them. `process.env` of the caller is the usual
   * value; undefined values count as absent. drover's own variables in it are ignored.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The group's own `env`, applied on top of `env`, in place of the one it has (its `env` option,
   * or an earlier update's): a config file entry's `env`, read again. Default: unchanged.
   */
  configEnv?: Readonly<Record<string, string>>;
}

/** What a group's workers start with, apart from the identity of `user` and the envelope. */
export interface WorkerEnv {
  /** the base environment; null: the master's own `process.env` */
  base: EnvRecord | null;
  /** the group's own `env`, on top */
  own: EnvRecord;
}

/** A checked EnvUpdate: what it replaces. */
export interface EnvChange {
  base?: EnvRecord;
  own?: EnvRecord;
}

/**
 * Variables drover (and Node's cluster and IPC setup) sets itself in a worker's environment: a
 * base environment never provides them, so a shell that happens to hold one cannot pose as drover.
 */
const OWN_NAMES: ReadonlySet<string> = new Set([
  ENVELOPE_VAR,
  DAEMON_VAR,
  DAEMON_GROUPS_VAR,
  'NODE_UNIQUE_ID',
  'NODE_CHANNEL_FD',
  'NODE_CHANNEL_SERIALIZATION_MODE',
]);

/**
 * Checks `update`: null when it asks for no change. Throws a DroverError (`EINVAL`) naming the
 * group, the variable, what it holds and the fix when it is not a set of string variables.
 */
export function checkEnvUpdate(update: EnvUpdate | undefined, group: string): EnvChange | null {
  if (update === undefined || update === null) return null;
  if (typeof update !== 'object' || Array.isArray(update)) {
    throw invalid(
      group,
      'the update',
      `is ${Array.isArray(update) ? 'an array' : `a ${typeof update}`}`,
      'expected { env?, configEnv? }',
    );
  }
  const { env, configEnv } = update;
  if (env === undefined && configEnv === undefined) return null;
  const change: EnvChange = {};
  if (env !== undefined) change.base = withoutOwnNames(checked(group, 'env', env));
  if (configEnv !== undefined) change.own = checked(group, 'configEnv', configEnv);
  return change;
}

/**
 * What a shell says of itself (its directory, its last command), not of the program: a new base
 * keeps the values the group had, so a reload run from another directory changes nothing there.
 */
const SHELL_STATE = ['PWD', 'OLDPWD', '_'] as const;

/** `current` with `change` applied. */
export function applyEnvChange(
  current: WorkerEnv,
  change: EnvChange,
  masterEnv: NodeJS.ProcessEnv = process.env,
): WorkerEnv {
  if (!change.base) return { base: current.base, own: change.own ?? current.own };
  const before = current.base ?? masterEnv;
  const base: EnvRecord = Object.assign(Object.create(null), change.base);
  for (const name of SHELL_STATE) {
    const kept = before[name];
    if (kept === undefined) delete base[name];
    else base[name] = kept;
  }
  return { base, own: change.own ?? current.own };
}

function checked(group: string, key: 'env' | 'configEnv', value: unknown): EnvRecord {
  const problem = envProblem(value);
  if (problem) {
    throw invalid(
      group,
      problem.name === null ? key : `${key}.${problem.name}`,
      problem.found,
      problem.expected,
    );
  }
  return envRecord(value as Record<string, unknown>);
}

function invalid(group: string, where: string, found: string, expected: string): DroverError {
  return new DroverError(
    'EINVAL',
    `drover: cannot update the environment of '${group}': '${where}' ${found}`,
    {
      hint: `${expected}; the workers keep the environment they have`,
    },
  );
}

function withoutOwnNames(env: EnvRecord): EnvRecord {
  const base: EnvRecord = Object.create(null);
  for (const [name, value] of Object.entries(env)) if (!OWN_NAMES.has(name)) base[name] = value;
  return base;
}

/**
 * The environment to give `cluster.fork()` (the envelope aside): with a base of its own, every
 * variable of `masterEnv` the base lacks is set to undefined, which spawn leaves out, as
 * `cluster.fork()` merges `masterEnv` underneath.
 */
export function forkEnv(
  env: WorkerEnv,
  identity: Readonly<Record<string, string>>,
  masterEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  if (env.base === null) return { ...identity, ...env.own };
  const removed: Record<string, undefined> = Object.create(null);
  for (const name of Object.keys(masterEnv)) if (!Object.hasOwn(env.base, name)) removed[name] = undefined;
  return { ...removed, ...env.base, ...identity, ...env.own };
}

/**
 * The names whose value differs between two effective environments (`before` and `after` as
 * workers see them, identity and envelope aside), for the log: names only, never values.
 */
export function changedNames(
  before: WorkerEnv,
  after: WorkerEnv,
  masterEnv: NodeJS.ProcessEnv = process.env,
): { added: string[]; changed: string[]; removed: string[] } {
  const effective = (env: WorkerEnv) =>
    new Map(
      Object.entries({ ...(env.base ?? masterEnv), ...env.own }).filter(
        (pair): pair is [string, string] => pair[1] !== undefined,
      ),
    );
  const a = effective(before);
  const b = effective(after);
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [name, value] of b) {
    if (!a.has(name)) added.push(name);
    else if (a.get(name) !== value) changed.push(name);
  }
  for (const name of a.keys()) if (!b.has(name)) removed.push(name);
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

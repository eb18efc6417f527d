import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * Resolves the `user` / `group` options to numeric ids for the workers. Node has no getpwnam,
 * so names are looked up in /etc/passwd and /etc/group (local accounts; give an id otherwise).
 */
export function resolvePrincipal(kind: 'user' | 'group', value: string | number): number {
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const file = kind === 'user' ? '/etc/passwd' : '/etc/group';
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // unreadable: the error below says what to do
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === value && fields[2] && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new ConfigError(
    kind,
    value,
    `an existing ${kind} name in ${file}, or a numeric ${kind === 'user' ? 'uid' : 'gid'}`,
  );
}

/** A local account, as /etc/passwd lists it. */
interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The /etc/passwd entry of `user` (a name or a uid), or null when there is none. */
function lookupAccount(user: string | number): Account | null {
  let text = '';
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return null;
  }
  const byId = typeof user === 'number' || /^\d+$/.test(user);
  for (const line of text.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (!name || !uid || !gid || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    if (byId ? Number(uid) === Number(user) : name === user) {
      return { name, uid: Number(uid), gid: Number(gid), home: home ?? '/' };
    }
  }
  return null;
}

/** Who the workers run as: ids for the fork, and the account's identity in their environment. */
export interface WorkerIdentity {
  uid?: number;
  gid?: number;
  /** HOME, USER and LOGNAME of the account (the group's own `env` still wins) */
  env: Record<string, string>;
}

/**
 * Resolves the `user` / `group` options. Without `group`, the workers take the user's primary
 * group: setting the uid alone would leave them in the master's group (group 0 under root). As
 * su and systemd's `User=` do, they get the account's HOME, USER and LOGNAME, not the master's.
 */
export function resolveWorkerIdentity(user?: string | number, group?: string | number): WorkerIdentity {
  if (user === undefined) {
    return group === undefined
      ? { env: {} }
      : { gid: allowed('group', group, resolvePrincipal('group', group)), env: {} };
  }
  const uid = allowed('user', user, resolvePrincipal('user', user));
  const account = lookupAccount(user);
  if (group === undefined && !account) {
    throw new ConfigError(
      'user',
      user,
      "a uid listed in /etc/passwd, or give 'group' too: the workers would otherwise keep the master's group",
    );
  }
  const gid = group === undefined ? account!.gid : allowed('group', group, resolvePrincipal('group', group));
  const env: Record<string, string> = account
    ? { HOME: account.home, USER: account.name, LOGNAME: account.name }
    : {};
  return { uid, gid, env };
}

/** Only root may fork workers as another user or group: anyone else's fork fails with a bare EPERM. */
function allowed(kind: 'user' | 'group', value: string | number, id: number): number {
  const uid = process.getuid?.();
  const own = kind === 'user' ? uid : process.getgid?.();
  if (uid !== undefined && uid !== 0 && id !== own) {
    const [idName, where] = kind === 'user' ? ['uid', 'as another user'] : ['gid', 'in another group'];
    throw new ConfigError(
      kind,
      value,
      `the master's own ${kind} (${idName} ${own}), or start the master as root: only root may run workers ${where}`,
    );
  }
  return id;
}

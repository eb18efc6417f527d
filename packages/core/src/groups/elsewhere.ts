import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** A drover master of this user, seen in /proc, that runs with another run directory. */
export interface MasterElsewhere {
  pid: number;
  /** the groups its title names (`<prefix>:Master:<a>,<b>`; a title cut short names fewer) */
  groups: string[];
  /** its run directory, or null when it cannot be told (see mastersElsewhere) */
  runDir: string | null;
}

/** A drover master of another user (see otherUsersMasters). */
export interface OtherUserMaster extends MasterElsewhere {
  uid: number;
  gid: number;
  /** the account of `uid` in /etc/passwd; null when it has none (a container's random uid) */
  user: string | null;
  /** true when its run directory is that user's default one ($TMPDIR/drover-<uid>) */
  defaultRunDir: boolean;
}

/** `<prefix>:Master:<baseTitle>[,<baseTitle>...]`, as formatTitle and ManageMultiple set it. */
const MASTER_TITLE = /^[A-Za-z0-9._-]{1,64}:Master:([A-Za-z0-9._,-]+)$/;
const GROUP_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;

/**
 * The drover masters of this user that run with a run directory other than `runDir` (see
 * userMasters); `except`: pids to leave out (masters found in `runDir` by discovery).
 */
export function mastersElsewhere(runDir: string, except: Iterable<number> = []): MasterElsewhere[] {
  const here = realOrResolved(runDir);
  return userMasters(except).filter((m) => m.runDir === null || m.runDir !== here);
}

/**
 * The drover masters of this user, from one scan of /proc: processes of this uid whose title is a
 * master's. A master's run directory is the directory of a unix socket it bound that holds the
 * control socket of one of its groups (`/proc/net/unix`, read only once a master is found), else
 * the DROVER_RUN_DIR it was started with (`/proc/<pid>/environ`), else unknown (null); a known one
 * is its real path. This process and the pids in `except` are left out. Without /proc (or any
 * error reading it) the answer is [].
 */
export function userMasters(except: Iterable<number> = []): MasterElsewhere[] {
  const uid = process.getuid?.();
  if (uid === undefined) return [];
  return scanMasters(except, (owner) => owner === uid).map(({ pid, groups, runDir }) => ({
    pid,
    groups,
    runDir,
  }));
}

/**
 * The drover masters of the other users, for root only: root may read every `/proc/<pid>` (their
 * sockets, environment and mount namespace), and may run drover as their user to control them.
 * Any other user gets []: it could not control them, and a shared host's other users' groups are
 * none of its business. Masters in another PID namespace (a container's, seen from the host) are
 * left out: drover run there is what reaches them. One in another mount namespace (a service with
 * systemd's PrivateTmp=) has an unknown run directory: its path there is not one here. See
 * userMasters for the rest.
 */
export function otherUsersMasters(except: Iterable<number> = []): OtherUserMaster[] {
  const uid = process.getuid?.();
  if (uid === undefined || uid !== 0 || process.geteuid?.() !== 0) return [];
  const own = { pid: namespace('self', 'pid'), mnt: namespace('self', 'mnt') };
  const masters = scanMasters(except, (owner) => owner !== uid).filter(
    (m) => own.pid === null || namespace(String(m.pid), 'pid') === own.pid,
  );
  if (masters.length === 0) return [];
  const accounts = passwdNames();
  return masters.map((m) => {
    const runDir = own.mnt === null || namespace(String(m.pid), 'mnt') === own.mnt ? m.runDir : null;
    return {
      ...m,
      runDir,
      user: accounts.get(m.uid) ?? null,
      defaultRunDir: runDir !== null && runDir === realOrResolved(join(tmpdir(), `drover-${m.uid}`)),
    };
  });
}

interface ScannedMaster extends MasterElsewhere {
  uid: number;
  gid: number;
}

/** The drover masters whose owner `accept` takes, from one scan of /proc (see userMasters). */
function scanMasters(except: Iterable<number>, accept: (uid: number) => boolean): ScannedMaster[] {
  if (process.platform !== 'linux') return [];
  const skip = new Set([process.pid, ...except]);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: ScannedMaster[] = [];
  let sockets: Map<string, string> | null = null;
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid <= 0 || skip.has(pid)) continue;
    const master = masterGroups(pid, accept);
    if (master === null) continue;
    sockets ??= boundSockets();
    const dir = masterRunDir(pid, master.groups, sockets);
    found.push({ pid, ...master, runDir: dir === null ? null : realOrResolved(dir) });
  }
  return found;
}

/** The groups named by the title of `pid`, and its owner, when it is a drover master of an owner `accept` takes; else null. */
function masterGroups(
  pid: number,
  accept: (uid: number) => boolean,
): { groups: string[]; uid: number; gid: number } | null {
  let title: string;
  try {
    // a title is set over the command line's memory: what follows it is NULs
    title = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '');
  } catch {
    return null; // gone meanwhile
  }
  const match = MASTER_TITLE.exec(title);
  if (!match?.[1]) return null;
  let owner: { uid: number; gid: number };
  try {
    owner = statSync(`/proc/${pid}`);
  } catch {
    return null;
  }
  if (!accept(owner.uid)) return null;
  const groups = match[1].split(',').filter((name) => GROUP_NAME.test(name));
  return groups.length > 0 ? { groups, uid: owner.uid, gid: owner.gid } : null;
}

/** The namespace `kind` of `/proc/<pid>` (`mnt:[4026531841]`), null when it cannot be read. */
function namespace(pid: string, kind: 'mnt' | 'pid'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/** uid → account name, from /etc/passwd (the first name of a uid); empty when it cannot be read. */
function passwdNames(): Map<number, string> {
  const names = new Map<number, string>();
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    const id = Number(uid);
    if (name && uid && Number.isSafeInteger(id) && !names.has(id)) names.set(id, name);
  }
  return names;
}

/** inode → path of every unix socket bound to a path (not an abstract name), from /proc/net/unix. */
function boundSockets(): Map<string, string> {
  const map = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return map;
  }
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const fields = line.trim().split(/\s+/);
    const inode = fields[6];
    const path = fields.slice(7).join(' ');
    if (inode && path.startsWith('/')) map.set(inode, path);
  }
  return map;
}

/** The run directory of master `pid` of `groups`, or null when neither its sockets nor its environment tell. */
function masterRunDir(
  pid: number,
  groups: readonly string[],
  sockets: ReadonlyMap<string, string>,
): string | null {
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    // another user's process after all, or gone
  }
  for (const fd of fds) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    const path = inode === undefined ? undefined : sockets.get(inode);
    if (path === undefined) continue;
    // a control socket is bound under a temporary name in the run directory, then renamed
    const dir = dirname(path);
    if (groups.some((name) => existsSync(join(dir, `${name}.sock`)))) return dir;
  }
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const value = environ.find((v) => v.startsWith('DROVER_RUN_DIR='))?.slice('DROVER_RUN_DIR='.length);
    if (value) return resolve(readlinkSync(`/proc/${pid}/cwd`), value);
  } catch {
    // not readable: unknown
  }
  return null;
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

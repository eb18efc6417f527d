import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  lstatSync,
  openSync,
  readdirSync,
  realpathSync,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, DroverError } from '../errors.js';
import { makeDirectory, ON_KERNEL_FS } from './makeDirectory.js';
import { digest64 } from './names.js';

/** Where one group keeps its files inside the run directory. */
export interface GroupPaths {
  /** the run directory, absolute */
  dir: string;
  /** `<dir>/<baseTitle>.pid` */
  pidFile: string;
  /** `<dir>/<baseTitle>.sock`: the control socket */
  socket: string;
  /**
   * `<dir>/<baseTitle>.ended`: the pid file of a master that ended without stopping, moved there by
   * whatever found it, until a scan that reports it (`drover status`) takes it away
   */
  endedFile: string;
  /** abstract unix socket name of the single-instance lock (no leading NUL) */
  lockName: string;
  /** `<dir>/logs` */
  logDir: string;
}

/** `sun_path` holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

const BASE_TITLE = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;
const GROUP_FILE = /^(.+)\.(pid|sock|ended)$/;

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * The run directory: `$DROVER_RUN_DIR`, else `$XDG_RUNTIME_DIR/drover` when that runtime dir
 * exists and belongs to this user, else `<tmpdir>/drover-<uid>`. Nothing is created here.
 */
export function defaultRunDir(): string {
  const explicit = process.env.DROVER_RUN_DIR;
  if (explicit) return resolve(explicit);
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && isOwnDirectory(xdg)) return join(resolve(xdg), 'drover');
  const uid = currentUid();
  return join(tmpdir(), uid === undefined ? 'drover' : `drover-${uid}`);
}

function isOwnDirectory(path: string): boolean {
  try {
    const stats = lstatSync(path);
    return stats.isDirectory() && (currentUid() === undefined || stats.uid === currentUid());
  } catch {
    return false;
  }
}

/**
 * Left in every run directory drover creates, or finds private or empty: what tells a directory of
 * drover's own (which it may narrow back to 0700 after a umask or an admin's chmod) from one it
 * was pointed at (/run, a home, a shared dir), which it never changes. Names and owners of the
 * files in it cannot tell them apart.
 */
export const RUN_DIR_MARK = '.drover-run-dir';

/** Marks `dir` as drover's. A failure (unwritable, a concurrent start) only means no narrowing later. */
function leaveMark(dir: string): void {
  try {
    closeSync(openSync(join(dir, RUN_DIR_MARK), 'wx', 0o600));
  } catch {
    // see above
  }
}

function isEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

function markedAsOwn(dir: string, uid: number | undefined): boolean {
  try {
    const mark = lstatSync(join(dir, RUN_DIR_MARK));
    return mark.isFile() && (uid === undefined || mark.uid === uid);
  } catch {
    return false;
  }
}

/** The hint for a run directory on a read-only file system (a container's read-only root). */
const ON_READ_ONLY_FS =
  'its file system is read-only; set DROVER_RUN_DIR (runDir) to a directory on a writable file system (in a container, a tmpfs: docker run --tmpfs /run/app -e DROVER_RUN_DIR=/run/app)';

function unsafe(dir: string, problem: string, hint: string): DroverError {
  return new DroverError('EUNSAFE_RUNDIR', `drover: run directory '${dir}' ${problem}`, { hint });
}

/**
 * Creates `dir` (and its parents) with mode 0700 and checks that what is there now is a real
 * directory, owned by this user and closed to everyone else. One of drover's own (RUN_DIR_MARK)
 * that is too open is narrowed to 0700; anything else throws `EUNSAFE_RUNDIR`, because pid files
 * and sockets in a directory another user controls could be swapped under us.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    if (makeDirectory(dir, 0o700) !== undefined) leaveMark(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      throw unsafe(
        dir,
        code === 'EKERNELFS' ? ON_KERNEL_FS : `cannot be created (${code ?? (err as Error).message})`,
        code === 'EROFS' ? ON_READ_ONLY_FS : 'set DROVER_RUN_DIR to a directory you own',
      );
    }
  }
  let stats: Stats;
  try {
    stats = lstatSync(dir);
  } catch (err) {
    throw unsafe(
      dir,
      `cannot be read (${(err as NodeJS.ErrnoException).code})`,
      'set DROVER_RUN_DIR to a directory you own',
    );
  }
  if (stats.isSymbolicLink()) {
    throw unsafe(dir, 'is a symbolic link', 'remove the link, or set DROVER_RUN_DIR to the real directory');
  }
  if (!stats.isDirectory()) {
    throw unsafe(dir, 'exists and is not a directory', 'remove it, or set DROVER_RUN_DIR to another path');
  }
  const uid = currentUid();
  if (uid !== undefined && stats.uid !== uid) {
    throw unsafe(
      dir,
      `belongs to uid ${stats.uid}, not to this user (uid ${uid})`,
      'set DROVER_RUN_DIR to a directory you own',
    );
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw unsafe(
      dir,
      `cannot be written (${code})`,
      code === 'EROFS'
        ? ON_READ_ONLY_FS
        : `run 'chmod 700 ${dir}', or set DROVER_RUN_DIR to a directory you own`,
    );
  }
  if ((stats.mode & 0o077) !== 0) {
    // Narrowing is for a directory of drover's own that came out too open (a umask, an admin's
    // chmod). One it was pointed at (/tmp, /run, a home) would be taken from everyone else.
    const own = join(dir, 'drover');
    if ((stats.mode & 0o1000) !== 0) {
      throw unsafe(
        dir,
        'is a shared directory (sticky bit, as /tmp)',
        `give drover a directory of its own, for example '${own}'`,
      );
    }
    const marked = markedAsOwn(dir, uid);
    // an empty directory holds nothing of anyone else's: `mkdir run` under a umask of 022
    if (!marked && !isEmpty(dir)) {
      throw unsafe(
        dir,
        `is open to others (mode ${(stats.mode & 0o777).toString(8)}), holds files and drover did not create it`,
        `run 'chmod 700 ${dir}' if it is meant for drover alone, or give drover a directory of its own, for example '${own}'`,
      );
    }
    try {
      chmodSync(dir, 0o700);
    } catch (err) {
      throw unsafe(
        dir,
        `has mode ${(stats.mode & 0o777).toString(8)} and cannot be narrowed to 700 (${(err as NodeJS.ErrnoException).code})`,
        `run 'chmod 700 ${dir}'`,
      );
    }
    if (!marked) leaveMark(dir);
  } else if (!markedAsOwn(dir, uid)) {
    // a private directory drover is given (or made by an earlier version) is its own from now on
    leaveMark(dir);
  }
}

/** Throws a ConfigError unless `baseTitle` is safe as a file name: 1-64 of `A-Z a-z 0-9 . _ -`. */
export function validateBaseTitle(baseTitle: unknown): asserts baseTitle is string {
  if (typeof baseTitle !== 'string' || !BASE_TITLE.test(baseTitle)) {
    throw new ConfigError(
      'baseTitle',
      baseTitle,
      "1 to 64 characters among letters, digits, '.', '_' and '-', the first not '-'",
    );
  }
}

/** The paths of group `baseTitle` in `runDir`; throws when its socket path would be too long. */
export function groupPaths(runDir: string, baseTitle: string): GroupPaths {
  validateBaseTitle(baseTitle);
  const dir = resolve(runDir);
  const socket = join(dir, `${baseTitle}.sock`);
  const socketBytes = Buffer.byteLength(socket);
  if (socketBytes > MAX_SOCKET_PATH_BYTES) {
    throw new DroverError(
      'ESOCKPATH',
      `drover: control socket path '${socket}' is ${socketBytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of unix socket paths`,
      { hint: 'use a shorter runDir (for example DROVER_RUN_DIR=/tmp/drover) or a shorter baseTitle' },
    );
  }
  return {
    dir,
    pidFile: join(dir, `${baseTitle}.pid`),
    socket,
    endedFile: join(dir, `${baseTitle}.ended`),
    lockName: lockNameFor(dir, baseTitle),
    logDir: join(dir, 'logs'),
  };
}

/**
 * Abstract socket names are global to the network namespace, so the name carries the uid and a
 * digest of the run directory's real path: two users, or two run dirs, never share a lock.
 */
function lockNameFor(dir: string, baseTitle: string): string {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    // not created yet: the resolved path is what it will be
  }
  const digest = digest64(real);
  return `drover-${currentUid() ?? 'u'}-${digest}-${baseTitle}`;
}

/** The baseTitles that have a pid file, a control socket or an ended record in `runDir`, sorted; [] if it does not exist. */
export function listGroups(runDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(runDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new DroverError(
      'ERUNDIR',
      `drover: cannot list run directory '${runDir}' (${code ?? (err as Error).message})`,
      {
        hint: 'check the path and its permissions, or set DROVER_RUN_DIR',
        cause: err,
      },
    );
  }
  const titles = new Set<string>();
  for (const entry of entries) {
    const match = GROUP_FILE.exec(entry);
    if (match?.[1] && BASE_TITLE.test(match[1])) titles.add(match[1]);
  }
  return [...titles].sort();
}

/**
 * Whether this process is a background daemon, and which groups it hosts. The launcher sets
 * `DROVER_DAEMON=1`, `DROVER_DAEMON_GROUPS=<baseTitle>,...` and `DROVER_DAEMON_FILES` (a JSON
 * DaemonFiles) in the daemon's environment; they are read once and removed, so the daemon's
 * workers and their children do not inherit them.
 */
export const DAEMON_VAR = 'DROVER_DAEMON';
export const DAEMON_GROUPS_VAR = 'DROVER_DAEMON_GROUPS';
export const DAEMON_FILES_VAR = 'DROVER_DAEMON_FILES';

/** Where a daemon's last words go (see daemon/lastWords.ts). */
export interface DaemonFiles {
  /** the file its stdout and stderr were opened on (see daemonOutputFile) */
  output: string;
  /**
   * each hosted group's log file; `inRunDir`: never opened through a symbolic link; `pidFile`:
   * the group's pid file, which names this process while it runs the group's master
   */
  logs: { baseTitle: string; file: string; inRunDir: boolean; pidFile?: string }[];
}

/** The umask of a daemon: files it creates are not writable by the group, nor readable by others. */
export const DAEMON_UMASK = 0o027;

export interface DaemonRole {
  /** this process was started by a background launcher */
  isDaemon: boolean;
  /** the baseTitles whose masters this daemon runs */
  groups: ReadonlySet<string>;
  /** its output file and the groups' log files; null outside a daemon (or from a launcher that gave none) */
  files: DaemonFiles | null;
}

let role: DaemonRole | undefined;

export function daemonRole(): DaemonRole {
  if (role) return role;
  const isDaemon = process.env[DAEMON_VAR] === '1';
  const groups = new Set((process.env[DAEMON_GROUPS_VAR] ?? '').split(',').filter((name) => name !== ''));
  const files = isDaemon ? parseFiles(process.env[DAEMON_FILES_VAR]) : null;
  delete process.env[DAEMON_VAR];
  delete process.env[DAEMON_GROUPS_VAR];
  delete process.env[DAEMON_FILES_VAR];
  if (isDaemon) process.umask(DAEMON_UMASK);
  role = { isDaemon, groups, files };
  return role;
}

function parseFiles(text: string | undefined): DaemonFiles | null {
  if (!text) return null;
  try {
    const files = JSON.parse(text) as DaemonFiles;
    return typeof files?.output === 'string' && Array.isArray(files.logs) ? files : null;
  } catch {
    return null;
  }
}

/** True in a background daemon: a process that a `start -d` launched, running its command line again. */
export function isDaemonProcess(): boolean {
  return daemonRole().isDaemon;
}

/** True in a daemon that was started to run the master of `baseTitle`. */
export function daemonHosts(baseTitle: string): boolean {
  const { isDaemon, groups } = daemonRole();
  return isDaemon && groups.has(baseTitle);
}

// Read when the package loads, before anything can fork a worker that would inherit the variables.
daemonRole();

import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { Action, CommandAction, type OutputStream, UsageError } from '@drover/command';
import { Manage } from '@drover/core';
import {
  escapeControl,
  findConfigFile,
  loadGroupsConfig,
  manageFromEntry,
  runningGroups,
  tailLog,
} from '@drover/core/control';
import { plainErrors } from '../../messages.js';
import { GROUP_NAME, GROUP_NAME_RULE } from '../names.js';

const DEFAULT_LINES = 20;

@Action({
  name: 'logs',
  description: "Print the last lines of a group's log file; with -f, keep following it",
  args: { name: 'Group name' },
})
export class LogsAction extends CommandAction<{ follow: boolean; lines: number }, { name: string }> {
  async handler(): Promise<void> {
    const name = this.args.name;
    if (!GROUP_NAME.test(name)) {
      throw new UsageError(`group name ${JSON.stringify(name)} is not valid`, {
        hint: `a group name is ${GROUP_NAME_RULE}`,
      });
    }
    const file = await checkLogFile(name, await plainErrors(() => logFileOf(name)));
    const follow = this.getParam('follow', false);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    if (follow) {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    // a reader that closed the pipe (`| head`) has what it wanted: stop reading, exit 0
    const out = this.io.stdout as OutputStream & Partial<Pick<NodeJS.WritableStream, 'on' | 'off'>>;
    const onOutputError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') stop.abort();
    };
    out.on?.('error', onOutputError);
    try {
      const lines = tailLog(file, {
        lines: this.getParam('lines', DEFAULT_LINES),
        follow,
        signal: stop.signal,
      });
      // on a terminal, what a line holds beyond drover's own escaped records (the daemon's raw
      // output) cannot set the title, clear the screen or move the cursor
      const shown = out.isTTY ? escapeControl : (text: string) => text;
      for await (const line of lines) {
        if (stop.signal.aborted) break;
        out.write(`${shown(line.endsWith('\n') ? line.slice(0, -1) : line)}\n`);
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      out.off?.('error', onOutputError);
    }
  }
}

/**
 * The group's log file: the one its entry in ./drover.config.* sets when there is such an entry
 * (it may name its own logDir), else the default under the run directory.
 */
async function logFileOf(name: string): Promise<string> {
  const config = findConfigFile(process.cwd());
  if (config !== null) {
    const entry = (await loadGroupsConfig(config)).find((e) => e.baseTitle === name);
    if (entry) return manageFromEntry(entry).logFile();
  }
  return new Manage({ baseTitle: name }).logFile();
}

/**
 * The log file to read. For a running group, the one its master has open (wherever its logDir
 * is; the default path may hold an older run's log); else `file`. Throws a message naming the
 * path and the fix when there is none to read.
 */
async function checkLogFile(name: string, file: string): Promise<string> {
  const running = (await runningGroups().catch(() => [])).find((g) => g.baseTitle === name);
  // null: the master's descriptors cannot be read (another user's process): trust `file`
  const open = running ? openLogFiles(running.pid, name) : null;
  if (running && open) {
    const live = open.find((f) => !f.deleted);
    if (live) return live.path;
    const deleted = open.find((f) => f.path === file) ?? open[0];
    if (deleted) {
      throw new Error(
        `the log file ${deleted.path} of group '${name}' (pid ${running.pid}) was deleted while the group runs; ` +
          `its master begins a new one there as soon as it can make it (try again in a moment); ` +
          `until then its lines go to the deleted file: 'tail -f /proc/${running.pid}/fd/${deleted.fd}' reads it`,
      );
    }
    throw new Error(
      `group '${name}' (pid ${running.pid}) writes no log file: it runs in the foreground, and its log goes to the terminal it was started from; start it with -d for a log file`,
    );
  }
  let code: string | undefined;
  try {
    if (statSync(file).isFile()) return file;
    throw new Error(
      `the log file of group '${name}', ${file}, is not a file (a directory or another kind); remove or rename it, and drover writes its log there again`,
    );
  } catch (error) {
    code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
  }
  if (code !== 'ENOENT') {
    throw new Error(
      `the log file of group '${name}', ${file}, cannot be read (${code}); check its permissions`,
    );
  }
  throw new Error(
    running
      ? `no log file for group '${name}' at ${file}, and the files its master (pid ${running.pid}) writes cannot be seen from this user`
      : `no log file for group '${name}' at ${file}; log files are written in background mode (start it with -d)`,
  );
}

/**
 * The files named `<name>.log` that process `pid` holds open (its log files, wherever its logDir
 * is), with the fd through which it writes each; null when its descriptors cannot be read.
 */
function openLogFiles(pid: number, name: string): { path: string; fd: string; deleted: boolean }[] | null {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null; // another user's process, or no /proc
  }
  const found: { path: string; fd: string; deleted: boolean }[] = [];
  const suffix = `/${name}.log`;
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const deleted = link.endsWith(' (deleted)');
      const path = deleted ? link.slice(0, -' (deleted)'.length) : link;
      if (path.endsWith(suffix)) found.push({ path, fd, deleted });
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

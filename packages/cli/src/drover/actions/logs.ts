import { existsSync } from 'node:fs';
import { Action, CommandAction, UsageError } from '@drover/command';
import { findConfigFile, loadGroupsConfig, Manage, manageFromEntry, tailLog } from '@drover/core';
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
    const file = await plainErrors(() => logFileOf(name));
    if (!existsSync(file)) {
      throw new Error(
        `no log file for group '${name}' at ${file}; log files are written in background mode (start it with -d)`,
      );
    }
    const follow = this.getParam('follow', false);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    if (follow) {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    try {
      const lines = tailLog(file, {
        lines: this.getParam('lines', DEFAULT_LINES),
        follow,
        signal: stop.signal,
      });
      for await (const line of lines) this.io.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
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

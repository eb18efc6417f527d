import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Action, CommandAction, UsageError } from '@drover/command';
import { DroverError, Manage, ManageMultiple, scriptLaunch } from '@drover/core';
import { findConfigFile, loadGroupsConfig, manageFromEntry } from '@drover/core/control';
import { plainErrors } from '../../messages.js';
import { groupNameFromScript } from '../names.js';

interface StartParams {
  workers: number;
  background: boolean;
  name: string;
}

@Action({
  name: 'start',
  description: 'Run a script in supervised workers, or every group of ./drover.config.{js,mjs,json}',
  args: {
    script:
      'File to run (a script exporting init/work runs in the execution loop, any other runs as it is), or the name of one group of the config file',
    args: "Arguments for the script; after '--' when they start with '-'",
  },
})
export class StartAction extends CommandAction<StartParams, { script?: string; args: string[] }> {
  async handler(): Promise<void> {
    const background = this.getParam('background', false);
    if (this.args.script === undefined) return this.startConfig(background);
    const script = resolve(this.args.script);
    if (!isFile(script) && this.args.args.length === 0 && (await this.configGroupNamed(this.args.script)))
      return this.startConfig(background, this.args.script);
    checkScript(this.args.script, script);
    const name = this.getParam('name') ?? groupNameFromScript(script);
    const manage = new Manage(
      { baseTitle: name, maxWorkerNum: this.getParam('workers', 1) },
      { launch: scriptLaunch(script, this.args.args) },
    );
    if (background) manage.setBackground(true);
    const pid = await plainErrors(() => manage.start());
    if (launchedDaemon(background, pid)) {
      this.io.stdout.write(`started '${name}' in the background (pid ${pid}); log: ${manage.logFile()}\n`);
    }
  }

  /**
   * True when `name` is a group of the config file here (PM2's `--only`). A config file that
   * cannot be read answers false: the name is then reported as a missing script, and a plain
   * `drover start` reports the config's own error.
   */
  private async configGroupNamed(name: string): Promise<boolean> {
    try {
      const file = findConfigFile(process.cwd());
      return file !== null && (await loadGroupsConfig(file)).some((e) => e.baseTitle === name);
    } catch {
      return false;
    }
  }

  /** Every group of the config file, or only the one named `only`. */
  private async startConfig(background: boolean, only?: string): Promise<void> {
    for (const flag of ['workers', 'name'] as const) {
      if (this.hasParam(flag)) {
        throw new UsageError(`option ${flag === 'workers' ? '-w' : '--name'} needs a <script>`, {
          action: 'start',
          hint: 'a config file sets maxWorkerNum and baseTitle per group',
        });
      }
    }
    const file = await plainErrors(async () => findConfigFile(process.cwd()));
    if (file === null) {
      throw new UsageError(
        `missing argument [script] for 'start', and no drover.config.js, .mjs or .json in ${process.cwd()}`,
        { action: 'start', hint: 'give a script to run, or write a config file' },
      );
    }
    const all = await plainErrors(() => loadGroupsConfig(file));
    const entries = only === undefined ? all : all.filter((e) => e.baseTitle === only);
    const multi = new ManageMultiple();
    for (const entry of entries) multi.addManage(manageFromEntry(entry));
    if (background) multi.setBackground(true);
    const pid = await plainErrors(() =>
      multi.start().catch((error: unknown) => {
        throw only === undefined ? withStartByName(error, entries) : error;
      }),
    );
    if (launchedDaemon(background, pid)) {
      const names = entries.map((e) => `'${e.baseTitle}'`).join(', ');
      this.io.stdout.write(`started ${names} from ${file} in the background (pid ${pid})\n`);
    }
  }
}

/** Groups of the file run already: the error says how to start the others, by their names. */
function withStartByName(error: unknown, entries: readonly { baseTitle: string }[]): unknown {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'EALREADYRUNNING') return error;
  const others = entries
    .map((e) => e.baseTitle)
    .filter((name) => !error.message.includes(`'${name}' is already running`));
  if (others.length === 0) return error;
  return new DroverError(
    'EALREADYRUNNING',
    `${error.message}; to start only the other groups of the file, name each: ${others.map((n) => `drover start ${n}`).join(', ')}`,
  );
}

/**
 * True in the process that launched a daemon: `start()` resolves there with the daemon's pid. The
 * daemon runs this same command line and resolves with its own pid; its output goes to the log.
 */
function launchedDaemon(background: boolean, pid: number): boolean {
  return background && pid !== process.pid && pid > 0;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function checkScript(given: string, path: string): void {
  let file: boolean;
  try {
    file = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `script '${given}' does not exist (looked for ${path}); check the path`
        : `script '${given}' cannot be read (${code ?? String(error)}); check its permissions`,
    );
  }
  if (!file) throw new Error(`script '${given}' is not a file (${path}); give the script to run`);
}

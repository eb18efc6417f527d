import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Action, CommandAction, UsageError } from '@drover/command';
import { DroverError, Manage, ManageMultiple, scriptLaunch } from '@drover/core';
import {
  defaultRunDir,
  findConfigFile,
  type GroupEntry,
  isConfigFileName,
  isDaemonProcess,
  loadGroupsConfig,
  checkEntriesCanStart,
  manageFromEntry,
  noSuchGroupError,
  runningGroups,
} from '@drover/core/control';
import { plainErrors, withoutPrefix } from '../../messages.js';
import { startedElsewhereWarning } from '../groups.js';
import { GROUP_NAME, groupNameFromScript } from '../names.js';
import { GROUP_OPTION_FLAGS, type GroupFlagOptions } from '../options.js';

interface StartParams extends GroupFlagOptions {
  workers: number;
  background: boolean;
  name: string;
}

const GROUP_OPTION_KEYS = Object.keys(GROUP_OPTION_FLAGS) as (keyof GroupFlagOptions)[];

@Action({
  name: 'start',
  description:
    'Run a script in supervised workers, or the groups of a config file (./drover.config.{js,mjs,json}, or the one given)',
  args: {
    script:
      'File to run (a script exporting init/work runs in the execution loop, any other runs as it is); a config file (drover.config.{js,mjs,cjs,json}, in any directory) to start its groups; or the name of one group of ./drover.config.*',
    args: "Arguments for the script, or after a config file the name of one of its groups; after '--' when they start with '-'",
  },
})
export class StartAction extends CommandAction<StartParams, { script?: string; args: string[] }> {
  async handler(): Promise<void> {
    const background = this.getParam('background', false);
    if (this.args.script === undefined) return this.startConfig(background);
    const script = resolve(this.args.script);
    if (isConfigFileName(script) && isFile(script)) {
      // PM2's `pm2 start ecosystem.config.js`: the file's groups, not the file run as a script
      const [only, ...more] = this.args.args;
      if (more.length > 0) {
        throw new UsageError(
          `a config file takes one group name after it, not ${this.args.args.length} (${this.args.args.join(' ')})`,
          {
            action: 'start',
            hint: `start one group: drover start ${this.args.script} <group>; or every group of the file: drover start ${this.args.script}`,
          },
        );
      }
      return this.startConfig(background, only, script);
    }
    if (!isFile(script) && this.args.args.length === 0) {
      const group = await this.configGroupNamed(this.args.script);
      if (group === true) return this.startConfig(background, this.args.script);
      // a name that could be a group of a config file that cannot be read: say both
      if (group instanceof Error && !existsSync(script))
        throw new Error(
          `script '${this.args.script}' does not exist, and the config file cannot be read to look for a group of that name: ${(withoutPrefix(group) as Error).message}`,
        );
      // a name, not a path, where a config file is: a group it does not have
      if (
        group !== false &&
        !(group instanceof Error) &&
        !existsSync(script) &&
        looksLikeName(this.args.script)
      )
        throw withoutPrefix(
          noSuchGroupError(group.file, group.entries, this.args.script, {
            notScript: script,
          }),
        );
    }
    if (!background && this.hasParam('logDir')) {
      // in the foreground the log goes to the terminal: a log directory would stay empty
      throw new UsageError(
        'option --log-dir needs -d: a group in the foreground writes its log to the terminal',
        {
          action: 'start',
          hint: 'add -d to run it in the background, where it logs to a file; in the foreground, redirect its output instead (> app.log)',
        },
      );
    }
    checkScript(this.args.script, script);
    const name = this.getParam('name') ?? groupNameFromScript(script);
    // a daemon runs this same command line: it reads the same flags again
    const manage = new Manage(
      { baseTitle: name, maxWorkerNum: this.getParam('workers', 1), ...this.groupOptions() },
      { launch: scriptLaunch(script, this.args.args) },
    );
    if (background) manage.setBackground(true);
    this.warnRunsElsewhere([name], [name]);
    const pid = await plainErrors(() => manage.start());
    if (launchedDaemon(background, pid))
      this.io.stdout.write(`started '${name}' in the background (pid ${pid}); log: ${manage.logFile()}\n`);
  }

  /**
   * Warns, before the start, when a master of this user already runs one of `inDefault` with
   * another run directory, and this start uses the default one (DROVER_RUN_DIR unset: a shell that
   * lacks the variable of the group's service, as `sudo -u app drover start` has), and, for root,
   * when another user runs one of `names`. Not refused: separate run directories are separate
   * namespaces; but two copies of the group then run, and this shell's commands see only this one.
   * Said only by the process the user ran, never by a daemon, which runs this command line again.
   */
  private warnRunsElsewhere(inDefault: readonly string[], names: readonly string[]): void {
    if (isDaemonProcess()) return;
    const warning = startedElsewhereWarning(process.env.DROVER_RUN_DIR ? [] : inDefault, names);
    if (warning !== null) this.io.stderr.write(`${warning}\n`);
  }

  /** The group options given as flags (`--max-memory`, `--stop-timeout`, ...). */
  private groupOptions(): GroupFlagOptions {
    const options: Record<string, unknown> = {};
    for (const key of GROUP_OPTION_KEYS) if (this.hasParam(key)) options[key] = this.getParam(key);
    return options as GroupFlagOptions;
  }

  /**
   * True when `name` is a group of the config file here (PM2's `--only`); the file and its
   * groups when it has none of that name; false without a file; the error of a config file that
   * cannot be read.
   */
  private async configGroupNamed(
    name: string,
  ): Promise<boolean | { file: string; entries: GroupEntry[] } | Error> {
    try {
      const file = findConfigFile(process.cwd());
      if (file === null) return false;
      const entries = await loadGroupsConfig(file);
      return entries.some((e) => e.baseTitle === name) || { file, entries };
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /**
   * Every group of the config file (`given`, or the one in this directory), or only the one
   * named `only`.
   */
  private async startConfig(background: boolean, only?: string, given?: string): Promise<void> {
    const name = this.getParam('name');
    if (name !== undefined && isFile(resolve(name))) {
      // `drover start --name app.mjs`: the option took the script as its value
      throw new UsageError(`option --name took '${name}' as its value, so no script was given`, {
        action: 'start',
        hint: `give the group's name after it: drover start ${name} --name <name>`,
      });
    }
    for (const flag of ['workers', 'name'] as const) {
      if (this.hasParam(flag)) {
        throw new UsageError(`option ${flag === 'workers' ? '-w' : '--name'} needs a <script>`, {
          action: 'start',
          hint: 'a config file sets maxWorkerNum and baseTitle per group',
        });
      }
    }
    for (const key of GROUP_OPTION_KEYS) {
      if (this.hasParam(key)) {
        throw new UsageError(`option ${GROUP_OPTION_FLAGS[key]} needs a <script>`, {
          action: 'start',
          hint: `a config file sets it per group: put ${key}: ${JSON.stringify(this.getParam(key))} in ${only === undefined ? "the group's entry" : `the entry of '${only}'`}`,
        });
      }
    }
    const file = given ?? (await plainErrors(async () => findConfigFile(process.cwd())));
    if (file === null) {
      throw new UsageError(
        `missing argument [script] for 'start', and no drover.config.js, .mjs or .json in ${process.cwd()}`,
        { action: 'start', hint: 'give a script to run, or write a config file' },
      );
    }
    const all = await plainErrors(() => loadGroupsConfig(file));
    const entries = only === undefined ? all : all.filter((e) => e.baseTitle === only);
    if (entries.length === 0 && only !== undefined) {
      const start = given === undefined ? 'drover start' : `drover start ${this.args.script}`;
      throw withoutPrefix(noSuchGroupError(file, all, only, { start }));
    }
    // the process becomes the master of them all: `ps` and drover's scans of /proc know it by its title
    const multi = new ManageMultiple({ title: true });
    await plainErrors(async () => checkEntriesCanStart(entries));
    for (const entry of entries) multi.addManage(manageFromEntry(entry));
    if (background) multi.setBackground(true);
    // an entry with a runDir of its own chose its namespace
    const inDefault = entries.filter((e) => !e.runDir && !e.pidRoot).map((e) => e.baseTitle);
    this.warnRunsElsewhere(
      inDefault,
      entries.map((e) => e.baseTitle),
    );
    const pid = await plainErrors(() =>
      multi.start().catch(async (error: unknown) => {
        throw only === undefined ? await withStartByName(error, entries, background) : error;
      }),
    );
    if (launchedDaemon(background, pid)) {
      const names = entries.map((e) => `'${e.baseTitle}'`).join(', ');
      this.io.stdout.write(`started ${names} from ${file} in the background (pid ${pid})\n`);
    }
  }
}

/**
 * Groups of the file run already: the error says which, and how to start the others by name. (The
 * core's hint, to stop it or rename it, is for one group; here the file names every group.)
 */
async function withStartByName(
  error: unknown,
  entries: readonly GroupEntry[],
  background: boolean,
): Promise<unknown> {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'EALREADYRUNNING') return error;
  const dirs = new Set(entries.map((e) => e.runDir ?? e.pidRoot ?? defaultRunDir()));
  const names = entries.map((e) => e.baseTitle);
  // only the file's groups: what another group left is for a command about it to say
  const found = await Promise.all([...dirs].map((dir) => runningGroups(dir, names).catch(() => [])));
  const running = new Set(found.flat().map((g) => g.baseTitle));
  const up = names.filter((name) => running.has(name));
  const others = names.filter((name) => !running.has(name));
  if (up.length === 0) return error;
  const which = up.map((name) => `'${name}'`).join(', ');
  const fix =
    others.length === 0
      ? 'every group of the file runs; stop one first to start it again (drover stop <name>)'
      : `start the others by name: ${others.map((n) => `drover start ${n}${background ? ' -d' : ''}`).join('; ')}`;
  return new DroverError(
    'EALREADYRUNNING',
    `drover: ${which} of the config file ${up.length === 1 ? 'is' : 'are'} already running; ${fix}`,
  );
}

/**
 * True in the process that launched a daemon: `start()` resolves there with the daemon's pid. The
 * daemon runs this same command line and resolves with its own pid; its output goes to the log.
 */
function launchedDaemon(background: boolean, pid: number): boolean {
  return background && pid !== process.pid && pid > 0;
}

/** A word that reads as a group's name rather than a script's path: no directory, no script extension. */
function looksLikeName(word: string): boolean {
  return GROUP_NAME.test(word) && !/\.(c|m)?[jt]sx?$/.test(word);
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

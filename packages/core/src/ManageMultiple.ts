import { type BackgroundOptions, validateBackgroundOptions } from './daemon/options.js';
import { daemonRole } from './daemon/role.js';
import { ConfigError, DroverError, NotRunningError } from './errors.js';
import type { Logger } from './log/Logger.js';
import { type Manage, type ShowStatusOptions, writeStatus } from './Manage.js';
import type { ReloadResult, StopOutcome } from './master/events.js';
import type { EnvUpdate } from './master/workerEnv.js';
import type { GroupStatus } from './status.js';
import { masterSide } from './masterSide.js';
import { formatTitle, setOwnTitle } from './title.js';
import { currentRuntime } from './worker/current.js';

export interface ManageMultipleOptions {
  /** run directory of the groups that set none; default: each group's own default */
  runDir?: string;
  /** the logger of each group that was given none (default: terminal, or its log file in background mode) */
  logger?: (baseTitle: string) => Logger;
  /**
   * A process that runs several groups in the foreground takes their title
   * (`drover:Master:web,mailer`), as a background daemon does, so that `ps` and drover's scans of
   * `/proc` know it, when its command line leaves room for it (Linux writes a title over it).
   * Default false: a script's own process keeps the title it has.
   */
  title?: boolean;
}

/**
 * An environment update for every group (see `Manage.reload`): `env` replaces the environment
 * their workers start from; each group's own `env` still applies on top.
 */
export interface MultipleReloadOptions {
  env?: EnvUpdate['env'];
  /**
   * Each group's own `env` as this process configured it (its `ManageOptions.env`) replaces the
   * one its master has, as a config file's entry read again does: a script run again with a
   * changed `env` passes it on. Default false: the masters keep their groups' own `env`.
   */
  ownEnv?: boolean;
}

/** A reload result, with the group it belongs to. */
export type GroupReloadResult = ReloadResult & { baseTitle: string };
/** How one group's stop went (workers SIGKILLed at stopTimeout), with its name. */
export type GroupStopOutcome = StopOutcome & { baseTitle: string };

/**
 * Several named groups driven together. Each keeps its own lock, pid file, control socket and
 * log file; in the foreground all masters run in this process, with `setBackground()` in one
 * daemon. `start()` is all or nothing: if one group fails to start, the others are stopped.
 * `stop()`, `restart()`, `reload()` and `status()` reach each group here or through its socket,
 * and skip groups that are not running (rejecting only when none is). A group whose master ran
 * here and stopped (every worker finished, say) is not running: `reload()` and `restart()` leave
 * it out.
 */
export class ManageMultiple {
  private readonly groups = new Map<string, Manage>();
  private readonly options: ManageMultipleOptions;
  private background = false;
  private backgroundOptions: BackgroundOptions = {};

  constructor(opts: ManageMultipleOptions = {}) {
    if (opts === null || typeof opts !== 'object') {
      throw new ConfigError('options', opts, 'an object { runDir?, logger? }');
    }
    if (opts.runDir !== undefined && (typeof opts.runDir !== 'string' || opts.runDir === '')) {
      throw new ConfigError('runDir', opts.runDir, 'a directory path');
    }
    if (opts.logger !== undefined && typeof opts.logger !== 'function') {
      throw new ConfigError('logger', opts.logger, 'a function (baseTitle) => Logger');
    }
    this.options = opts;
  }

  /** Adds a group; its baseTitle must be new here. */
  addManage(manage: Manage): this {
    const name = manage.baseTitle;
    if (this.groups.has(name)) {
      throw new DroverError('EDUPLICATE', `drover: ManageMultiple already has a group named '${name}'`, {
        hint: 'give each group its own baseTitle',
      });
    }
    if (this.options.runDir !== undefined) manage.config.runDir ??= this.options.runDir;
    this.groups.set(name, manage);
    return this;
  }

  /** Forgets a group (a running one keeps running). Returns whether it was here. */
  removeManage(baseTitle: string): boolean {
    return this.groups.delete(baseTitle);
  }

  getManage(baseTitle: string): Manage | undefined {
    return this.groups.get(baseTitle);
  }

  /** The groups, in the order they were added. */
  list(): Manage[] {
    return [...this.groups.values()];
  }

  /** Runs every group's master in one daemon (see Manage.setBackground). */
  setBackground(on = true, opts: BackgroundOptions = {}): this {
    this.backgroundOptions = validateBackgroundOptions(opts);
    this.background = on;
    return this;
  }

  /**
   * Starts every group; resolves with the pid of the process that runs the masters (this one,
   * or the daemon). In a worker process it runs that worker's group and never resolves.
   */
  async start(): Promise<number> {
    const all = this.list();
    if (all.length === 0) {
      throw new DroverError('EINVAL', 'drover: ManageMultiple has no group to start', {
        hint: 'add groups with addManage() first',
      });
    }
    const runtime = currentRuntime();
    if (runtime) {
      const mine = this.groups.get(runtime.group);
      return mine ? mine.start() : 0;
    }
    const role = daemonRole();
    if (role.isDaemon)
      return this.startHere(
        all.filter((m) => role.groups.has(m.baseTitle)),
        true,
      );
    if (this.background) {
      const first = all[0] as Manage;
      const { startDaemon } = await masterSide();
      return startDaemon({
        title: formatTitle(first.config.titlePrefix, 'Master', all.map((m) => m.baseTitle).join(',')),
        groups: all.map((m) => m.daemonGroup()),
        ...this.backgroundOptions,
      });
    }
    return this.startHere(all, false);
  }

  private async startHere(groups: Manage[], fileLog: boolean): Promise<number> {
    const ownTitle = groups.length === 1;
    if (!ownTitle && this.options.title) {
      // a title cut to the room of the command line would name a group that is not there
      const before = process.title;
      const wanted = this.titleOf(groups.map((m) => m.baseTitle));
      if (setOwnTitle(wanted) !== wanted) setOwnTitle(before);
    }
    const outcomes = await Promise.allSettled(
      groups.map((m) => m.startMaster({ fileLog, ownTitle, logger: this.options.logger?.(m.baseTitle) })),
    );
    const failed = outcomes.findIndex((o) => o.status === 'rejected');
    if (failed === -1) {
      if (!ownTitle) this.retitleAsGroupsStop(groups);
      return process.pid;
    }
    // all or nothing: the groups that did start are stopped again
    await Promise.allSettled(
      groups.filter((_, i) => outcomes[i]?.status === 'fulfilled').map((m) => m.stop()),
    );
    throw (outcomes[failed] as PromiseRejectedResult).reason;
  }

  /**
   * The process's title names the groups it runs (`drover:Master:web,mailer`); once one of them
   * stops, while others go on, it is left out, or `ps` and `pkill -f drover:Master:mailer` would
   * find this process for a group that now runs elsewhere. Only a title of that form is changed.
   */
  private retitleAsGroupsStop(groups: Manage[]): void {
    let shown = this.titleOf(groups.map((m) => m.baseTitle));
    const retitle = () => {
      const running = groups.filter((m) => !m.stoppedHere).map((m) => m.baseTitle);
      if (running.length === 0 || process.title !== shown) return;
      shown = setOwnTitle(this.titleOf(running));
    };
    for (const m of groups) m.once('stop', retitle);
  }

  /** `drover:Master:web,mailer`, with the title prefix of the first group. */
  private titleOf(names: readonly string[]): string {
    const [first] = this.groups.values();
    return formatTitle((first as Manage).config.titlePrefix, 'Master', names.join(','));
  }

  /** Graceful stop of every running group; resolves with how each one's stop went, in order. */
  async stop(): Promise<GroupStopOutcome[]> {
    return this.eachRunning((m) => m.stop());
  }

  /**
   * Stops every running group's workers, then starts them again (with `env`, see
   * MultipleReloadOptions); resolves with how each one's stop went, in order.
   */
  async restart(opts: MultipleReloadOptions = {}): Promise<GroupStopOutcome[]> {
    return this.eachRunning((m) => (m.stoppedHere ? notRunning(m) : m.restart(envUpdateFor(m, opts))));
  }

  /** Rolling reload of every running group, one group after another (with `env`, see MultipleReloadOptions). */
  async reload(opts: MultipleReloadOptions = {}): Promise<GroupReloadResult[]> {
    const results: GroupReloadResult[] = [];
    let running = 0;
    for (const m of this.list()) {
      // its master ran here and has stopped: no reload to report, nor to fail
      if (m.stoppedHere) continue;
      try {
        results.push({ baseTitle: m.baseTitle, ...(await m.reload(envUpdateFor(m, opts))) });
        running++;
      } catch (err) {
        if (!isNotRunning(err)) throw err;
      }
    }
    if (running === 0) throw this.noneRunning();
    return results;
  }

  /** Status of every running group, in the order they were added; [] when none runs. */
  async status(): Promise<GroupStatus[]> {
    const outcomes = await Promise.allSettled(this.list().map((m) => m.status()));
    const found: GroupStatus[] = [];
    for (const o of outcomes) {
      if (o.status === 'fulfilled') found.push(o.value);
      else if (!isNotRunning(o.reason)) throw o.reason;
    }
    return found;
  }

  /**
   * Writes every running group's status to `out` (default stdout): the table, or a JSON array;
   * resolves with the statuses it wrote.
   */
  async showStatus(
    out: NodeJS.WritableStream = process.stdout,
    opts: ShowStatusOptions = {},
  ): Promise<GroupStatus[]> {
    const groups = await this.status();
    await writeStatus(out, groups, opts, groups);
    return groups;
  }

  /** Runs `op` on every group at once; groups that are not running are skipped. */
  private async eachRunning(op: (m: Manage) => Promise<StopOutcome>): Promise<GroupStopOutcome[]> {
    const groups = this.list();
    const outcomes = await Promise.allSettled(groups.map(op));
    const done: GroupStopOutcome[] = [];
    const failures: unknown[] = [];
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 'fulfilled') done.push({ baseTitle: (groups[i] as Manage).baseTitle, ...o.value });
      else if (!isNotRunning(o.reason)) failures.push(o.reason);
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw groupsFailed(failures);
    if (done.length === 0) throw this.noneRunning();
    return done;
  }

  private noneRunning(): DroverError {
    const names = this.list().map((m) => `'${m.baseTitle}'`);
    if (names.length === 1) return new NotRunningError(this.list()[0]?.baseTitle as string);
    return new DroverError('ENOTRUNNING', `drover: none of the groups ${names.join(', ')} is running`, {
      hint: "start them first ('start')",
    });
  }
}

/** The update of one group: nothing but the environment, which `ownEnv` completes with its own `env`. */
function envUpdateFor(m: Manage, opts: MultipleReloadOptions): EnvUpdate {
  return {
    ...(opts?.env !== undefined ? { env: opts.env } : {}),
    ...(opts?.ownEnv ? { configEnv: m.config.env } : {}),
  };
}

/** What a group that is not running answers; eachRunning skips it. */
function notRunning(m: Manage): Promise<never> {
  return Promise.reject(new NotRunningError(m.baseTitle));
}

function isNotRunning(err: unknown): boolean {
  return (err as DroverError)?.code === 'ENOTRUNNING';
}

/** Several groups failed one operation: one error that says each of them, not only the first. */
function groupsFailed(failures: unknown[]): DroverError {
  const first = failures[0];
  const each = failures.map((f) => (f instanceof Error ? f.message : String(f)).replace(/^drover: /, ''));
  return new DroverError(
    first instanceof DroverError ? first.code : 'EFAILED',
    `drover: ${failures.length} groups failed: ${each.join(' | ')}`,
    { cause: new AggregateError(failures) },
  );
}

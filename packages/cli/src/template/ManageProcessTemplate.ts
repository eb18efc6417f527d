import {
  Action,
  type CommandIO,
  type CommandOption,
  CommandAction,
  CommandRouter,
  Option,
  type ParamTarget,
  runMain,
  Template,
} from '@drover/command';
import type { GroupStatus } from '@drover/core';
import { colorWanted, describeDegraded } from '@drover/core/control';
import { Container, inject } from 'inversify';
import { describeEnvChange, plainErrors, reloadOutcome, reloadStopped, shellEnv } from '../messages.js';
import { type ManagedGroups, type ProcessTarget, processTarget } from './ProcessTarget.js';

const TARGET = Symbol.for('@drover/cli:ProcessTarget');
/** The program name messages start with (`CommandRouter.spec.bin`). */
const BIN = Symbol.for('@drover/cli:ProcessTemplateBin');

@Option({
  name: 'd',
  long: 'daemon',
  description: 'Run in the background; returns once every worker is ready and prints the pid',
  value: 'none',
})
class DaemonOption implements CommandOption<{ background: boolean }> {
  impactAction(action: ParamTarget<{ background: boolean }>): void {
    action.setParam('background', true);
  }
}

@Option({ name: 'json', description: 'Print the status as JSON', value: 'none' })
class JsonOption implements CommandOption<{ json: boolean }> {
  impactAction(action: ParamTarget<{ json: boolean }>): void {
    action.setParam('json', true);
  }
}

@Action({ name: 'start', description: 'Start the master and its workers (in a worker: run the work)' })
class StartAction extends CommandAction<{ background: boolean }> {
  constructor(@inject(TARGET) private readonly target: ProcessTarget) {
    super();
  }

  async handler(): Promise<void> {
    // The master re-runs this script with the same arguments for each worker: there, `start`
    // is the worker's side, whatever the flags.
    if (this.target.isWorker) {
      await this.target.start(false);
      return;
    }
    const background = this.getParam('background', false);
    const pid = await plainErrors(() => this.target.start(background));
    // The daemon runs this same command line and resolves with its own pid: it prints nothing.
    if (background && pid !== process.pid && pid > 0) {
      const log = this.target.logFile();
      this.io.stdout.write(
        `started ${this.target.label} in the background (pid ${pid})${log ? `; log: ${log}` : ''}\n`,
      );
    }
  }
}

@Action({ name: 'stop', description: 'Stop the running master and its workers gracefully' })
class StopAction extends CommandAction {
  constructor(@inject(TARGET) private readonly target: ProcessTarget) {
    super();
  }

  async handler(): Promise<void> {
    const killed = await plainErrors(() => this.target.stop());
    this.io.stdout.write(`stopped ${this.target.label}${killed}\n`);
  }
}

interface UpdateEnvParams {
  updateEnv: boolean;
}

@Option({
  name: 'update-env',
  description:
    "New workers get this shell's environment and the script's own env option as it is now, in place of the ones the group has",
  value: 'none',
})
class UpdateEnvOption implements CommandOption<UpdateEnvParams> {
  impactAction(action: ParamTarget<UpdateEnvParams>): void {
    action.setParam('updateEnv', true);
  }
}

/** `restart` and `reload`, with `--update-env` (as `drover reload <name> --update-env`). */
abstract class RenewAction extends CommandAction<UpdateEnvParams> {
  constructor(@inject(TARGET) protected readonly target: ProcessTarget) {
    super();
  }

  /** The environment `--update-env` hands the new workers; undefined without it. */
  protected newEnv(): Record<string, string> | undefined {
    return this.getParam('updateEnv', false) ? shellEnv() : undefined;
  }

  /** `, with the environment of this shell (changed FOO)`: what the masters kept of the update. */
  protected async saidOfEnv(): Promise<string> {
    const groups = await this.target.statuses().catch(() => []);
    const changes = groups.map((g) => describeEnvChange(g.master.envUpdate));
    const names =
      groups.length === 1
        ? changes[0]!
        : groups.length > 1
          ? `: ${groups.map((g, i) => `'${g.master.baseTitle}'${changes[i]}`).join(', ')}`
          : '';
    return `, with the environment of this shell and the script's own env${names}`;
  }
}

@Action({ name: 'restart', description: 'Stop every worker, then start them all again' })
class RestartAction extends RenewAction {
  async handler(): Promise<void> {
    const env = this.newEnv();
    const killed = await plainErrors(() => this.target.restart(env));
    const said = env ? await this.saidOfEnv() : '';
    this.io.stdout.write(`restarted the workers of ${this.target.label}${said}${killed}\n`);
  }
}

@Action({ name: 'reload', description: 'Replace the workers one by one, each once its successor is ready' })
class ReloadAction extends RenewAction {
  async handler(): Promise<void> {
    const env = this.newEnv();
    const results = await plainErrors(() => this.target.reload(env));
    const replaced = results.reduce((sum, r) => sum + r.replaced, 0);
    const failed = results.find((r) => r.aborted);
    if (failed) throw reloadStopped(this.target.label, replaced, failed.error, env !== undefined);
    const outcome = reloadOutcome(this.target.label, results, env ? await this.saidOfEnv() : '');
    if (outcome.failure) throw outcome.failure;
    this.io.stdout.write(`${outcome.line}\n`);
  }
}

@Action({ name: 'status', description: 'Show the master and every worker' })
class StatusAction extends CommandAction<{ json: boolean }> {
  constructor(
    @inject(TARGET) private readonly target: ProcessTarget,
    @inject(BIN) private readonly bin: string,
  ) {
    super();
  }

  /** Exits 3 when a PIN has no worker (crash-looping or given up), as `drover status` does. */
  async handler(): Promise<number> {
    const json = this.getParam('json', false);
    const groups: GroupStatus[] = await plainErrors(() =>
      this.target.showStatus(this.io.stdout, {
        json,
        color: !json && colorWanted(this.io.stdout, this.io.env),
      }),
    );
    let code = 0;
    for (const group of groups) {
      const degraded = describeDegraded(group);
      if (degraded === null) continue;
      this.io.stderr.write(`${this.bin}: ${degraded}\n`);
      code = DEGRADED_EXIT_CODE;
    }
    return code;
  }
}

/** `status`'s exit code when a group has a PIN that no worker serves. */
const DEGRADED_EXIT_CODE = 3;

@Template(
  `<start> -[d]
   <stop>
   <restart|reload> -[update-env]
   <status> -[json]`,
  { description: 'Controls this script as a supervised group of workers.' },
)
class ProcessTemplate {}

export interface ManageProcessTemplateOptions {
  /** Program name in usage lines and messages; default: the script's file name. */
  bin?: string;
}

/**
 * A ready command line for a script that runs its own group:
 * `node app.mjs <start|stop|restart|reload|status> [-d] [--update-env] [--json]`.
 *
 * ```js
 * const manage = new Manage({ baseTitle: 'mailer', maxWorkerNum: 4 }).setWork(sendOne);
 * await new ManageProcessTemplate(manage).runMain();
 * ```
 *
 * `start` runs the master here (`-d`: in the background, returning once it is ready); in the
 * worker processes the master starts from the same script, `start` runs the worker side. The
 * other actions reach the running master through its control socket. Exit codes: 0 success,
 * 1 failure (e.g. not running), 2 usage error, 3 `status` of a group with a PIN no worker serves
 * (crash-looping or given up).
 */
export class ManageProcessTemplate {
  readonly router: CommandRouter;

  constructor(groups: ManagedGroups, options: ManageProcessTemplateOptions = {}) {
    const container = new Container();
    container.bind<ProcessTarget>(TARGET).toConstantValue(processTarget(groups));
    this.router = new CommandRouter(container, {
      template: ProcessTemplate,
      actions: [StartAction, StopAction, RestartAction, ReloadAction, StatusAction],
      options: [DaemonOption, JsonOption, UpdateEnvOption],
      bin: options.bin,
      // drover's errors tell their causes in their message; the causes stay behind DEBUG
      showCauses: false,
    });
    container.bind<string>(BIN).toConstantValue(this.router.spec.bin);
  }

  /** Runs one command line; resolves with its exit code and never exits the process. */
  run(argv: readonly string[] = process.argv.slice(2), io?: CommandIO): Promise<number> {
    return this.router.run(argv, io);
  }

  /** Like `run`, and sets `process.exitCode` to the result, for a script's main line. */
  runMain(argv: readonly string[] = process.argv.slice(2), io?: CommandIO): Promise<number> {
    return runMain(this.router, argv, io);
  }
}

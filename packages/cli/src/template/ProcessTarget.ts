import type { OutputStream } from '@drover/command';
import {
  type GroupStatus,
  Manage,
  type ManageMultiple,
  type ReloadResult,
  stopKillsNote,
} from '@drover/core';

/** What the process template drives: one `Manage`, or several groups in a `ManageMultiple`. */
export type ManagedGroups = Manage | ManageMultiple;

/** The operations of the template's actions, the same for one group and for several. */
export interface ProcessTarget {
  /** `'mailer'`, or `'a', 'b'`: how messages name the groups. */
  readonly label: string;
  /** The log file (of the first group, for several), for the message after a background start. */
  logFile(): string | undefined;
  /** True in a worker process started for one of the groups. */
  readonly isWorker: boolean;
  /** Resolves with the pid of the process that runs the masters: this one, or the daemon. */
  start(background: boolean): Promise<number>;
  /** Resolves with what the success line adds: the workers SIGKILLed at stopTimeout, or ''. */
  stop(): Promise<string>;
  /**
   * With `env`: the new workers, and every later one, start from it and the groups' own `env` as
   * this script has it now. Resolves as stop does.
   */
  restart(env?: Record<string, string>): Promise<string>;
  reload(env?: Record<string, string>): Promise<ReloadResult[]>;
  /** The status of each running group, without writing it. */
  statuses(): Promise<GroupStatus[]>;
  /** Writes the status and resolves with what it showed. */
  showStatus(out: OutputStream, opts: { json: boolean; color: boolean }): Promise<GroupStatus[]>;
}

export function processTarget(groups: ManagedGroups): ProcessTarget {
  return groups instanceof Manage ? single(groups) : multiple(groups);
}

function single(manage: Manage): ProcessTarget {
  return {
    label: `'${manage.baseTitle}'`,
    logFile: () => manage.logFile(),
    get isWorker() {
      return manage.isWorker;
    },
    start: (background) => {
      if (background) manage.setBackground(true);
      return manage.start();
    },
    stop: async () => stopKillsNote(await manage.stop()),
    restart: async (env) =>
      stopKillsNote(await manage.restart(env ? { env, configEnv: manage.config.env } : {})),
    reload: async (env) => [await manage.reload(env ? { env, configEnv: manage.config.env } : {})],
    statuses: async () => [await manage.status()],
    showStatus: async (out, opts) => [await manage.showStatus(writable(out), opts)],
  };
}

function multiple(multi: ManageMultiple): ProcessTarget {
  const names = () => multi.list().map((m) => m.baseTitle);
  return {
    get label() {
      return names()
        .map((n) => `'${n}'`)
        .join(', ');
    },
    logFile: () => {
      const first = names()[0];
      return first === undefined ? undefined : multi.getManage(first)?.logFile();
    },
    get isWorker() {
      return multi.list().some((m) => m.isWorker);
    },
    start: (background) => {
      if (background) multi.setBackground(true);
      return multi.start();
    },
    stop: async () => killsOf(await multi.stop()),
    restart: async (env) => killsOf(await multi.restart(env ? { env, ownEnv: true } : {})),
    reload: (env) => multi.reload(env ? { env, ownEnv: true } : {}),
    statuses: () => multi.status(),
    showStatus: (out, opts) => multi.showStatus(writable(out), opts),
  };
}

/** `; 'a': 2 worker(s) did not finish within stopTimeout 10s and were killed`, per group that had any. */
function killsOf(outcomes: readonly (Parameters<typeof stopKillsNote>[0] & { baseTitle: string })[]): string {
  return outcomes
    .map((o) => {
      const note = stopKillsNote(o);
      return note && `; '${o.baseTitle}': ${note.slice(2)}`;
    })
    .join('');
}

/**
 * Core writes a status with `write(text, callback)` and waits for the callback; a command's
 * output stream only promises `write(text)`, so the callback runs once the text was handed over.
 */
function writable(out: OutputStream): NodeJS.WritableStream {
  const stream = {
    columns: out.columns,
    isTTY: out.isTTY,
    write(text: string, callback?: (error?: Error | null) => void): boolean {
      out.write(text);
      callback?.(null);
      return true;
    },
  };
  return stream as unknown as NodeJS.WritableStream;
}

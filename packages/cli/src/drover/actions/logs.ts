import { setTimeout as delay } from 'node:timers/promises';
import { Action, CommandAction, type OutputStream, UsageError } from '@drover/command';
import { escapeControl, type TailOptions, tailLog } from '@drover/core/control';
import { withoutPrefix } from '../../messages.js';
import { ALL, type ErrorStream, listRunning } from '../groups.js';
import { checkLogFile, configuredLogFile, defaultLogFile, ROTATION_GAP_MS } from '../logFile.js';
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
    if (name === ALL) await refuseAll(this.io.stderr);
    // asked only for a group that does not run: the master of one that runs says where it logs
    let configured: Promise<string> | undefined;
    const stopped = () => {
      configured ??= this.stoppedLogFile(name);
      return configured;
    };
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
      const lines = tailGroupLog(name, stopped, this.io.stderr, {
        lines: this.getParam('lines', DEFAULT_LINES),
        follow,
        signal: stop.signal,
        rotated: true,
      });
      // on a terminal, what a line holds beyond drover's own escaped records (the daemon's raw
      // output) cannot set the title, clear the screen or move the cursor
      const shown = out.isTTY ? escapeControl : (text: string) => text;
      for await (const line of lines) {
        if (stop.signal.aborted) break;
        out.write(`${shown(line.endsWith('\n') ? line.slice(0, -1) : line)}\n`);
      }
    } catch (error) {
      if (!stop.signal.aborted) throw withoutPrefix(error);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      out.off?.('error', onOutputError);
    }
  }

  /**
   * The log file of a group that does not run: the one its entry in this directory's config file
   * sets, else the default. A config file that cannot be read (a JSON error halfway through an
   * edit) hides nothing: the default is read, and a warning says why the file was not.
   */
  private async stoppedLogFile(name: string): Promise<string> {
    try {
      return await configuredLogFile(name);
    } catch (error) {
      const fallback = defaultLogFile(name);
      const why = (withoutPrefix(error) as Error).message ?? String(error);
      this.io.stderr.write(
        `drover: warning: the config file of this directory cannot be read to find the log file of '${name}' (${why}); reading the default one, ${fallback}\n`,
      );
      return fallback;
    }
  }
}

/**
 * `drover logs all`, as `stop all` reads: logs follows one group's file. The error names the
 * running groups (a group that is itself named 'all' is shown).
 */
async function refuseAll(stderr: ErrorStream): Promise<void> {
  const running = (await listRunning(stderr).catch(() => [])).map((g) => g.baseTitle);
  if (running.includes(ALL)) return;
  throw new UsageError("logs takes the name of one group, not 'all'", {
    action: 'logs',
    hint:
      running.length === 0
        ? 'no group is running; give the name of a group that wrote a log file (drover logs <name>)'
        : `running: ${running.join(', ')}; e.g. drover logs ${running[0]}${running.length > 1 ? ` (one command per group, e.g. in separate terminals with -f)` : ''}`,
  });
}

/**
 * tailLog of the group's log file (checkLogFile). A rotation may rename the file away between
 * the check and the open: the check is made again, until the file is there or ROTATION_GAP_MS
 * have passed.
 */
async function* tailGroupLog(
  name: string,
  stopped: () => Promise<string>,
  stderr: ErrorStream,
  opts: TailOptions,
): AsyncGenerator<string> {
  const deadline = Date.now() + ROTATION_GAP_MS;
  for (;;) {
    const lines = tailLog(await checkLogFile(name, stopped, deadline, stderr), opts);
    let first: IteratorResult<string>;
    try {
      first = await lines.next();
    } catch (error) {
      const missing = ((error as { cause?: NodeJS.ErrnoException }).cause?.code ?? '') === 'ENOENT';
      if (!missing || Date.now() >= deadline) throw error;
      await delay(20);
      continue;
    }
    try {
      if (first.done) return;
      yield first.value;
      yield* lines;
    } finally {
      await lines.return(undefined);
    }
    return;
  }
}

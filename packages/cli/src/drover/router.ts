import { CommandRouter, Template } from '@drover/command';
import { Container } from 'inversify';
import { LogsAction } from './actions/logs.js';
import { ReloadAction, RestartAction, ScaleAction, StopAction, UpdateEnvOption } from './actions/control.js';
import { StartAction } from './actions/start.js';
import { StatusAction } from './actions/status.js';
import { CLI_VERSION } from '../version.js';
import {
  DaemonOption,
  FollowOption,
  HangTimeoutOption,
  JsonOption,
  LinesOption,
  LogDirOption,
  MaxMemoryOption,
  NameOption,
  NodeArgsOption,
  ReadyTimeoutOption,
  ReadyWhenOption,
  StopTimeoutOption,
  WorkersOption,
} from './options.js';

@Template(
  `<start> [script] [args...] -[w] -[d] -[name] -[max-memory] -[ready-when] -[ready-timeout] -[stop-timeout] -[hang-timeout] -[node-args] -[log-dir]
   <stop> <name>
   <restart|reload> <name> -[update-env]
   <status> [name] -[json]
   <scale> <name> <count>
   <logs> <name> -[f] -[n]`,
  {
    bin: 'drover',
    description:
      'Runs a Node.js script as a supervised group of workers, and controls running groups from any shell. ' +
      "Without a script, 'start' starts every group of ./drover.config.js, .mjs or .json. " +
      'Groups are found in DROVER_RUN_DIR (default: $XDG_RUNTIME_DIR/drover, else <tmpdir>/drover-<uid>): ' +
      'give every command the same one. Exit codes: 0 success, 1 failure, 2 usage error, ' +
      "3 'status' of a degraded group (a PIN crash-loops, was given up or is stopped by a signal).",
    version: CLI_VERSION,
  },
)
export class DroverTemplate {}

/** The `drover` command line. */
export function createDroverRouter(container = new Container()): CommandRouter {
  return new CommandRouter(container, {
    // drover's errors tell their causes in their message; the causes stay behind DEBUG
    showCauses: false,
    template: DroverTemplate,
    actions: [StartAction, StopAction, RestartAction, ReloadAction, StatusAction, ScaleAction, LogsAction],
    options: [
      WorkersOption,
      DaemonOption,
      NameOption,
      MaxMemoryOption,
      ReadyWhenOption,
      ReadyTimeoutOption,
      StopTimeoutOption,
      HangTimeoutOption,
      NodeArgsOption,
      LogDirOption,
      UpdateEnvOption,
      JsonOption,
      FollowOption,
      LinesOption,
    ],
  });
}

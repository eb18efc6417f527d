/** What `status` tells of a group besides its processes: what it runs and with which options. */
import { resolve } from 'node:path';
import type { ManageConfig } from '../config.js';
import type { GroupSource } from '../control/protocol.js';
import type { GroupOptionsStatus, RunStatus } from '../status.js';
import { withoutTitleOption } from '../title.js';
import type { LaunchSpec } from './launch.js';

/** `MasterStatus.run`: the workers' main module, arguments, directory and Node options. */
export function runStatus(
  launch: LaunchSpec,
  config: ManageConfig,
  extra: { source?: GroupSource; logFile?: string } = {},
): RunStatus {
  return {
    script: launch.exec,
    mode: launch.script ? 'script' : 'entry',
    args: [...launch.args],
    // cluster.fork() resolves a relative cwd against the master's, as resolve() does
    cwd: resolve(config.cwd ?? '.'),
    // what spawn() gives every worker, without the options drover adds for itself
    execArgv: [...withoutTitleOption(process.execArgv), ...config.execArgv],
    ...(extra.source ? { source: { file: extra.source.file, entry: extra.source.entry } } : {}),
    ...(extra.logFile ? { logFile: extra.logFile } : {}),
  };
}

/** `MasterStatus.options`: the resolved values, JSON-safe (`maxRestarts` Infinity is null). */
export function optionsStatus(config: ManageConfig): GroupOptionsStatus {
  const { restart } = config;
  return {
    maxMemory: config.maxMemory,
    readyWhen: config.readyWhen,
    readyTimeout: config.readyTimeout,
    stopTimeout: config.stopTimeout,
    hangTimeout: config.hangTimeout,
    executeTimes: config.executeTimes,
    limitSeconds: config.limitSeconds,
    recycleJitter: config.recycleJitter,
    restart: {
      initialDelayMs: restart.initialDelayMs,
      maxDelayMs: restart.maxDelayMs,
      factor: restart.factor,
      stableAfterMs: restart.stableAfterMs,
      maxRestarts: Number.isFinite(restart.maxRestarts) ? restart.maxRestarts : null,
    },
    normalExitCode: config.normalExitCode,
    ...(config.user !== undefined ? { user: config.user } : {}),
    ...(config.group !== undefined ? { group: config.group } : {}),
  };
}

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FIXTURES,
  pidAlive,
  type RunningGroup,
  startFixture,
  tempDir,
  waitAllDead,
} from '../../support/group.js';

const CASE_VAR = 'DROVER_TEST_CASE';

/**
 * One test's world: a private run dir and a tag in the environment of every process it starts.
 * Daemons leave the launcher's process tree, so cleanup finds them (and their workers) by the tag.
 */
export class DaemonCase {
  readonly tag = randomUUID();
  readonly runDir: string;
  private readonly removeDir: () => void;

  constructor() {
    const { dir, cleanup } = tempDir('drover-bg-');
    this.runDir = dir;
    this.removeDir = cleanup;
  }

  /** The fixture group's GROUP_CONFIG, in this case's run dir. */
  config(extra: Record<string, unknown> = {}): Record<string, string> {
    return { GROUP_CONFIG: JSON.stringify({ runDir: this.runDir, ...extra }) };
  }

  get env(): Record<string, string> {
    return { [CASE_VAR]: this.tag };
  }

  /** Runs a launcher fixture and waits for it to exit; returns its output and the daemon pid it printed. */
  async launch(
    fixture: string,
    env: Record<string, string>,
    timeoutMs = 60_000,
  ): Promise<{ code: number | null; output: string; pid: number | null; group: RunningGroup }> {
    const group = startFixture(fixture, { env: { ...this.env, ...env } });
    const exit = await group.waitExit(timeoutMs);
    const started = /STARTED (\d+)/.exec(group.output);
    return { code: exit.code, output: group.output, pid: started ? Number(started[1]) : null, group };
  }

  /** Runs `remote.mjs` (the public API from another process) against a group of this case. */
  remote(
    baseTitle: string,
    command: string,
    argument?: string,
    opts: RemoteOptions = {},
  ): Promise<RemoteResult> {
    return runRemote(opts.runDir ?? this.runDir, baseTitle, command, argument, { ...opts, env: this.env });
  }

  /** Pids of live processes started for this case. */
  processes(): number[] {
    return taggedPids(this.tag);
  }

  /** Kills every process of this case (daemons, workers, reapers) and removes the run dir. */
  async cleanup(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const pids = this.processes();
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await waitAllDead(pids, 5000).catch(() => {});
    }
    this.removeDir();
  }
}

export interface RemoteOptions {
  runDir?: string;
  uid?: number;
  gid?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export type RemoteResult =
  | { ok: true; value: unknown; output: string }
  | { ok: false; code: string; message: string; output: string };

export function runRemote(
  runDir: string,
  baseTitle: string,
  command: string,
  argument: string | undefined,
  opts: RemoteOptions = {},
): Promise<RemoteResult> {
  const args = [
    join(FIXTURES, 'control/remote.mjs'),
    runDir,
    baseTitle,
    command,
    ...(argument ? [argument] : []),
  ];
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...opts.env };
  if (opts.uid !== undefined) {
    // another user's own default run dir: nothing inherited from this one
    delete env.DROVER_RUN_DIR;
    delete env.XDG_RUNTIME_DIR;
  }
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: opts.uid,
    gid: opts.gid,
    cwd: '/',
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`remote ${command} did not finish within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      const result = /^RESULT (.*)$/m.exec(output);
      const error = /^ERROR (.*)$/m.exec(output);
      if (result) resolve({ ok: true, value: JSON.parse(result[1] as string), output });
      else if (error)
        resolve({
          ok: false,
          ...(JSON.parse(error[1] as string) as { code: string; message: string }),
          output,
        });
      else reject(new Error(`remote ${command} printed no result:\n${output}`));
    });
  });
}

export function taggedPids(tag: string): number[] {
  const marker = `${CASE_VAR}=${tag}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!pidAlive(pid)) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) found.push(pid);
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

/** A field of `/proc/<pid>/status`, e.g. `Umask`. */
export function procStatus(pid: number, field: string): string | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'latin1')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return line ? line.slice(field.length + 1).trim() : null;
  } catch {
    return null;
  }
}

/** Session id and process group of `pid` from `/proc/<pid>/stat`. */
export function sessionOf(pid: number): { pgid: number; sid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pgid: Number(rest[2]), sid: Number(rest[3]) };
  } catch {
    return null;
  }
}

/** uid and gid of a local account, from /etc/passwd. */
export function account(name: string): { uid: number; gid: number } | null {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

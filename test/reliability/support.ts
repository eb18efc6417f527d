import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GroupStatus, Manage } from '@drover/core';
import { afterEach, expect } from 'vitest';
import {
  FIXTURES,
  type FixtureEvent,
  pidAlive,
  RunningGroup,
  tempDir,
  waitAllDead,
} from '../support/group.js';

export const RELIABILITY_FIXTURES = join(FIXTURES, 'reliability');

export interface GroupSpec {
  /** the group's baseTitle */
  name: string;
  /** ManageOptions besides baseTitle and runDir */
  config?: Record<string, unknown>;
  /** what each execution does (see test/fixtures/reliability/group.mjs) */
  behaviour?: Record<string, unknown>;
  /** plain-script mode: workers run this script */
  script?: string;
  scriptArgs?: string[];
  /** arguments of the master (and so of self-launched workers) */
  args?: string[];
  /** log to files in this directory, as background mode does */
  logDir?: string;
  logRotation?: Record<string, unknown> | false;
  /** run the master under `prlimit` with these options, e.g. ['--nofile=64'] */
  prlimit?: string[];
  /** run the master as this user */
  uid?: number;
  gid?: number;
  /** a run dir to use instead of a fresh private one */
  runDir?: string;
}

export interface TestGroup {
  group: RunningGroup;
  name: string;
  runDir: string;
  /** status through the control socket, as any other process would ask */
  status(): Promise<GroupStatus>;
  /** SIGKILLs the master if it is still up, waits for every worker it ever had, removes the run dir */
  cleanup(): Promise<void>;
}

/** Starts test/fixtures/reliability/group.mjs as a master in a private run dir. */
export function startGroup(spec: GroupSpec): TestGroup {
  const own = spec.runDir ? null : tempDir('drover-rel-');
  const runDir = spec.runDir ?? own!.dir;
  const env: Record<string, string> = {
    ...process.env,
    NO_COLOR: '1',
    GROUP_CONFIG: JSON.stringify({ baseTitle: spec.name, runDir, ...spec.config }),
    WORKER_BEHAVIOUR: JSON.stringify(spec.behaviour ?? {}),
  } as Record<string, string>;
  if (spec.script) {
    env.SCRIPT = spec.script;
    env.SCRIPT_ARGS = JSON.stringify(spec.scriptArgs ?? []);
  }
  if (spec.logDir) env.LOG_DIR = spec.logDir;
  if (spec.logRotation !== undefined) env.LOG_ROTATION = JSON.stringify(spec.logRotation);
  const node = [
    `--title=drover:Master:${spec.name}`,
    join(RELIABILITY_FIXTURES, 'group.mjs'),
    ...(spec.args ?? []),
  ];
  const [command, argv] = spec.prlimit
    ? ['prlimit', [...spec.prlimit, process.execPath, ...node]]
    : [process.execPath, node];
  const proc = spawn(command, argv, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: spec.uid,
    gid: spec.gid,
  });
  const group = new RunningGroup(proc);
  const client = new Manage({ baseTitle: spec.name, runDir });
  return {
    group,
    name: spec.name,
    runDir,
    status: () => client.status(),
    cleanup: async () => {
      await group.kill();
      await waitAllDead(workerPids(group), 5000);
      own?.cleanup();
    },
  };
}

/** Every worker pid the master reported starting. */
export function workerPids(group: RunningGroup): number[] {
  return group.events.filter((e) => e.event === 'workerStart').map((e) => e.pid as number);
}

export const is =
  (event: string, extra: (e: FixtureEvent) => boolean = () => true) =>
  (e: FixtureEvent) =>
    e.event === event && extra(e);

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Live direct children of `pid` (over all its threads). */
export function childrenOf(pid: number): number[] {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids = tasks.flatMap((tid) =>
    read(`/proc/${pid}/task/${tid}/children`).split(' ').filter(Boolean).map(Number),
  );
  return kids.filter(pidAlive);
}

/** The process title (first word of /proc/PID/cmdline). */
export function titleOf(pid: number): string {
  return read(`/proc/${pid}/cmdline`).replace(/\0.*$/s, '').trim();
}

/** The master's live workers as the kernel sees them: PIN -> pids carrying that PIN's title. */
export function workerProcesses(masterPid: number, name: string): Map<number, number[]> {
  const prefix = `drover:Worker:${name}:`;
  const pins = new Map<number, number[]>();
  for (const pid of childrenOf(masterPid)) {
    const title = titleOf(pid);
    if (!title.startsWith(prefix)) continue;
    const pin = Number(title.slice(prefix.length));
    pins.set(pin, [...(pins.get(pin) ?? []), pid]);
  }
  return pins;
}

/** utime + stime of `pid` in clock ticks (1/100 s). */
export function cpuTicks(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the state (field 3): utime and stime are fields 14 and 15
  return Number(fields[11]) + Number(fields[12]);
}

/** Real uid of `pid` (first number of the Uid line of /proc/PID/status). */
export function uidOf(pid: number): number | null {
  const line = read(`/proc/${pid}/status`)
    .split('\n')
    .find((l) => l.startsWith('Uid:'));
  return line ? Number(line.split(/\s+/)[1]) : null;
}

/** uid, gid and home of a local account, from /etc/passwd. */
export function account(name: string): { uid: number; gid: number; home: string } | null {
  for (const line of read('/etc/passwd').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name) return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? '' };
  }
  return null;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Polls `probe` until it returns a value, or fails after `timeoutMs` with the last reason it gave.
 * `probe` returns a value when done, or a string saying what is still missing.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | string> | T | string,
  timeoutMs = 15_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const outcome = await probe();
      if (typeof outcome !== 'string') return outcome;
      last = outcome;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Whether the group is whole: master running, no reload in flight, exactly `expected` (or the
 * target) workers on PINs 0..n-1, each ready (or busy) with one live process, the same one the kernel
 * sees carrying that PIN's title. Returns the status, or what is not so yet.
 */
export function wholeGroup(
  status: GroupStatus,
  name: string,
  expected: number = status.master.targetWorkers,
): GroupStatus | string {
  if (status.master.state !== 'running') return `master is ${status.master.state}`;
  if (status.master.targetWorkers !== expected)
    return `target is ${status.master.targetWorkers}, expected ${expected}`;
  const pins = status.workers.map((w) => w.pin);
  const wanted = Array.from({ length: expected }, (_, i) => i);
  if (JSON.stringify(pins) !== JSON.stringify(wanted)) return `PINs are [${pins}], expected [${wanted}]`;
  const notReady = status.workers.filter(
    (w) => (w.state !== 'ready' && w.state !== 'busy') || w.pid === null,
  );
  if (notReady.length) return `not ready: ${notReady.map((w) => `${w.pin}=${w.state}`).join(', ')}`;
  const kernel = workerProcesses(status.master.pid, name);
  for (const w of status.workers) {
    const pids = kernel.get(w.pin) ?? [];
    if (pids.length !== 1 || pids[0] !== w.pid)
      return `PIN ${w.pin}: status says ${w.pid}, processes with its title: [${pids}]`;
  }
  const extra = [...kernel.keys()].filter((pin) => pin >= expected);
  if (extra.length) return `processes on PINs beyond the target: [${extra}]`;
  return status;
}

/** A start that fails: the master says why, exits 1, and leaves no worker, pid file or socket. */
export async function expectFailedStart(g: TestGroup): Promise<{ message: string; code: string }> {
  const failed = await g.group.waitEvent(is('startFailed'), 'start to fail');
  expect(await g.group.waitExit()).toEqual({ code: 1, signal: null });
  await waitAllDead(
    workerPids(g.group).filter((pid) => pid > 0),
    3000,
  );
  expect(existsSync(join(g.runDir, `${g.name}.pid`))).toBe(false);
  expect(existsSync(join(g.runDir, `${g.name}.sock`))).toBe(false);
  return failed as unknown as { message: string; code: string };
}

/**
 * Cleanups of the calling test file, run (last added first) after each test: `track` a group,
 * get a `scratch` directory, or push anything else onto `cleanups`.
 */
export function cleanupAfterEach(scratchPrefix = 'drover-rel-') {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    cleanups,
    track(g: TestGroup): TestGroup {
      cleanups.push(() => g.cleanup());
      return g;
    },
    /** A scratch directory every user can traverse (the master may run as another user). */
    scratch(): string {
      const { dir, cleanup } = tempDir(scratchPrefix);
      chmodSync(dir, 0o755);
      cleanups.push(cleanup);
      return dir;
    },
  };
}

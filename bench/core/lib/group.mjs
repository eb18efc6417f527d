// A master process started by the bench in its own process group, speaking the bench protocol:
// `BENCH {json}` lines on stdout, commands as lines on stdin. Every group is killed on exit.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, pidsInGroup, waitDead } from './procfs.mjs';

const LIVE = new Set();

/** Kills every process group the bench started (exit, Ctrl-C, failure). */
export function killAllGroups() {
  for (const group of LIVE) group.killNow();
}

let cleanupInstalled = false;
/** On Ctrl-C, SIGTERM or exit, kill what the bench started; `extra` runs first (PM2's daemon). */
export function installCleanup(extra = () => {}) {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const onSignal = (sig) => {
    process.stderr.write(`\nbench: ${sig}: killing the processes the bench started\n`);
    try {
      extra();
    } finally {
      killAllGroups();
      process.exit(130);
    }
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    try {
      extra();
    } finally {
      killAllGroups();
    }
  });
}

export class BenchGroup {
  /**
   * @param {string} name what it is, for messages
   * @param {string[]} argv node arguments (script and its args)
   * @param {Record<string, string>} env extra environment
   */
  constructor(name, argv, env = {}) {
    this.name = name;
    this.events = [];
    this.output = '';
    this.waiters = new Set();
    this.spawnedAt = performance.now();
    // detached: its own process group, so its workers (and drover's reaper) can be found and
    // killed as one, and Ctrl-C in the terminal reaches only the bench, which then cleans up.
    this.proc = spawn(process.execPath, argv, {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.pid = this.proc.pid;
    this.pgid = this.proc.pid;
    LIVE.add(this);
    let buffered = '';
    this.proc.stdout.on('data', (chunk) => {
      const now = performance.now();
      const text = chunk.toString();
      this.output = (this.output + text).slice(-8000);
      buffered += text;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('BENCH ')) this.events.push({ ...JSON.parse(line.slice(6)), receivedAt: now });
        nl = buffered.indexOf('\n');
      }
      this.wake();
    });
    this.proc.stderr.on('data', (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-8000);
    });
    this.proc.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.wake();
        resolve({ code, signal });
      });
    });
  }

  wake() {
    for (const w of this.waiters) w();
  }

  /** The first event named `ev` (after index `from`) that satisfies `match`, within `timeoutMs`. */
  async waitEvent(ev, { match = () => true, from = 0, timeoutMs = 30_000 } = {}) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find((e) => e.ev === ev && match(e));
      if (hit) return hit;
      if (this.exitInfo) {
        throw new Error(
          `bench: ${this.name} exited (${JSON.stringify(this.exitInfo)}) before '${ev}'\n${this.output}`,
        );
      }
      const left = until - Date.now();
      if (left <= 0)
        throw new Error(`bench: ${this.name}: no '${ev}' within ${timeoutMs} ms\n${this.output}`);
      await new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 500));
        this.waiters.add(done);
      });
    }
  }

  send(line) {
    this.proc.stdin.write(`${line}\n`);
  }

  /** Graceful stop (SIGTERM to the master), then SIGKILL to the group; waits until all are gone. */
  async stop(timeoutMs = 15_000) {
    if (!this.exitInfo) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {}
      await Promise.race([this.exited, sleep(timeoutMs)]);
    }
    this.killNow();
    const pids = pidsInGroup(this.pgid);
    if (!(await waitDead(pids, 10_000))) {
      throw new Error(`bench: ${this.name}: still alive after SIGKILL: ${pids.filter(alive).join(', ')}`);
    }
    LIVE.delete(this);
  }

  /** SIGKILL to every process in the group. */
  killNow() {
    try {
      process.kill(-this.pgid, 'SIGKILL');
    } catch {
      // group empty
    }
  }
}

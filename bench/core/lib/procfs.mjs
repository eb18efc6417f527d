// Reads of /proc used by the benchmarks: CPU ticks, memory, liveness, process groups, machine idle.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (USER_HZ; 100 on Linux x86_64). */
export const CLK_TCK = 100;

/** Fields after the command name of /proc/<pid>/stat (index 0 = state), or null if gone. */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** True while `pid` runs; a zombie counts as dead (PID 1 here reaps orphans slowly). */
export function alive(pid) {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z' && f[0] !== 'X';
}

/** utime + stime of `pid` in milliseconds, or null if it is gone. */
export function cpuMs(pid) {
  const f = statFields(pid);
  if (!f) return null;
  // fields 14 and 15 of stat; here shifted by 3 (pid, comm gone; state at 0)
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** Process group of `pid`, or null. */
export function pgid(pid) {
  const f = statFields(pid);
  return f ? Number(f[2]) : null;
}

/** Every live process whose process group is `group`. */
export function pidsInGroup(group) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (f && Number(f[2]) === group && f[0] !== 'Z' && f[0] !== 'X') out.push(Number(name));
  }
  return out;
}

/** Direct children of `pid` (all threads' children lists). */
export function children(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

/** `pid` and all its descendants, depth first. */
export function tree(pid) {
  const out = [pid];
  for (const child of children(pid)) out.push(...tree(child));
  return out;
}

/**
 * Memory of `pid` in bytes: rss (VmRSS), anon (RssAnon: private anonymous pages, the honest
 * per-process cost) and pss (proportional set size: shared pages divided among their users).
 */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    let pss = Number.NaN;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
      pss = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? Number.NaN);
    } catch {
      // smaps_rollup needs ptrace access; absent on old kernels
    }
    return { rss: kb('VmRSS') * 1024, anon: kb('RssAnon') * 1024, pss: pss * 1024 };
  } catch {
    return null;
  }
}

function cpuTotals() {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle = idle + iowait; steal is not ours to use
  const idle = n[3] + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle, total };
}

/** Fraction of the machine's CPU time that was idle during the next `ms`. */
export async function idleFraction(ms) {
  const a = cpuTotals();
  await sleep(ms);
  const b = cpuTotals();
  const total = b.total - a.total;
  return total > 0 ? (b.idle - a.idle) / total : 1;
}

/**
 * Waits until the machine is mostly idle (other people's test runs share these 2 cores), for at
 * most `maxWaitMs`. Returns whether it was quiet when the timed part began.
 */
export async function quietGate({ threshold = 0.8, windowMs = 250, maxWaitMs = 3000 } = {}) {
  const until = Date.now() + maxWaitMs;
  let idle = 0;
  do {
    idle = await idleFraction(windowMs);
    if (idle >= threshold) return { quiet: true, idle };
  } while (Date.now() < until);
  return { quiet: false, idle };
}

/** Waits until none of `pids` is alive; false if some still are after `timeoutMs`. */
export async function waitDead(pids, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (!pids.some(alive)) return true;
    if (Date.now() > until) return false;
    await sleep(20);
  }
}

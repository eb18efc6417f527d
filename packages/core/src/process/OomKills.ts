import { readFileSync } from 'node:fs';

/**
 * How many processes of this process's memory cgroup the kernel's OOM killer has killed: cgroup
 * v2's `memory.events` (`oom_kill`, the cgroup and those below it) or v1's `memory.oom_control`;
 * null where neither can be read (no cgroup file system, another OS). Workers live in their
 * master's cgroup, so a count that grew while a worker died of a SIGKILL nobody in drover sent
 * says who killed it: a worker has no other way to tell.
 */
export function oomKills(): number | null {
  for (const file of memoryCgroupFiles()) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const count = /^oom_kill (\d+)$/m.exec(text);
    if (count) return Number(count[1]);
  }
  return null;
}

/** The files that may hold the count, most specific first: a cgroup namespace shows its root as `/`. */
function memoryCgroupFiles(): string[] {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const line of lines) {
    const entry = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!entry) continue;
    const [, controllers = '', path = '/'] = entry;
    const at = path === '/' ? '' : path;
    if (controllers === '') files.push(`/sys/fs/cgroup${at}/memory.events`, '/sys/fs/cgroup/memory.events');
    else if (controllers.split(',').includes('memory'))
      files.push(`/sys/fs/cgroup/memory${at}/memory.oom_control`, '/sys/fs/cgroup/memory/memory.oom_control');
  }
  // v1 first where both are mounted: its memory controller is the one that counts then
  return files.sort((a, b) => Number(b.includes('oom_control')) - Number(a.includes('oom_control')));
}

/** Within this of an exit put down to the OOM killer, the other kills it counted go to workers dying with it. */
const SAME_EVENT_MS = 1000;

/**
 * Puts a worker's SIGKILL from outside drover down to the kernel's OOM killer when the `oom_kill`
 * count of the group's memory cgroup grew since the last look. Every worker exit is a look, so a
 * kill of another process of the cgroup (a worker's helper, a sidecar) is not put on a worker
 * killed by hand later on; workers the killer took at once (the count grew by several) are each
 * put down to it.
 */
export class OomKillWatch {
  private seen: number | null;
  private seenAt: number;
  private sameEvent = { kills: 0, until: 0 };

  /** `read`: the count (oomKills; another for tests) */
  constructor(
    private readonly read: () => number | null = oomKills,
    now = Date.now(),
  ) {
    this.seen = read();
    this.seenAt = now;
  }

  /**
   * A worker exited; `foreignKill`: of a SIGKILL drover did not send. Returns how many OOM kills
   * were counted since when, when this one is most likely one of them; null otherwise.
   */
  onExit(foreignKill: boolean, now = Date.now()): { kills: number; since: number } | null {
    if (this.seen === null) return null;
    const count = this.read();
    if (count === null) return null;
    const grew = count - this.seen;
    const since = this.seenAt;
    this.seen = count;
    this.seenAt = now;
    if (!foreignKill) return null;
    if (grew > 0) {
      this.sameEvent = { kills: grew - 1, until: now + SAME_EVENT_MS };
      return { kills: grew, since };
    }
    if (this.sameEvent.kills > 0 && now <= this.sameEvent.until) {
      this.sameEvent.kills -= 1;
      return { kills: 1, since };
    }
    return null;
  }
}

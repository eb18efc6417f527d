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

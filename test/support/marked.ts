import { readdirSync, readFileSync } from 'node:fs';

/**
 * A unique `sleep` duration (`98765.<random>`): processes a test starts with it are counted, and
 * killed afterwards, by that argument alone, whoever their parent is by then.
 */
export function uniqueSleep(): string {
  return `98765.${Math.floor(Math.random() * 1e9)}`;
}

/** Live (non-zombie) processes with `arg` as one of their argv elements. */
export function pidsWithArg(arg: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').includes(arg)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** SIGKILLs every process with `arg` in its argv (a test's leftovers). */
export function killWithArg(arg: string): void {
  for (const pid of pidsWithArg(arg)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every process started during the run inherits DROVER_LEAK_TAG. When the run ends, any such
 * process still alive (other than vitest's own) is a leak: it is killed and the run fails.
 */
const TAG = `DROVER_LEAK_TAG=${randomUUID()}`;

interface Proc {
  pid: number;
  cmdline: string;
}

function taggedProcesses(): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.[0];
      if (state === 'Z' || state === 'X') continue;
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (!environ.split('\0').includes(TAG)) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
      if (/vitest/.test(cmdline)) continue;
      found.push({ pid, cmdline });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export function setup(): void {
  const [key, value] = TAG.split('=') as [string, string];
  process.env[key] = value;
}

export async function teardown(): Promise<void> {
  const deadline = Date.now() + 3_000;
  let left = taggedProcesses();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = taggedProcesses();
  }
  if (left.length === 0) return;
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // vitest logs an error thrown here but keeps exit code 0: set the code ourselves.
  process.exitCode = 1;
  throw new Error(
    `leak check: ${left.length} process(es) started by the tests were still alive after the run ` +
      `(killed now):\n${left.map((p) => `  ${p.pid} ${p.cmdline}`).join('\n')}`,
  );
}

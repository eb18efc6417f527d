import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RunningGroup, tempDir } from '../support/group.js';
import { poolRedis, redisUnavailableReason } from './redis.js';

const shared = await poolRedis();
afterAll(async () => {
  await shared?.cleanup();
});
const EXAMPLE = fileURLToPath(new URL('../../examples/redis-pool/', import.meta.url));

const running: RunningGroup[] = [];
const dirs: Array<() => void> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.kill()));
  for (const cleanup of dirs.splice(0)) cleanup();
});

function run(
  script: string,
  args: string[],
  env: Record<string, string>,
  execArgv: string[] = [],
): RunningGroup {
  const proc: ChildProcess = spawn(process.execPath, [...execArgv, join(EXAMPLE, script), ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const group = new RunningGroup(proc);
  running.push(group);
  return group;
}

/** The group's processes as `ps` sees them: titles drover:{Master,Reaper,Worker}:redis-pool. */
function psCount(): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (/^drover:(Master|Reaper|Worker):redis-pool(\0|:|$)/.test(args)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

const counts = (output: string) => [
  ...output.matchAll(/processes: (\d+) \(master \+ reaper \+ (\d+) workers?\)/g),
];

describe.skipIf(!shared)('examples/redis-pool', () => {
  if (!shared) console.warn(`the redis-pool example test is skipped: ${redisUnavailableReason}`);

  it('3 permanent workers, up to 10: the process count goes 12 -> 10 -> 5 as temporary workers go idle', async () => {
    const { dir, cleanup } = tempDir('drover-redis-pool-');
    dirs.push(cleanup);
    const env = { REDIS_URL: shared!.redis.url, REDIS_PREFIX: shared!.prefix, RUN_DIR: dir, IDLE_MS: '1500' };
    const consumer = run('consumer.mjs', [], env, ['--title=drover:Master:redis-pool']);
    await consumer.waitFor('consumer ready', () => consumer.output.includes('consumer ready'), 30_000);
    expect(psCount()).toBe(5);

    const producer = run('producer.mjs', ['100'], env);
    // at the peak, 12 processes: the master, the reaper and 10 workers, and ps agrees
    await consumer.waitFor('12 processes', () => consumer.output.includes('processes: 12 '), 30_000);
    await consumer.waitFor('ps shows 12', () => psCount() === 12, 10_000);

    expect(await producer.waitExit(60_000)).toEqual({ code: 0, signal: null });
    const summary =
      /all 100 results back in \d+ ms: (\d+) by permanent workers, (\d+) by temporary ones, (\d+) processes, 0 wrong/.exec(
        producer.output,
      );
    expect(summary, producer.output).not.toBeNull();
    expect(Number(summary![2])).toBeGreaterThan(0);

    // the temporary workers go idle and leave one by one: 12 -> ... -> 10 -> ... -> 5
    await consumer.waitFor(
      'back to 5 processes',
      () => /processes: 5 .* exited \(idle\)/.test(consumer.output),
      30_000,
    );
    const seen = counts(consumer.output).map((m) => Number(m[1]));
    const peak = seen.indexOf(12);
    expect(Math.max(...seen)).toBe(12);
    const after = seen.slice(peak);
    expect(after).toEqual([12, 11, 10, 9, 8, 7, 6, 5]);
    expect(psCount()).toBe(5);

    // the log lines: kind, pid, consuming, finished, remaining
    expect(consumer.output).toMatch(/\[permanent\] pid \d+ consuming task \d+~[\w-]+ \(n=\d+, attempt 1\)/);
    expect(consumer.output).toMatch(/\[temporary\] pid \d+ consuming task \d+~[\w-]+/);
    expect(consumer.output).toMatch(/\[temporary\] pid \d+ finished task \d+~[\w-]+/);
    expect(consumer.output).toMatch(/task \d+~[\w-]+ done, remaining \d+/);
    expect(consumer.output).toMatch(/backlog \d+: started 7 temporary workers, 10 workers now/);
    expect(consumer.output.match(/ consuming task /g)).toHaveLength(100);

    consumer.signal('SIGTERM');
    expect(await consumer.waitExit()).toEqual({ code: 0, signal: null });
  });
});

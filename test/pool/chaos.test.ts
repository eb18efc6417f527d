import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { is, type StartedPool, startPool } from './helpers.js';
import { poolRedis, redisUnavailableReason } from './redis.js';

const shared = await poolRedis();
afterAll(async () => {
  await shared?.cleanup();
});

let current: StartedPool | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

const backends = [
  { name: 'memory', env: {} as Record<string, string> },
  ...(shared
    ? [
        {
          name: 'bullmq',
          env: { QUEUE_URL: shared.redis.url, QUEUE_PREFIX: shared.prefix } as Record<string, string>,
        },
      ]
    : []),
];
if (!shared) console.warn(`pool chaos on BullMQ skipped: ${redisUnavailableReason}`);

describe.each(backends)('chaos-lite on the $name queue', ({ name, env }) => {
  it('a worker SIGKILLed mid-task: its tasks complete on another worker with attempt + 1, nothing lost', async () => {
    current = startPool(
      { minWorkers: 2, concurrencyPerWorker: 2, maxAttempts: 3, backoff: 50, queueName: `chaos-${name}` },
      env,
    );
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const refs = Array.from({ length: 12 }, (_, x) => ({
      x,
      ref: group.command('submit', { payload: { x, sleepMs: 400 } }),
    }));
    // both workers hold two tasks: kill the first one's worker while it runs them
    await group.waitEvent(is('taskStart'), 'four tasks running', 4);
    const victim = group.events.find(is('taskStart'))!.pid as number;
    const killedTasks = new Set(
      group.events.filter(is('taskStart', (e) => e.pid === victim)).map((e) => e.taskId as string),
    );
    process.kill(victim, 'SIGKILL');
    expect(killedTasks.size).toBeGreaterThan(0);

    for (const { x, ref } of refs) {
      const answer = await group.answer(ref, 20_000);
      expect(answer.event).toBe('result');
      const value = answer.value as Record<string, unknown>;
      expect(value.x).toBe(x);
      expect(value.doubled).toBe(2 * x);
      if (killedTasks.has(value.taskId as string)) {
        expect(value.attempt).toBe(2);
        expect(value.pid).not.toBe(victim);
      } else {
        expect(value.attempt).toBe(1);
      }
    }
    const retries = group.events.filter(is('taskRetry'));
    expect(new Set(retries.map((e) => e.taskId))).toEqual(killedTasks);
    for (const retry of retries) {
      expect(retry).toMatchObject({ pid: victim, attempt: 1, error: { code: 'EWORKERLOST' } });
      expect((retry.error as { message: string }).message).toMatch(/exited \(SIGKILL\) while running it/);
    }
    expect(group.events.find(is('workerExit', (e) => e.pid === victim))).toMatchObject({
      signal: 'SIGKILL',
      reason: 'crash',
    });
    expect(group.count(is('taskFail'))).toBe(0);
  });
});

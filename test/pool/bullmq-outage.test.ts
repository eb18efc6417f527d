import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RunningGroup, tempDir } from '../support/group.js';
import { is, type StartedPool, startPool } from './helpers.js';
import { PrivateRedis } from './redis.js';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const started: StartedPool[] = [];
const servers: PrivateRedis[] = [];
const others: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.cleanup()));
  await Promise.all(others.splice(0).map((cleanup) => cleanup()));
  await Promise.all(servers.splice(0).map((r) => r.dispose()));
});

async function redis(): Promise<PrivateRedis> {
  const server = new PrivateRedis();
  servers.push(server);
  await server.start();
  return server;
}

function master(server: PrivateRedis, config: Record<string, unknown>): StartedPool {
  const s = startPool(
    { baseTitle: 'outage', queueName: 'outage', ...config },
    { QUEUE_URL: server.url, QUEUE_PREFIX: 'outage' },
  );
  started.push(s);
  return s;
}

describe.skipIf(!hasRedis)('pool on BullMQ: Redis gone, workers lost', () => {
  it('a graceful stop while Redis is unreachable ends within stopTimeout (and a grace)', async () => {
    const server = await redis();
    const { group } = master(server, { minWorkers: 2, stopTimeout: 2_000, leaseMs: 2_000 });
    await group.waitEvent(is('started'), 'started');
    group.command('submit', { payload: { x: 1, sleepMs: 1_500 } });
    await group.waitEvent(is('taskStart'), 'the task running');
    await server.kill();
    const stopAt = Date.now();
    group.signal('SIGTERM');
    // before: 'stopping reason=stop', then only reconnect warnings, for good
    expect(await group.waitExit(20_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopAt).toBeLessThan(10_000);
  }, 40_000);

  it('a task whose worker was SIGKILLed runs again after its backoff, not after the fetch drain delay', async () => {
    const server = await redis();
    const { group } = master(server, { minWorkers: 2, backoff: 100, leaseMs: 5_000 });
    await group.waitEvent(is('started'), 'started');
    const ref = group.command('submit', { payload: { x: 1, sleepMs: 1_000 } });
    const first = await group.waitEvent(is('taskStart'), 'attempt 1');
    const killedAt = Date.now();
    process.kill(first.pid as number, 'SIGKILL');
    const second = await group.waitEvent(
      is('taskStart', (e) => e.attempt === 2),
      'attempt 2',
      1,
      20_000,
    );
    // before: about 5 s (BullMQ's drain delay) with any backoff above 0
    expect((second.t as number) - killedAt).toBeLessThan(2_500);
    expect((await group.answer(ref, 20_000)).value).toMatchObject({ x: 1, attempt: 2 });
  }, 40_000);

  it('submits whose jobs Redis lost (restarted without persistence) reject with ETASKLOST; the log says it once', async () => {
    const server = await redis();
    const { group } = master(server, { minWorkers: 1 });
    await group.waitEvent(is('started'), 'started');
    const refs = [0, 1, 2, 3].map((x) =>
      group.command('submit', { payload: { x, sleepMs: 1_500 }, opts: { id: `keep-${x}` } }),
    );
    await group.waitEvent(is('taskStart'), 'the first task running');
    // what `redis-cli shutdown NOSAVE` and a start without appendonly do: the same socket, no keys
    await server.kill();
    await server.start();
    const answers = await Promise.all(refs.map((ref) => group.answer(ref, 20_000)));
    // before: no answer, for good, and one raw "Missing key for job ..." line per command
    for (const [x, answer] of answers.entries()) {
      expect(answer).toMatchObject({ event: 'rejected', code: 'ETASKLOST' });
      expect(answer.message).toContain(`task 'keep-${x}' is lost`);
      expect(answer.message).toContain(`submit it again with the same id ({ id: 'keep-${x}' })`);
    }
    const said = () =>
      group.output
        .split('\n')
        .filter(
          (line) => !line.includes('EVENT ') && (line.includes(' lost ') || line.includes('ETASKLOST')),
        );
    await group.waitFor('the log line on the lost tasks', () => said().length > 0);
    // the pool goes on with the new server; one worker with one slot: this task runs once the
    // lost one's handler ended and BullMQ refused its outcome, so the log is complete then
    expect((await group.submit({ x: 9 }, {}, 20_000)).value).toMatchObject({ x: 9, doubled: 18 });
    expect(group.output).not.toContain('Missing key');
    expect(said()).toHaveLength(1);
    expect(said()[0]).toMatch(
      /queue 'outage' lost 4 task\(s\) \('keep-\d', 'keep-\d', 'keep-\d', 'keep-\d'\)/,
    );
    expect(said()[0]).toContain("keep the queue's data with 'appendonly yes'");
    expect(group.events.filter(is('taskDone')).map((e) => e.taskId)).not.toContain('keep-0');
  }, 60_000);

  it('an outcome that comes after its lease ran out (Redis frozen) is no taskDone; one warning says it', async () => {
    const server = await redis();
    const { group } = master(server, { minWorkers: 1, leaseMs: 1_000 });
    await group.waitEvent(is('started'), 'started');
    const ref = group.command('submit', {
      payload: { x: 1, sleepMs: 1_500, sleepAttempts: 1 },
      opts: { id: 'frozen' },
    });
    await group.waitEvent(is('taskStart'), 'attempt 1 running');
    server.pause();
    // the handler ends meanwhile; its lease (1 s) runs out before Redis answers again
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    server.resume();
    const answer = await group.answer(ref, 20_000);
    expect(answer.value).toMatchObject({ x: 1, attempt: 2 });
    // the answer travels through the events stream, taskDone through the worker's own connection
    await group.waitEvent(
      is('taskDone', (e) => e.attempt === 2),
      'taskDone of attempt 2',
    );
    // before: a taskDone for attempt 1 too (two for one task, no taskRetry between) and two warnings
    expect(group.events.filter(is('taskDone')).map((e) => e.attempt)).toEqual([2]);
    expect(group.count(is('taskRetry'))).toBe(0);
    const late = group.output.split('\n').filter((line) => line.includes('came after its lease was lost'));
    expect(late).toHaveLength(1);
    expect(late[0]).toContain("the outcome of task 'frozen' in queue 'outage'");
  }, 60_000);

  it('status() during and after a stop with Redis down rejects with ECLOSED, in drover words', async () => {
    const server = await redis();
    const { dir, cleanup } = tempDir('drover-pool-');
    const proc = spawn(
      process.execPath,
      [
        '--title=drover:Master:stopstatus',
        fileURLToPath(new URL('./fixtures/stop-status.mjs', import.meta.url)),
      ],
      {
        env: { ...process.env, NO_COLOR: '1', RUN_DIR: dir, QUEUE_URL: server.url },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const group = new RunningGroup(proc);
    others.push(async () => {
      await group.kill();
      cleanup();
    });
    await group.waitEvent(is('started'), 'started');
    await server.kill();
    proc.stdin?.write('stop\n');
    const { during, after } = (await group.waitEvent(
      is('status'),
      'the status answers',
      1,
      30_000,
    )) as unknown as {
      during: { code?: string; message?: string };
      after: { code?: string; message?: string };
    };
    // before: ioredis's "Connection is closed.", without a code
    for (const answer of [during, after]) {
      expect(answer.code).toBe('ECLOSED');
      expect(answer.message).toContain(
        "drover: cannot read the stats of the bullmq queue 'stopstatus': it was closed in this process",
      );
    }
  }, 60_000);

  it('a start that fails (the name is taken) closes the connection it opened: the process ends', async () => {
    const server = await redis();
    const first = master(server, { minWorkers: 1 });
    await first.group.waitEvent(is('started'), 'first started');
    const second = startPool(
      { baseTitle: 'outage', queueName: 'outage', minWorkers: 1, runDir: first.runDir },
      { QUEUE_URL: server.url, QUEUE_PREFIX: 'outage' },
    );
    started.push(second);
    await second.group.waitEvent(is('startFailed'), 'the second start failing');
    expect(second.group.events.find(is('startFailed'))?.code).toBe('EALREADYRUNNING');
    // its stdin is still open: only a connection left open would keep it alive
    second.group.proc.stdin?.end();
    expect(await second.group.waitExit(10_000)).toEqual({ code: 1, signal: null });
  }, 40_000);
});

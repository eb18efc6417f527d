/**
 * The contract every queue backend passes (research note queue-engines §7). Each backend's test
 * file calls `queueContract(harness)`; the harness builds backends and crashes consumers in the
 * backend's own way (memory: an abandoned consumer; BullMQ: a SIGKILLed child process).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DroverError } from '../../packages/core/src/errors.js';
import type {
  BackendOptions,
  Delivery,
  QueueBackend,
  RetryPolicy,
} from '../../packages/core/src/queue/QueueBackend.js';

// biome-ignore lint/suspicious/noExplicitAny: the suite exercises payloads and results of any shape
export type AnyBackend = QueueBackend<any, any>;

export type CreateOptions = Omit<BackendOptions, 'retry' | 'leaseMs'> & { retry?: RetryPolicy };

export interface TakenTask {
  readonly taskId: string;
  readonly attempt: number;
}

export interface StalledConsumer extends TakenTask {
  /** Lets the stalled consumer finish its attempt (or waits until it does) and says what happened. */
  finish(): Promise<{
    ackRefused: boolean;
    signalAborted: boolean;
    /** ELATEACK reports its consumer made for the late outcome */
    refusals: number;
    /** its onAcknowledged was called */
    acknowledged: boolean;
  }>;
}

export interface ContractHarness {
  readonly name: string;
  /** the lease every backend of this suite gets */
  readonly leaseMs: number;
  /** A backend on `queue`; backends created with one queue name share its tasks. */
  create(options: CreateOptions): Promise<AnyBackend>;
  /** A consumer on `queue` takes one task and dies holding it (no ack, no failure, no renewal). */
  crash(queue: string): Promise<TakenTask>;
  /** A consumer on `queue` takes one task and loses its lease while still alive; it acks `late` after. */
  stall(queue: string, late: string): Promise<StalledConsumer>;
  /** Called after each test. */
  cleanup?(): Promise<void>;
}

export const RETRY: RetryPolicy = { maxAttempts: 3, backoffMs: (attempt) => 150 * 2 ** (attempt - 1) };

/** Timer granularity: a backoff or delay may fire this much before its nominal time. */
const EARLY_MS = 25;

export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls `check` until it returns true; fails with `what` after the deadline. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rejects after `ms` so a hung promise fails its test with a name instead of a test timeout. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function uniqueQueue(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

export function queueContract(harness: ContractHarness): void {
  const open: { close(): Promise<void> }[] = [];

  async function backend(label: string, options: Partial<CreateOptions> = {}): Promise<AnyBackend> {
    const created = await harness.create({ queue: uniqueQueue(label), retry: RETRY, ...options });
    open.push(created);
    return created;
  }

  async function sibling(of: AnyBackend): Promise<AnyBackend> {
    const created = await harness.create({ queue: of.queue, retry: RETRY });
    open.push(created);
    return created;
  }

  afterEach(async () => {
    const closing = open.splice(0).map((b) => b.close());
    await Promise.all(closing);
    await harness.cleanup?.();
  });

  describe(`queue contract: ${harness.name}`, () => {
    it('acks a task, keeps its result, and counts ready and in-flight tasks', async () => {
      const q = await backend('ack');
      const ids = await q.enqueue([{ payload: 1 }, { payload: 2 }, { payload: 3 }]);
      expect(ids).toHaveLength(3);
      expect(new Set(ids).size).toBe(3);
      expect(await q.stats()).toEqual({ ready: 3, delayed: 0, inFlight: 0, dead: 0 });

      const gates = new Map<string, ReturnType<typeof deferred<void>>>();
      const running = new Set<string>();
      const consumer = q.consume(
        async (d: Delivery<number>) => {
          running.add(d.taskId);
          const gate = deferred();
          gates.set(d.taskId, gate);
          await gate.promise;
          running.delete(d.taskId);
          return d.payload * 10;
        },
        { concurrency: 1 },
      );
      await waitFor('one running handler', () => running.size === 1);
      await waitFor('stats 2 ready / 1 in flight', async () => {
        const s = await q.stats();
        return s.ready === 2 && s.inFlight === 1;
      });
      expect(consumer.running).toBe(1);
      for (let done = 0; done < ids.length; done++) {
        await waitFor('a running handler', () => running.size === 1 && gates.has([...running][0]!));
        const runningId = [...running][0]!;
        gates.get(runningId)!.resolve();
        await waitFor(`task ${runningId} done`, () => !running.has(runningId));
      }
      const results = await within(Promise.all(ids.map((id) => q.waitForResult(id))), 15_000, 'results');
      expect(results).toEqual([10, 20, 30]);
      await waitFor('empty stats', async () => {
        const s = await q.stats();
        return s.ready === 0 && s.inFlight === 0 && s.delayed === 0;
      });
      expect((await q.stats()).dead).toBe(0);
      await consumer.close();
    });

    it('retries a failing handler with backoff and 1-based attempt numbers', async () => {
      const q = await backend('retry');
      const seen: { attempt: number; at: number }[] = [];
      const finalFailures: string[] = [];
      const recorded: string[] = [];
      q.consume(
        async (d) => {
          seen.push({ attempt: d.attempt, at: Date.now() });
          expect(d.maxAttempts).toBe(3);
          if (d.attempt < 3) throw new Error(`boom ${d.attempt}`);
          return 'ok';
        },
        {
          concurrency: 1,
          onFinalFailure: (d) => finalFailures.push(d.taskId),
          onRetry: (d, error) => recorded.push(`retry ${d.attempt}: ${error.message}`),
          onAcknowledged: (d) => recorded.push(`acknowledged ${d.attempt}`),
        },
      );
      const [id] = await q.enqueue([{ payload: 'x' }]);
      expect(await within(q.waitForResult(id!), 15_000, 'retried result')).toBe('ok');
      expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
      await waitFor('the acknowledgement', () => recorded.length === 3);
      expect(recorded).toEqual(['retry 1: boom 1', 'retry 2: boom 2', 'acknowledged 3']);
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(RETRY.backoffMs(1, new Error()) - EARLY_MS);
      expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(RETRY.backoffMs(2, new Error()) - EARLY_MS);
      expect(finalFailures).toEqual([]);
      expect((await q.stats()).dead).toBe(0);
    });

    it('fails a task for good exactly once after maxAttempts, as a dead letter', async () => {
      const q = await backend('final');
      const attempts: number[] = [];
      const finals: { taskId: string; attempt: number; message: string }[] = [];
      q.consume(
        async (d) => {
          if (d.payload === 'sentinel') return 'ok';
          attempts.push(d.attempt);
          throw new Error(`always fails (${d.attempt})`);
        },
        {
          concurrency: 2,
          onFinalFailure: (d, error) =>
            finals.push({ taskId: d.taskId, attempt: d.attempt, message: error.message }),
        },
      );
      const [id] = await q.enqueue([{ id: 'doomed', payload: { n: 1 } }]);
      expect(id).toBe('doomed');
      const failure = (await within(
        q.waitForResult(id!).then(
          () => null,
          (error: unknown) => error,
        ),
        15_000,
        'final failure',
      )) as DroverError;
      expect(failure?.code).toBe('ETASKFAILED');
      expect(failure.message).toContain("task 'doomed' failed after 3 attempt(s): always fails (3)");
      await waitFor('onFinalFailure', () => finals.length === 1);
      expect(finals).toEqual([{ taskId: 'doomed', attempt: 3, message: 'always fails (3)' }]);

      // Not delivered again: a sentinel due after every backoff of the policy comes back first.
      const [sentinel] = await q.enqueue([{ payload: 'sentinel', delayMs: 700 }]);
      expect(await within(q.waitForResult(sentinel!), 15_000, 'sentinel')).toBe('ok');
      expect(attempts).toEqual([1, 2, 3]);
      expect(finals).toHaveLength(1);
      expect(await q.stats()).toEqual({ ready: 0, delayed: 0, inFlight: 0, dead: 1 });
      const letters = await q.deadLetters();
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        taskId: 'doomed',
        payload: { n: 1 },
        attempts: 3,
        error: 'always fails (3)',
      });
      expect(letters[0]!.failedAt).toBeGreaterThan(Date.now() - 60_000);
    });

    it('does not deliver a delayed task before its delay', async () => {
      const q = await backend('delay');
      const delivered = deferred<number>();
      q.consume(
        async () => {
          delivered.resolve(Date.now());
          return null;
        },
        { concurrency: 1 },
      );
      const enqueuedAt = Date.now();
      await q.enqueue([{ payload: 'later', delayMs: 800 }]);
      expect((await q.stats()).delayed).toBe(1);
      const at = await within(delivered.promise, 15_000, 'delayed delivery');
      expect(at - enqueuedAt).toBeGreaterThanOrEqual(800 - EARLY_MS);
    });

    it('delivers a task held by a crashed consumer again after the lease, with the next attempt', async () => {
      const q = await backend('crash');
      const [id] = await q.enqueue([{ payload: 'survives' }]);
      const taken = await harness.crash(q.queue);
      expect(taken).toEqual({ taskId: id, attempt: 1 });
      const crashedAt = Date.now();
      const redelivered = deferred<Delivery>();
      q.consume(
        async (d) => {
          redelivered.resolve(d);
          return 'recovered';
        },
        { concurrency: 1 },
      );
      const d = await within(redelivered.promise, 20_000, 'redelivery after the lease');
      expect(d.taskId).toBe(id);
      expect(d.attempt).toBe(2);
      expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(harness.leaseMs / 2 - EARLY_MS);
      expect(await within(q.waitForResult(id!), 15_000, 'result')).toBe('recovered');
    });

    it('ignores a late ack from a consumer that lost its lease, and aborts its signal', async () => {
      const q = await backend('fence');
      const [id] = await q.enqueue([{ payload: 'fenced' }]);
      const stalled = await harness.stall(q.queue, 'late');
      expect(stalled).toMatchObject({ taskId: id, attempt: 1 });
      const redelivered = deferred<number>();
      q.consume(
        async (d) => {
          redelivered.resolve(d.attempt);
          return 'on time';
        },
        { concurrency: 1 },
      );
      expect(await within(redelivered.promise, 20_000, 'redelivery')).toBe(2);
      expect(await within(q.waitForResult(id!), 15_000, 'result')).toBe('on time');
      const outcome = await within(stalled.finish(), 20_000, 'the stalled consumer');
      // one report for the one late outcome; the stalled consumer acknowledged nothing
      expect(outcome).toEqual({ ackRefused: true, signalAborted: true, refusals: 1, acknowledged: false });
      expect(await q.waitForResult(id!)).toBe('on time');
    });

    it('keeps renewing the lease of a task that runs 3 × the lease', async () => {
      const a = await backend('long');
      const b = await sibling(a);
      const [id] = await a.enqueue([{ payload: 'long' }]);
      const started = deferred<number>();
      const attemptsA: number[] = [];
      a.consume(
        async (d) => {
          attemptsA.push(d.attempt);
          started.resolve(d.attempt);
          await new Promise((resolve) => setTimeout(resolve, 3 * harness.leaseMs));
          return d.signal.aborted ? 'aborted' : 'done';
        },
        { concurrency: 1 },
      );
      expect(await within(started.promise, 15_000, 'long task start')).toBe(1);
      const stolen: number[] = [];
      b.consume(
        async (d) => {
          stolen.push(d.attempt);
          return 'stolen';
        },
        { concurrency: 1 },
      );
      expect(await within(a.waitForResult(id!), 20_000, 'long task result')).toBe('done');
      expect(attemptsA).toEqual([1]);
      expect(stolen).toEqual([]);
    });

    it('shares 100 tasks between two consumers without duplicates', async () => {
      const a = await backend('share');
      const b = await sibling(a);
      const counts = new Map<string, number>();
      const handler = async (d: Delivery<number>) => {
        counts.set(d.taskId, (counts.get(d.taskId) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return d.payload;
      };
      a.consume(handler, { concurrency: 4 });
      b.consume(handler, { concurrency: 4 });
      const ids = await a.enqueue(Array.from({ length: 100 }, (_, i) => ({ payload: i })));
      const results = await within(Promise.all(ids.map((id) => a.waitForResult(id))), 30_000, '100 results');
      expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(counts.size).toBe(100);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    });

    it('respects setConcurrency up and down', async () => {
      const q = await backend('conc');
      let running = 0;
      let peak = 0;
      const gates: (() => void)[] = [];
      const consumer = q.consume(
        async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise<void>((resolve) => gates.push(resolve));
          running--;
          return null;
        },
        { concurrency: 1 },
      );
      const ids = await q.enqueue(Array.from({ length: 12 }, (_, i) => ({ payload: i })));
      await waitFor('1 running', () => running === 1);
      expect(peak).toBe(1);

      consumer.setConcurrency(3);
      expect(consumer.concurrency).toBe(3);
      await waitFor('3 running', () => running === 3);
      expect(peak).toBe(3);

      consumer.setConcurrency(1);
      for (const release of gates.splice(0)) release();
      peak = 0;
      // From now on at most one at a time, however many tasks pass.
      for (let passed = 0; passed < 4; passed++) {
        await waitFor('next single task', () => running === 1 && gates.length === 1);
        gates.splice(0)[0]!();
      }
      expect(peak).toBe(1);

      await waitFor('a fifth single task', () => running === 1 && gates.length === 1);
      consumer.setConcurrency(0);
      gates.splice(0)[0]!();
      await waitFor('nothing running', () => running === 0);
      consumer.setConcurrency(2);
      await waitFor('2 running again', () => running === 2);
      consumer.setConcurrency(12);
      const drain = setInterval(() => {
        for (const release of gates.splice(0)) release();
      }, 10);
      try {
        await within(Promise.all(ids.map((id) => q.waitForResult(id))), 20_000, 'all results');
      } finally {
        clearInterval(drain);
      }
      expect(() => consumer.setConcurrency(-1)).toThrow(
        /config 'concurrency' is -1; expected an integer >= 0/,
      );
    });

    it('pause takes nothing new while running tasks finish; resume takes again', async () => {
      const a = await backend('pause');
      const b = await sibling(a);
      const gate = deferred();
      const taken: string[] = [];
      const consumerA = a.consume(
        async (d) => {
          taken.push(d.taskId);
          if (d.payload === 'first') await gate.promise;
          return `a:${d.payload}`;
        },
        { concurrency: 5 },
      );
      const [first] = await a.enqueue([{ payload: 'first' }]);
      await waitFor('first task running', () => taken.length === 1);
      await consumerA.pause();
      const later = await a.enqueue(Array.from({ length: 8 }, (_, i) => ({ payload: `p${i}` })));
      const attemptsB: number[] = [];
      const consumerB = b.consume(
        async (d) => {
          attemptsB.push(d.attempt);
          return `b:${d.payload}`;
        },
        { concurrency: 1 },
      );
      const results = await within(
        Promise.all(later.map((id) => a.waitForResult(id))),
        20_000,
        'paused results',
      );
      expect(results.every((r) => String(r).startsWith('b:'))).toBe(true);
      expect(taken).toEqual([first]);
      // A task a paused consumer had to hand back did not spend an attempt.
      expect(attemptsB).toEqual(later.map(() => 1));
      gate.resolve();
      expect(await within(a.waitForResult(first!), 15_000, 'first result')).toBe('a:first');

      await consumerB.close();
      await consumerA.resume();
      const [again] = await a.enqueue([{ payload: 'again' }]);
      expect(await within(a.waitForResult(again!), 15_000, 'after resume')).toBe('a:again');
    });

    it('close drains running handlers; close without drain aborts and retries them', async () => {
      const q = await backend('close');
      const gate = deferred();
      let finished = false;
      const draining = q.consume(
        async () => {
          await gate.promise;
          finished = true;
          return 'drained';
        },
        { concurrency: 1 },
      );
      const [first] = await q.enqueue([{ payload: 1 }]);
      await waitFor('first running', () => draining.running === 1);
      const closed = draining.close({ drain: true }).then(() => finished);
      gate.resolve();
      expect(await within(closed, 15_000, 'drained close')).toBe(true);
      expect(await q.waitForResult(first!)).toBe('drained');

      const signals: AbortSignal[] = [];
      const interrupted = q.consume(
        async (d) => {
          signals.push(d.signal);
          await new Promise(() => {});
        },
        { concurrency: 1 },
      );
      const [second] = await q.enqueue([{ payload: 2 }]);
      await waitFor('second running', () => signals.length === 1);
      await within(interrupted.close({ drain: false }), 15_000, 'close without drain');
      expect(signals[0]!.aborted).toBe(true);
      expect((signals[0]!.reason as DroverError).code).toBe('ECONSUMERCLOSED');
      const retried = deferred<number>();
      q.consume(
        async (d) => {
          retried.resolve(d.attempt);
          return 'retried';
        },
        { concurrency: 1 },
      );
      expect(await within(retried.promise, 15_000, 'retry after interrupted close')).toBe(2);
      expect(await within(q.waitForResult(second!), 15_000, 'second result')).toBe('retried');
    });

    it('enqueue is idempotent by task id', async () => {
      const q = await backend('idem');
      const ids = await q.enqueue([
        { id: 'order-17', payload: 'first' },
        { id: 'order-17', payload: 'second' },
      ]);
      expect(ids).toEqual(['order-17', 'order-17']);
      expect(await q.enqueue([{ id: 'order-17', payload: 'third' }])).toEqual(['order-17']);
      expect((await q.stats()).ready).toBe(1);
      const payloads: unknown[] = [];
      const consumer = q.consume(
        async (d) => {
          payloads.push(d.payload);
          return d.payload;
        },
        { concurrency: 2 },
      );
      expect(await within(q.waitForResult('order-17'), 15_000, 'result')).toBe('first');
      await consumer.close();
      expect(await q.enqueue([{ id: 'order-17', payload: 'after done' }])).toEqual(['order-17']);
      expect(await q.stats()).toMatchObject({ ready: 0, delayed: 0, inFlight: 0 });
      expect(payloads).toEqual(['first']);

      await expect(q.enqueue([{ payload: 1 }, { id: '42', payload: 2 }])).rejects.toThrow(
        /config 'tasks\[1\]\.id' is "42"; expected .*not an integer/,
      );
      await expect(q.enqueue([{ id: 'a:b', payload: 2 }])).rejects.toMatchObject({ code: 'ECONFIG' });
      expect((await q.stats()).ready).toBe(0);
    });

    it('carries payloads and results as JSON', async () => {
      const q = await backend('json');
      const payload = {
        text: 'grüße, 世界 🚀',
        n: -12.5,
        big: Number.MAX_SAFE_INTEGER,
        flags: [true, false, null],
        nested: { deep: { list: [1, [2, [3]]] }, empty: {} },
        when: new Date(0),
      };
      const received = deferred<unknown>();
      q.consume(
        async (d) => {
          received.resolve(d.payload);
          return { echo: d.payload, none: undefined, at: new Date(1000) };
        },
        { concurrency: 1 },
      );
      const [id, nullId] = await q.enqueue([{ payload }, { payload: undefined }]);
      const json = JSON.parse(JSON.stringify(payload));
      expect(await within(received.promise, 15_000, 'payload')).toEqual(json);
      expect(await within(q.waitForResult(id!), 15_000, 'result')).toEqual({
        echo: json,
        at: '1970-01-01T00:00:01.000Z',
      });
      expect(await within(q.waitForResult(nullId!), 15_000, 'null result')).toEqual({
        echo: null,
        at: '1970-01-01T00:00:01.000Z',
      });
      await expect(q.enqueue([{ payload: { n: 10n } }])).rejects.toMatchObject({ code: 'EPAYLOAD' });
      await expect(q.waitForResult('never-enqueued')).rejects.toMatchObject({ code: 'ETASKUNKNOWN' });
    });

    it('an ETASKFAILED carries the last error as its cause, its code, and one hint', async () => {
      const q = await backend('cause', { retry: { maxAttempts: 2, backoffMs: () => 0 } });
      q.consume(
        async (d) => {
          // as a DroverError is made: its message ends with its hint
          throw Object.assign(new Error(`no disk (${d.attempt}); free some space`), {
            code: 'ENOSPC',
            hint: 'free some space',
          });
        },
        { concurrency: 1 },
      );
      const [id] = await q.enqueue([{ payload: 1 }]);
      const failure = (await within(
        q.waitForResult(id!).catch((error: unknown) => error),
        15_000,
        'final failure',
      )) as DroverError & { lastCode?: string };
      expect(failure.code).toBe('ETASKFAILED');
      expect(failure.cause).toBeInstanceOf(Error);
      expect((failure.cause as Error).message).toBe('no disk (2); free some space');
      expect(failure.message).toContain(
        `task '${id}' failed after 2 attempt(s): no disk (2); see its dead letter`,
      );
      expect(failure.message).not.toContain('free some space');
      expect((failure.cause as DroverError).code).toBe('ENOSPC');
      expect(failure.lastCode).toBe('ENOSPC');
      expect(failure.message.match(/see its dead letter/g)).toHaveLength(1);
      // a later wait gets the same
      const again = (await q.waitForResult(id!).catch((error: unknown) => error)) as DroverError;
      expect((again.cause as DroverError).code).toBe('ENOSPC');
    });

    it('an aborted wait rejects with ABORTED naming the task; the task stays', async () => {
      const q = await backend('abort-wait');
      const [id] = await q.enqueue([{ payload: 1 }]);
      const controller = new AbortController();
      const waiting = q.waitForResult(id!, { signal: controller.signal });
      controller.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'ABORTED', name: 'AbortError' });
      await expect(waiting).rejects.toThrow(`the wait for the result of task '${id}' was aborted`);
      expect((await q.stats()).ready).toBe(1);
    });

    it('bounds enqueues of the same tick too', async () => {
      const q = await backend('bound-tick', { maxQueued: 3 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, n) => q.enqueue([{ payload: n }])),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
      for (const o of outcomes.filter((o) => o.status === 'rejected'))
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'EQUEUEFULL' });
      expect((await q.stats()).ready).toBe(3);
    });

    it('bounds the queue: rejects, or waits for room', async () => {
      const q = await backend('bound', { maxQueued: 3 });
      await q.enqueue([{ payload: 1 }, { payload: 2 }, { payload: 3 }]);
      await expect(q.enqueue([{ payload: 4 }])).rejects.toThrow(
        `queue '${q.queue}' is full: 3 task(s) waiting, 1 more would pass maxQueued 3`,
      );
      await expect(
        q.enqueue([{ payload: 1 }, { payload: 2 }, { payload: 3 }, { payload: 4 }]),
      ).rejects.toMatchObject({
        code: 'EQUEUEFULL',
      });
      expect((await q.stats()).ready).toBe(3);

      const w = await backend('bound-wait', { maxQueued: 2, whenFull: 'wait' });
      await w.enqueue([{ payload: 1 }, { payload: 2 }]);
      let admitted = false;
      const waiting = w.enqueue([{ payload: 3 }]).then((ids) => {
        admitted = true;
        return ids;
      });
      const aborted = new AbortController();
      const cancelled = w.enqueue([{ payload: 4 }], { signal: aborted.signal });
      aborted.abort(new Error('gave up'));
      await expect(cancelled).rejects.toThrow('gave up');
      expect(admitted).toBe(false);
      const gate = deferred();
      w.consume(
        async (d) => {
          await gate.promise;
          return d.payload;
        },
        { concurrency: 1 },
      );
      const [third] = await within(waiting, 15_000, 'room for the waiting enqueue');
      gate.resolve();
      expect(await within(w.waitForResult(third!), 15_000, 'third result')).toBe(3);
    });

    it('an enqueue waiting for room stops at its timeoutMs: ETIMEOUT, and nothing is queued later', async () => {
      const w = await backend('bound-timeout', { maxQueued: 1, whenFull: 'wait' });
      const [first] = await w.enqueue([{ payload: 1 }]);
      const late = await w.enqueue([{ payload: 2 }], { timeoutMs: 300 }).catch((error: unknown) => error);
      expect(late).toMatchObject({ code: 'ETIMEOUT' });
      expect((late as Error).message).toContain(
        `drover: the enqueue of a task to queue '${w.queue}' got no room (maxQueued 1)`,
      );
      expect((late as Error).message).toContain('within 300 ms; nothing was queued');
      const seen: unknown[] = [];
      w.consume(
        async (d) => {
          seen.push(d.payload);
          return d.payload;
        },
        { concurrency: 1 },
      );
      expect(await within(w.waitForResult(first!), 15_000, 'the first result')).toBe(1);
      // a later enqueue of this process goes after the timed-out one would have
      const [third] = await w.enqueue([{ payload: 3 }]);
      expect(await within(w.waitForResult(third!), 15_000, 'the third result')).toBe(3);
      expect(seen).toEqual([1, 3]);
    });

    if (harness.name.includes('bullmq')) {
      it('gives results to a process that did not enqueue the task', async () => {
        const producer = await backend('results');
        const watcher = await sibling(producer);
        const worker = await sibling(producer);
        worker.consume(
          async (d) => {
            if (typeof d.payload !== 'number') throw new Error(`not a number: ${d.payload}`);
            return { doubled: d.payload * 2 };
          },
          { concurrency: 2 },
        );
        const [id, failing] = await producer.enqueue([{ payload: 21 }, { payload: 'x' }]);
        expect(await within(watcher.waitForResult(id!), 15_000, 'remote result')).toEqual({ doubled: 42 });
        await expect(within(watcher.waitForResult(failing!), 15_000, 'remote failure')).rejects.toThrow(
          `task '${failing}' failed after 3 attempt(s): not a number: x`,
        );
        // Finished before the wait began: read from the stored state.
        expect(await watcher.waitForResult(id!)).toEqual({ doubled: 42 });
      });
    }
  });
}

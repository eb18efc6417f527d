// The dispatcher's stuck clock against stalls of the master's own event loop, with a real worker
// process (test/pool/fixtures/echo-worker.cjs) answering across a real IPC pipe.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../packages/core/src/pool/Dispatcher.js';

const ECHO = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/echo-worker.cjs');

let child: ChildProcess | undefined;
let dispatcher: Dispatcher | undefined;
afterEach(() => {
  dispatcher?.close();
  child?.kill('SIGKILL');
  child = dispatcher = undefined;
});

function blockFor(ms: number): void {
  const since = Date.now();
  while (Date.now() - since < ms) {
    // the event loop is blocked: the worker's answers wait in the pipe
  }
}

describe('stuck clock', () => {
  it('a stall in the check phase, after the clock asked for its look, fails no attempt its worker answered meanwhile', async () => {
    child = fork(ECHO, [], { env: { ...process.env, ECHO_DELAY_MS: '100' } });
    const worker = child;
    await new Promise((resolve) => worker.once('message', resolve));
    let sent = 0;
    const stuck: number[] = [];
    const d = new Dispatcher(
      { window: 8, taskTimeout: 300, taskTimeoutGrace: 300, forwardAborts: false },
      {
        started: () => sent++,
        settled: () => {},
        stuck: (lane) => stuck.push(lane.pid),
        capacityChanged: () => {},
      },
    );
    dispatcher = d;
    d.addLane(worker.pid!, 0, (message) => worker.send(message));
    worker.on('message', (m: { $drover?: string; results?: never }) => {
      if (m.$drover === 'results') d.onResults(worker.pid!, m.results!);
    });
    const outcomes = Promise.allSettled(
      [1, 2, 3, 4].map((i) =>
        d.run({ taskId: String(i), attempt: 1, payload: i, signal: new AbortController().signal } as never),
      ),
    );
    const deadline = Date.now() + 10_000;
    while (sent < 4 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toBe(4);
    // The clock ticks (as its timer would) after a callback queued in the check phase, which then
    // blocks the loop for longer than taskTimeout + grace while the worker answers. The look the
    // tick asked for runs after that callback, before the next read of the pipe.
    setImmediate(() => blockFor(1200));
    (d as unknown as { stuckClock(): void }).stuckClock();
    const results = await outcomes;
    // before: all 4 failed as ETASKSTUCK and the worker was to be recycled
    expect(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as { code: string }).code)),
    ).toEqual([1, 2, 3, 4]);
    expect(stuck).toEqual([]);
  });
});

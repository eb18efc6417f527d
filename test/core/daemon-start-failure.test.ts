import { afterEach, describe, expect, it } from 'vitest';
import { waitAllDead } from '../support/group.js';
import { DaemonCase } from './control/daemon-support.js';

let world: DaemonCase | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** The launcher's `FAILED <code> <message>` line. */
function failure(output: string): string {
  const line = output.split('\n').find((l) => l.startsWith('FAILED '));
  expect(line, output).toBeDefined();
  return line as string;
}

describe('a failed background start says what it saw, in the past, and that the daemon was stopped', () => {
  it('workers that crash after they are ready: the last state seen is past, and the stop is said', async () => {
    world = new DaemonCase();
    const { code, output } = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 2 }),
      WORKER_BEHAVIOUR: JSON.stringify({ crashAfterMs: 200 }),
      BACKGROUND: JSON.stringify({ deadlineMs: 120_000 }),
    });
    expect(code).toBe(1);
    const line = failure(output);
    expect(line).toMatch(
      /^FAILED EDAEMON drover: 'bg' did not start in the background: worker bg:\d crashed 3 times while starting/,
    );
    // not "'bg' is running": the launcher stopped the daemon before it said so
    expect(line).not.toMatch(/'bg' is /);
    expect(line).toMatch(/; its daemon \(pid \d+\) was (stopped|killed) and no longer runs/);
    await waitAllDead(world.processes(), 10_000);
  });

  it('a daemon that misses the deadline: "when last asked, \'bg\' was starting", and it was stopped', async () => {
    world = new DaemonCase();
    const { code, output } = await world.launch('control/bg-group.mjs', {
      ...world.config({ maxWorkerNum: 1 }),
      WORKER_BEHAVIOUR: JSON.stringify({ initMs: 30_000 }),
      BACKGROUND: JSON.stringify({ deadlineMs: 1500 }),
    });
    expect(code).toBe(1);
    expect(failure(output)).toMatch(
      /^FAILED EDAEMON drover: 'bg' did not start in the background: not ready within 1500 ms \(when last asked, 'bg' was starting, workers 0:starting\).*; its daemon \(pid \d+\) was (stopped|killed) and no longer runs/,
    );
    await waitAllDead(world.processes(), 15_000);
  });
});

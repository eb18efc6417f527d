import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manage } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../../support/group.js';
import { is, type LoopGroup, readyPids, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

describe('rolling reload', () => {
  it('SIGHUP replaces one PIN at a time: each successor is ready before its predecessor stops', async () => {
    current = startLoop({ maxWorkerNum: 3 }, { workMs: 200, reportExecutionEnd: true });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const before = readyPids(group);
    group.signal('SIGHUP');
    await group.waitEvent(is('reload'), 'reload done');
    expect(group.events.find(is('reload'))).toMatchObject({ replaced: 3, aborted: false });
    let previousExit = 0;
    for (const [pin, oldPid] of [...before].sort((a, b) => a[0] - b[0])) {
      const exit = group.events.find(is('workerExit', (e) => e.pid === oldPid))!;
      expect(exit).toMatchObject({ reason: 'reload', code: 0 });
      const successor = group.events.find(is('workerReady', (e) => e.pin === pin && e.pid !== oldPid))!;
      expect(successor.t as number).toBeLessThanOrEqual(exit.t as number);
      // one PIN at a time: this PIN's successor started after the previous PIN's old worker left
      const started = group.events.find(is('workerStart', (e) => e.pid === successor.pid))!;
      expect(started.t as number).toBeGreaterThanOrEqual(previousExit);
      previousExit = exit.t as number;
      // the old worker's last execution ran to its end
      const lastEnd = group.events.filter(is('executionEnd', (e) => e.pid === oldPid)).at(-1);
      expect(lastEnd).toBeDefined();
      expect(pidAlive(oldPid)).toBe(false);
    }
  });

  it('a replacement that fails to become ready aborts the reload and keeps the old worker', async () => {
    const marker = join(tmpdir(), `drover-reload-marker-${process.pid}-${Date.now()}`);
    current = startLoop({ maxWorkerNum: 2 }, { initFailIfFile: marker });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    // From now on a new worker's init fails, as after a bad deploy.
    writeFileSync(marker, 'x');
    try {
      const before = readyPids(group);
      group.signal('SIGHUP');
      const result = await group.waitEvent(is('reload'), 'reload result');
      expect(result).toMatchObject({ replaced: 0, aborted: true });
      for (const pid of before.values()) expect(pidAlive(pid)).toBe(true);
      // (errors go to stderr, events to stdout: wait rather than assume their order)
      await group.waitFor('the abort logged', () =>
        group.output.includes('reload of worker 0 aborted, old worker kept'),
      );
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('reload requests made during a reload coalesce into one more', async () => {
    // Slow inits keep the first reload running while the other requests arrive.
    current = startLoop({ maxWorkerNum: 2 }, { initMs: 700 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    const first = client.reload();
    await group.waitFor('first reload running', () => group.output.includes('reload started'));
    const later = [client.reload(), client.reload(), client.reload()];
    const results = await Promise.all([first, ...later]);
    expect(results.every((r) => !r.aborted && r.replaced === 2)).toBe(true);
    // the three requests made during the first reload share a single second one
    expect(group.count(is('reload'))).toBe(2);
    expect(group.output.match(/reload started/g)).toHaveLength(2);
  });
});

describe('scaling', () => {
  it('SIGTTIN adds a worker on the next PIN, SIGTTOU removes the highest', async () => {
    current = startLoop({ maxWorkerNum: 2 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGTTIN');
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 2),
      'pin 2 ready',
    );
    group.signal('SIGTTOU');
    const gone = await group.waitEvent(
      is('workerExit', (e) => e.pin === 2),
      'pin 2 gone',
    );
    expect(gone.reason).toBe('scale');
    expect(group.alive).toBe(true);
  });

  it('scale(n) through the control socket sets the exact count', async () => {
    current = startLoop({ maxWorkerNum: 1 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const client = new Manage({ baseTitle: 'loop', runDir });
    expect(await client.scale(4)).toEqual({ from: 1, to: 4 });
    let status = await client.status();
    expect(status.workers.map((w) => [w.pin, w.state === 'ready' || w.state === 'busy'])).toEqual([
      [0, true],
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(await client.scale(2)).toEqual({ from: 4, to: 2 });
    status = await client.status();
    expect(status.workers.map((w) => w.pin)).toEqual([0, 1]);
    expect(status.master.targetWorkers).toBe(2);
  });
});

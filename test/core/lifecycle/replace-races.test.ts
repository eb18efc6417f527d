import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manage } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/group.js';
import { is, type LoopGroup, readyPids, startLoop } from './helpers.js';

let current: LoopGroup | undefined;
let scratch: { dir: string; cleanup(): void } | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
  scratch?.cleanup();
  scratch = undefined;
});

const markers = () => {
  scratch = tempDir();
  return (name: string) => join(scratch!.dir, name);
};

describe('a PIN whose worker exits while it is being replaced', () => {
  it('reload: the old worker crashes while its successor starts, then the successor fails: the PIN is started again', async () => {
    const file = markers();
    current = startLoop(
      { maxWorkerNum: 1 },
      { initMs: 600, initFailIfFile: file('broken'), crashIfFile: file('crash') },
    );
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const [[, old]] = [...readyPids(group)];
    writeFileSync(file('broken'), '');
    group.signal('SIGHUP');
    const successor = await group.waitEvent(
      is('workerStart', (e) => e.pid !== old),
      'the successor forked',
    );
    writeFileSync(file('crash'), '');
    await group.waitEvent(
      is('workerExit', (e) => e.pid === old),
      'the old worker crashed',
    );
    const reload = await group.waitEvent(is('reload'), 'the reload ended');
    expect(reload).toMatchObject({ replaced: 0, aborted: true });
    rmSync(file('broken'));
    rmSync(file('crash'));
    // the PIN is not left empty: a worker after both is started and becomes ready
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 0 && e.pid !== old && e.pid !== successor.pid),
      'PIN 0 served again',
    );
    await group.waitFor('the cause logged', () =>
      group.output.includes('its old worker exited while the successor started, and the successor failed'),
    );
  });

  it('first start: a PIN whose respawn fails while another PIN still starts is started again', async () => {
    const file = markers();
    current = startLoop(
      { maxWorkerNum: 2, restart: { initialDelayMs: 50, maxDelayMs: 200 } },
      {
        slowPin: 1,
        slowPinMs: 4000,
        initFailIfFile: file('broken'),
        initFailIfFilePin: 0,
        crashIfFile: file('crash'),
        crashPin: 0,
      },
    );
    const { group } = current;
    const first = await group.waitEvent(
      is('workerReady', (e) => e.pin === 0),
      'PIN 0 ready',
    );
    writeFileSync(file('broken'), '');
    writeFileSync(file('crash'), '');
    await group.waitEvent(
      is('workerExit', (e) => e.pid === first.pid),
      'PIN 0 crashed',
    );
    // its respawn fails in init while PIN 1 is still starting
    const failed = await group.waitEvent(
      is('workerExit', (e) => e.pin === 0 && e.pid !== first.pid),
      "the respawn's init failed",
    );
    rmSync(file('broken'));
    rmSync(file('crash'));
    await group.waitEvent(
      is('workerReady', (e) => e.pin === 0 && e.pid !== first.pid && e.pid !== failed.pid),
      'PIN 0 served again',
    );
    await group.waitEvent(is('started'), 'the start done');
  });

  it("reload during a recycle's rolling replacement waits for it, then replaces the PIN: no failure", async () => {
    current = startLoop({ maxWorkerNum: 1, limitSeconds: 2, recycleJitter: 0 }, { plain: true, initMs: 800 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const [[, first]] = [...readyPids(group)];
    const recycling = await group.waitEvent(
      is('workerStart', (e) => e.pid !== first),
      "the recycle's successor forked",
    );
    group.signal('SIGHUP');
    const reload = await group.waitEvent(is('reload'), 'the reload ended');
    expect(reload).toMatchObject({ replaced: 1, aborted: false });
    // the reload replaced the recycle's successor once it had taken over
    const exit = group.events.find(is('workerExit', (e) => e.pid === recycling.pid && e.reason === 'reload'));
    expect(exit, JSON.stringify(group.events.filter(is('workerExit')))).toBeDefined();
  });

  it('a scale up interrupted by a stop says the group is stopping', async () => {
    current = startLoop({ maxWorkerNum: 1 }, { slowPin: 1, slowPinMs: 5000 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const scaling = new Manage({ baseTitle: 'loop', runDir }).scale(2);
    const outcome = scaling.then(
      () => null,
      (err: Error & { code?: string }) => err,
    );
    await group.waitEvent(
      is('workerStart', (e) => e.pin === 1),
      'PIN 1 forked',
    );
    group.signal('SIGTERM');
    const err = await outcome;
    expect(err?.code).toBe('ESTOPPING');
    expect(err?.message).toMatch(/^drover: cannot scale 'loop': the group is stopping/);
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
  });
});

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DroverError } from '../../../packages/core/src/errors.js';
import { InstanceLock } from '../../../packages/core/src/runtime/InstanceLock.js';
import { Children, coreDist, fixture, type LineChild, waitFor } from './support.js';

const children = new Children();
const held: InstanceLock[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((lock) => lock.release()));
  await children.killAll();
});

let counter = 0;
function uniqueName(): string {
  return `drover-test-${process.pid}-${Date.now()}-${counter++}`;
}

async function take(name: string): Promise<InstanceLock | null> {
  const lock = await InstanceLock.acquire(name);
  if (lock) held.push(lock);
  return lock;
}

describe('InstanceLock', () => {
  it('lets one holder have a name until it releases it', async () => {
    const name = uniqueName();
    const first = await take(name);
    expect(first).toBeInstanceOf(InstanceLock);
    expect(await take(name)).toBeNull();
    expect(await take(uniqueName())).toBeInstanceOf(InstanceLock);
    await first?.release();
    await first?.release(); // twice is fine
    expect(await take(name)).toBeInstanceOf(InstanceLock);
  });

  it('closes connections to the lock at once', async () => {
    const name = uniqueName();
    await take(name);
    const socket = connect(`\0${name}`);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('close', resolve));
    expect(socket.bytesRead).toBe(0);
  });

  it.each(['', 'a\0b', 'x'.repeat(108)])('refuses the unusable name %j', async (name) => {
    await expect(InstanceLock.acquire(name)).rejects.toThrow(DroverError);
    await expect(InstanceLock.acquire(name)).rejects.toThrow(
      /lock name .* is not usable; expected 1 to 107 bytes/,
    );
  });

  it('lets exactly one of 20 processes racing for it win', async () => {
    const name = uniqueName();
    const lockModule = coreDist('runtime/InstanceLock');
    const racers: LineChild[] = [];
    for (let i = 0; i < 20; i++)
      racers.push(children.node(fixture('lock-child.mjs'), [lockModule, name], { file: true }));
    await Promise.all(racers.map((racer) => racer.line(/^ready$/, 20_000)));
    for (const racer of racers) racer.proc.stdin?.write('go\n');
    const outcomes = await Promise.all(racers.map((racer) => racer.line(/^(won|lost)$/, 20_000)));
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'lost')).toHaveLength(19);
    // while the winner lives, nobody else gets it, however long one waits for it
    expect(await take(name)).toBeNull();
    await expect(waitFor('the lock while its holder lives', () => take(name), 500)).rejects.toThrow(
      /^timed out after 500 ms/,
    );

    const winner = racers[outcomes.indexOf('won')] as LineChild;
    await winner.kill('SIGKILL');
    const next = await waitFor(
      'the lock to be free after its holder was SIGKILLed',
      () => take(name),
      10_000,
    );
    expect(next).toBeInstanceOf(InstanceLock);
  });

  it('does not keep its process alive by itself', async () => {
    const child = children.node(
      fixture('lock-child.mjs'),
      [coreDist('runtime/InstanceLock'), uniqueName(), 'leave'],
      {
        file: true,
      },
    );
    await child.line(/^ready$/);
    child.proc.stdin?.write('go\n');
    expect(await child.line(/^(won|lost)$/)).toBe('won');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

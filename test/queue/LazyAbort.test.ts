import { describe, expect, it } from 'vitest';
import { LazyAbort } from '../../packages/core/src/queue/LazyAbort.js';

describe('LazyAbort', () => {
  it('calls an abort listener once, with the reason, without making a signal', () => {
    const abort = new LazyAbort();
    const heard: unknown[] = [];
    abort.onAbort((reason) => heard.push(reason));
    const reason = new Error('lease lost');
    abort.abort(reason);
    abort.abort(new Error('second'));
    expect(heard).toEqual([reason]);
    // a signal made afterwards is already aborted, with the same reason
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it('calls a listener added after the abort at once', () => {
    const abort = new LazyAbort();
    abort.abort('closed');
    const heard: unknown[] = [];
    abort.onAbort((reason) => heard.push(reason));
    expect(heard).toEqual(['closed']);
  });

  it('aborts a signal made before the abort, and its listeners as well', () => {
    const abort = new LazyAbort();
    const { signal } = abort;
    const order: string[] = [];
    signal.addEventListener('abort', () => order.push('signal'));
    abort.onAbort(() => order.push('listener'));
    abort.abort('gone');
    expect(signal.reason).toBe('gone');
    expect(order.sort()).toEqual(['listener', 'signal']);
  });
});

import { existsSync } from 'node:fs';
import { Manage } from '@drover/core';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive, psArgs } from '../../support/group.js';
import { is, type LoopGroup, mode, pidFile, readyPids, startLoop } from './helpers.js';
import { readPidFile } from '../../../packages/core/src/runtime/PidFile.js';

let current: LoopGroup | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

/**
 * The worker `pid`, busy for a minute, exits at once (within 10 s) with the code of the second
 * signal it read (one of `codes`: 143 for SIGTERM, 130 for SIGINT), and its master then exits 0.
 */
async function endsAtOnce({ group }: LoopGroup, pid: number, codes = [143]): Promise<void> {
  const exit = await group.waitEvent(
    is('workerExit', (e) => e.pid === pid),
    'the worker to exit',
    1,
    10_000,
  );
  expect(exit.signal).toBeNull();
  expect(codes).toContain(exit.code);
  expect(await group.waitExit(10_000)).toEqual({ code: 0, signal: null });
}

/** One worker busy for a minute, as the signal tests want it, with its pid once started. */
async function oneBusyWorker(
  behaviour: Record<string, unknown>,
): Promise<{ group: LoopGroup['group']; pid: number }> {
  current = startLoop(
    { maxWorkerNum: 1, executeUSleep: 0, stopTimeout: 60_000 },
    { workMs: 60_000, ...behaviour },
  );
  const { group } = current;
  await group.waitEvent(is('started'), 'started');
  return { group, pid: readyPids(group).get(0)! };
}

describe('start and stop', () => {
  it('a stop while the workers start cancels the start, and says so (no worker is blamed)', async () => {
    current = startLoop({ maxWorkerNum: 2 }, { initMs: 4000 });
    const { group } = current;
    await group.waitFor('both workers forked', () => group.count(is('workerStart')) === 2);
    group.signal('SIGTERM');
    // a requested stop: the master exits 0 and logs a notice, not an error
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.output).toMatch(
      /notice +\[loop:master #\d+\] start cancelled: a stop was requested while the group started/,
    );
    expect(group.output).not.toContain('failed to start');
    expect(group.output).not.toContain('start failed');
  });

  it("starts its workers when the master's title was given as '--title <name>', not passed on to them", async () => {
    current = startLoop({ maxWorkerNum: 2 }, {}, ['--title', 'drover:Master:loop']);
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    expect(group.count(is('workerExit'))).toBe(0);
    for (const pid of readyPids(group).values()) expect(psArgs(pid)).toMatch(/^drover:Worker:loop:\d$/);
  });

  it('starts N workers on PINs 0..N-1 with titles, a private run dir and a 0600 pid file', async () => {
    current = startLoop({ maxWorkerNum: 3 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const pins = readyPids(group);
    expect([...pins.keys()].sort()).toEqual([0, 1, 2]);
    for (const [pin, pid] of pins) expect(psArgs(pid)).toBe(`drover:Worker:loop:${pin}`);
    expect(psArgs(group.pid)).toBe('drover:Master:loop');
    expect(mode(runDir)).toBe(0o700);
    expect(mode(pidFile(runDir))).toBe(0o600);
    // the pid alone on the first line (systemd's PIDFile=, pgrep -F), then the record
    const text = (await import('node:fs')).readFileSync(pidFile(runDir), 'utf8');
    expect(text.split('\n')[0]).toBe(String(group.pid));
    expect(readPidFile(pidFile(runDir))?.pid).toBe(group.pid);
  });

  it('SIGTERM: the current execution finishes, workers exit, the pid file goes, the master exits 0', async () => {
    // no pause between executions: a stop that came in one would find no execution to finish
    current = startLoop({ maxWorkerNum: 2, executeUSleep: 0 }, { workMs: 800, reportExecutionEnd: true });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const pids = [...readyPids(group).values()];
    group.signal('SIGTERM');
    const exit = await group.waitExit();
    expect(exit).toEqual({ code: 0, signal: null });
    // Every worker ended an execution after the stop was requested, and exited by 'stop'.
    const stopAt = group.events.find(is('workerStop'))!.t as number;
    for (const pid of pids) {
      expect(
        group.events.some((e) => e.event === 'executionEnd' && e.pid === pid && (e.t as number) >= stopAt),
      ).toBe(true);
      expect(group.events.find(is('workerExit', (e) => e.pid === pid))).toMatchObject({
        code: 0,
        reason: 'stop',
      });
      expect(pidAlive(pid)).toBe(false);
    }
    expect(existsSync(pidFile(runDir))).toBe(false);
  });

  it('a stop() sent during a stop begun by SIGTERM resolves once the master has exited', async () => {
    current = startLoop({ maxWorkerNum: 1 }, { workMs: 1500 });
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGTERM');
    await group.waitFor('stop to begin', () => group.output.includes('graceful stop'));
    // the master is busy with its own stop: it closes this connection without answering
    await new Manage({ baseTitle: 'loop', runDir }).stop();
    expect(pidAlive(group.pid)).toBe(false);
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('SIGHUP, SIGTTIN and SIGTTOU during a stop are said in the log to come too late; the stop goes on', async () => {
    current = startLoop({ maxWorkerNum: 1, executeUSleep: 0 }, { workMs: 1500 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGTERM');
    await group.waitFor('stop to begin', () => group.output.includes('graceful stop'));
    group.signal('SIGHUP');
    await group.waitFor('the reload refused', () =>
      group.output.includes('reload skipped: the group is stopping'),
    );
    group.signal('SIGTTIN');
    await group.waitFor('SIGTTIN refused', () =>
      group.output.includes('SIGTTIN ignored: the group is stopping'),
    );
    group.signal('SIGTTOU');
    await group.waitFor('SIGTTOU refused', () =>
      group.output.includes('SIGTTOU ignored: the group is stopping'),
    );
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.output).not.toContain('the group is not running');
    expect(group.events.filter(is('workerStart'))).toHaveLength(1);
  });

  it('SIGKILLs workers still busy after stopTimeout', async () => {
    current = startLoop({ maxWorkerNum: 1, stopTimeout: 300 }, { workMs: 60_000 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGTERM');
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.events.find(is('workerExit'))).toMatchObject({ signal: 'SIGKILL', reason: 'stop' });
  });

  // A signal sent to the whole process group (Ctrl-C, systemd's KillMode=control-group) reaches
  // the master and every worker; the master's word may reach a worker before its own copy.
  it("a group-wide stop signal is one stop: a worker's copy coming after the master's word does not cut its execution", async () => {
    current = startLoop(
      { maxWorkerNum: 1, executeUSleep: 0 },
      { workMs: 1500, reportExecutionEnd: true, reportAbort: true },
    );
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    const pid = readyPids(group).get(0)!;
    group.signal('SIGTERM');
    await group.waitEvent(
      is('aborted', (e) => e.pid === pid),
      "the master's stop reached the worker",
    );
    process.kill(pid, 'SIGTERM');
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.events.find(is('workerExit', (e) => e.pid === pid))).toMatchObject({
      code: 0,
      reason: 'stop',
    });
    const abortAt = group.events.find(is('aborted'))!.t as number;
    expect(
      group.events.some((e) => e.event === 'executionEnd' && e.pid === pid && (e.t as number) >= abortAt),
    ).toBe(true);
  });

  it('after the copy of the group-wide signal, another signal to the worker still ends it at once', async () => {
    const { group, pid } = await oneBusyWorker({ reportAbort: true });
    group.signal('SIGINT');
    await group.waitEvent(
      is('aborted', (e) => e.pid === pid),
      "the master's stop reached the worker",
    );
    // the copy of the Ctrl-C and a signal of its own, read in either order: the second ends it
    process.kill(pid, 'SIGINT');
    process.kill(pid, 'SIGTERM');
    await endsAtOnce(current!, pid, [130, 143]);
  });

  it("a worker's copy coming before the master's word is that stop too: a second signal still ends it at once", async () => {
    const { group, pid } = await oneBusyWorker({ reportAbort: true, reportStopSeen: true });
    process.kill(pid, 'SIGTERM');
    await group.waitEvent(
      is('aborted', (e) => e.pid === pid),
      'the signal reached the worker',
    );
    group.signal('SIGTERM');
    await group.waitEvent(
      is('stopSeen', (e) => e.pid === pid),
      "the master's stop to reach the worker",
    );
    expect(group.count(is('workerExit'))).toBe(0);
    process.kill(pid, 'SIGTERM');
    await endsAtOnce(current!, pid);
  });

  it('a worker already draining (a stop over the socket, a reload, a recycle) takes the group signal that comes next for that stop', async () => {
    current = startLoop(
      { maxWorkerNum: 1, executeUSleep: 0 },
      { workMs: 1500, reportExecutionEnd: true, reportStopSeen: true },
    );
    const { group, runDir } = current;
    await group.waitEvent(is('started'), 'started');
    const pid = readyPids(group).get(0)!;
    const stopping = new Manage({ baseTitle: 'loop', runDir }).stop();
    await group.waitEvent(
      is('stopSeen', (e) => e.pid === pid),
      'the stop over the socket to reach the worker',
    );
    group.signal('SIGTERM');
    await group.waitEvent(
      is('stopSeen', (e) => e.pid === pid),
      'the signal to be told to the worker',
      2,
    );
    process.kill(pid, 'SIGTERM');
    await stopping;
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.events.find(is('workerExit', (e) => e.pid === pid))).toMatchObject({
      code: 0,
      reason: 'stop',
    });
    expect(group.count(is('executionEnd', (e) => e.pid === pid))).toBeGreaterThan(0);
  });

  it('a second SIGINT forces the stop at once', async () => {
    current = startLoop({ maxWorkerNum: 2, stopTimeout: 60_000 }, { workMs: 60_000 });
    const { group } = current;
    await group.waitEvent(is('started'), 'started');
    group.signal('SIGINT');
    await group.waitFor('stop to begin', () => group.output.includes('graceful stop'));
    group.signal('SIGINT');
    const exit = await group.waitExit(10_000);
    expect(exit.code).toBe(130);
    expect(group.count(is('workerExit', (e) => e.signal === 'SIGKILL'))).toBe(2);
  });

  it('rejects start() with the first init failure and leaves nothing running', async () => {
    current = startLoop({ maxWorkerNum: 3 }, { initFailPin: 1 });
    const { group, runDir } = current;
    const failed = await group.waitEvent(is('startFailed'), 'startFailed');
    expect(failed.message).toContain("worker 1 of 'loop' failed to start: Error: init refused on pin 1");
    expect(await group.waitExit()).toEqual({ code: 1, signal: null });
    for (const e of group.events.filter(is('workerStart'))) expect(pidAlive(e.pid as number)).toBe(false);
    expect(existsSync(pidFile(runDir))).toBe(false);
  });

  it('a worker ending with the normal exit code before it was ready finished: start() resolves, the master exits 0', async () => {
    current = startLoop({ maxWorkerNum: 2 }, { exitInInit: 0 });
    const { group, runDir } = current;
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.count(is('startFailed'))).toBe(0);
    expect(group.count(is('workerExit', (e) => e.reason === 'normal'))).toBe(2);
    expect(group.output).toContain('every worker finished normally');
    expect(existsSync(pidFile(runDir))).toBe(false);
  });

  it('when every worker finished normally (done()), the master exits 0', async () => {
    current = startLoop({ maxWorkerNum: 3 }, { doneAfter: 3 });
    const { group } = current;
    expect(await group.waitExit()).toEqual({ code: 0, signal: null });
    expect(group.count(is('workerExit', (e) => e.reason === 'normal'))).toBe(3);
    expect(group.count(is('workerStart'))).toBe(3);
  });
});

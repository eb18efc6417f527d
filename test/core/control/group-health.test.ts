// Which PINs make a group degraded (the reason `drover status` exits 3), and the line that says so.
import { describe, expect, it } from 'vitest';
import type { GroupStatus, WorkerStatus } from '../../../packages/core/src/status.js';
import { describeDegraded, pinProblems } from '../../../packages/core/src/status/GroupHealth.js';

const NOW = new Date(2026, 10, 24, 10, 0, 0).getTime();

function worker(pin: number, fields: Partial<WorkerStatus>): WorkerStatus {
  return {
    pin,
    pid: 1000 + pin,
    title: `drover:Worker:web:${pin}`,
    state: 'ready',
    kind: 'permanent',
    memory: null,
    cpu: null,
    startedAt: NOW - 60_000,
    uptimeSeconds: 60,
    executions: 0,
    restarts: 0,
    lastExit: null,
    ...fields,
  };
}

function group(workers: WorkerStatus[]): GroupStatus {
  return {
    master: {
      pid: 4200,
      title: 'drover:Master:web',
      baseTitle: 'web',
      state: 'running',
      memory: 0,
      startedAt: NOW - 60_000,
      uptimeSeconds: 60,
      workerCount: workers.length,
      targetWorkers: workers.length,
      version: '0.1.0',
    },
    workers,
  };
}

const CRASH = { code: 1, signal: null, reason: 'crash' as const, at: NOW - 2000, error: 'Error: boom' };

describe('pinProblems', () => {
  it('counts backoff, a crash streak between crashes and a given-up PIN, nothing else', () => {
    const g = group([
      worker(0, { state: 'ready' }),
      worker(1, { state: 'finished', pid: null }),
      worker(2, { state: 'starting', restarts: 1, lastExit: CRASH }),
      worker(3, { state: 'starting', restarts: 4, lastExit: CRASH, crashStreak: 4 }),
      worker(4, { state: 'backoff', pid: null, restarts: 2, lastExit: CRASH, nextStartAt: NOW + 3500 }),
      worker(5, { state: 'failed', pid: null, restarts: 16, lastExit: CRASH }),
      worker(6, { state: 'stopped', pid: null }),
      worker(7, { state: 'draining' }),
    ]);
    expect(pinProblems(g).map((p) => [p.pin, p.kind])).toEqual([
      [3, 'crash-loop'],
      [4, 'crash-loop'],
      [5, 'given-up'],
    ]);
  });

  it('a process stopped by a signal is a problem, a busy one that does not answer is not', () => {
    const g = group([
      worker(0, { state: 'busy', unresponsive: true }),
      worker(1, { state: 'busy', unresponsive: true, suspended: true }),
    ]);
    expect(pinProblems(g).map((p) => [p.pin, p.kind])).toEqual([[1, 'suspended']]);
    expect(describeDegraded(g, NOW)).toBe(
      "'web' is degraded: worker 1 (pid 1001) suspended: stopped by a signal, it runs nothing until 'kill -CONT 1001'",
    );
  });

  it('a healthy group has no line', () => {
    expect(describeDegraded(group([worker(0, {}), worker(1, { state: 'busy' })]), NOW)).toBeNull();
  });
});

describe('describeDegraded', () => {
  it('names each PIN, what it does now and its last exit', () => {
    const g = group([
      worker(0, { state: 'ready', restarts: 3, lastExit: CRASH, crashStreak: 3 }),
      worker(1, { state: 'backoff', pid: null, restarts: 5, lastExit: CRASH, nextStartAt: NOW + 3500 }),
      worker(2, { state: 'failed', pid: null, restarts: 16, lastExit: CRASH }),
      worker(3, { state: 'backoff', pid: null, restarts: 1, lastExit: CRASH, nextStartAt: NOW + 180 }),
    ]);
    expect(describeDegraded(g, NOW)).toBe(
      "'web' is degraded: " +
        'worker 0 crash-looping (3 restart(s), 3 fast crashes in a row, ready again), last exit code 1, crash, 2s ago: Error: boom; ' +
        'worker 1 crash-looping (5 restart(s), next start in 4s), last exit code 1, crash, 2s ago: Error: boom; ' +
        'worker 2 given up after 16 restart(s) (restart.maxRestarts), last exit code 1, crash, 2s ago: Error: boom; ' +
        'worker 3 crash-looping (1 restart(s), next start in 0.2s), last exit code 1, crash, 2s ago: Error: boom',
    );
  });

  it('stops at four PINs and escapes what a worker wrote', () => {
    const failing = Array.from({ length: 6 }, (_, pin) =>
      worker(pin, {
        state: 'failed',
        pid: null,
        restarts: 1,
        lastExit: { ...CRASH, error: 'bad\x1b[2Jline' },
      }),
    );
    const line = describeDegraded(group(failing), NOW)!;
    expect(line).toMatch(/worker 3 given up/);
    expect(line).not.toMatch(/worker 4/);
    expect(line).toMatch(/; 2 more$/);
    expect(line).not.toContain('\x1b');
  });
});

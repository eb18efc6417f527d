import { describe, expect, it } from 'vitest';
import type { GroupStatus, WorkerStatus } from '../../../packages/core/src/status.js';
import { describeExit, renderStatusTable } from '../../../packages/core/src/status/StatusTable.js';
import {
  formatBytes,
  formatClock,
  formatDuration,
  formatPercent,
  formatWait,
} from '../../../packages/core/src/status/units.js';

const NOW = new Date(2026, 10, 23, 17, 30, 0).getTime();
const MiB = 1024 * 1024;

function worker(pin: number, extra: Partial<WorkerStatus> = {}): WorkerStatus {
  return {
    pin,
    pid: 4242 + pin,
    title: `drover:Worker:mailer:${pin}`,
    state: 'ready',
    kind: 'permanent',
    memory: 41.5 * MiB,
    cpu: 0.25,
    startedAt: NOW - 3723_000,
    uptimeSeconds: 3723,
    executions: 1234,
    restarts: 0,
    lastExit: null,
    ...extra,
  };
}

const GROUP: GroupStatus = {
  master: {
    pid: 4200,
    title: 'drover:Master:mailer',
    baseTitle: 'mailer',
    state: 'running',
    memory: 45.2 * MiB,
    startedAt: NOW - 3725_000,
    uptimeSeconds: 3725,
    workerCount: 2,
    targetWorkers: 3,
    version: '0.1.0',
  },
  workers: [
    worker(0),
    worker(1, { state: 'busy', cpu: 97.4, restarts: 2 }),
    worker(2, {
      pid: null,
      state: 'backoff',
      memory: null,
      cpu: null,
      startedAt: null,
      uptimeSeconds: 0,
      executions: 0,
      restarts: 3,
      nextStartAt: NOW + 2_000,
      lastExit: { code: 1, signal: null, reason: 'crash', at: NOW - 3_000, error: 'Error: boom\u001b[2J' },
    }),
  ],
};

describe('renderStatusTable', () => {
  it('renders the master line and one aligned line per worker, with human units', () => {
    const text = renderStatusTable([GROUP], { now: NOW });
    expect(text).toBe(
      [
        'TYPE     PID  TITLE                 STATE      MEMORY  STARTED      RUN  WORKERS',
        'Master  4200  drover:Master:mailer  running  45.2 MiB  16:27:55  1h 02m      2/3',
        '',
        'PIN   PID  TITLE                   STATE         MEMORY   CPU  STARTED      RUN  EXECUTIONS  RESTARTS  LAST EXIT',
        '  0  4242  drover:Worker:mailer:0  ready       41.5 MiB  0.3%  16:27:57  1h 02m        1234         0  -',
        '  1  4243  drover:Worker:mailer:1  busy        41.5 MiB   97%  16:27:57  1h 02m        1234         2  -',
        '  2     -  drover:Worker:mailer:2  backoff 2s         -     -  -              -           0         3  code 1, crash, 3s ago: Error: boom\\x1b[2J',
        '',
      ].join('\n'),
    );
  });

  it('shows under the master line that its log cannot be written, escaped', () => {
    const failing: GroupStatus = {
      ...GROUP,
      master: {
        ...GROUP.master,
        logProblem: "log file '/run/x/mailer.log' cannot be written (EFBIG)\u001b[2J",
      },
    };
    const lines = renderStatusTable([failing], { now: NOW }).split('\n');
    expect(lines[2]).toBe("log: log file '/run/x/mailer.log' cannot be written (EFBIG)\\x1b[2J");
    expect(lines[3]).toBe('');
  });

  it("puts a PIN's successor and replaced processes on lines of their own under it", () => {
    const reloading: GroupStatus = {
      ...GROUP,
      workers: [
        worker(0, {
          others: [
            {
              pid: 5000,
              title: 'drover:Worker:mailer:0',
              role: 'replaced',
              state: 'draining',
              memory: 40 * MiB,
              startedAt: NOW - 7200_000,
              uptimeSeconds: 7200,
            },
          ],
        }),
        worker(1),
      ],
    };
    const lines = renderStatusTable([reloading], { now: NOW }).split('\n');
    expect(lines.slice(4, 7)).toEqual([
      '  0  4242  drover:Worker:mailer:0  ready                41.5 MiB  0.3%  16:27:57  1h 02m        1234         0  -',
      '  0  5000  drover:Worker:mailer:0  draining (replaced)  40.0 MiB     -  15:30:00  2h 00m           -         -  -',
      '  1  4243  drover:Worker:mailer:1  ready                41.5 MiB  0.3%  16:27:57  1h 02m        1234         0  -',
    ]);
  });

  it('colours only when asked, and the colours do not break the alignment', () => {
    expect(renderStatusTable([GROUP], { now: NOW })).not.toContain('\x1b[');
    const coloured = renderStatusTable([GROUP], { now: NOW, color: true });
    expect(coloured).toContain('\x1b[32mready\x1b[39m');
    expect(coloured).toContain('\x1b[31mbackoff 2s\x1b[39m');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping the colour codes
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, '')).toBe(renderStatusTable([GROUP], { now: NOW }));
  });

  it('fits a width by cutting titles and last exits, never the figures', () => {
    const text = renderStatusTable([GROUP], { now: NOW, width: 110 });
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(110);
    expect(text).toContain('1234');
    expect(text).toContain('…');
  });

  it('separates groups with a blank line and says so when none runs', () => {
    const two = renderStatusTable([GROUP, { ...GROUP, workers: [] }], { now: NOW });
    expect(two.split('\n\n').length).toBe(4);
    expect(two).toContain('no workers');
    expect(renderStatusTable([])).toBe('no drover group is running\n');
  });
});

describe('status units', () => {
  it('sizes, durations, clock times and percentages', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(150 * MiB), formatBytes(null)]).toEqual([
      '512 B',
      '1.5 KiB',
      '150 MiB',
      '-',
    ]);
    expect([formatDuration(5), formatDuration(192), formatDuration(7500), formatDuration(360_000)]).toEqual([
      '5s',
      '3m 12s',
      '2h 05m',
      '4d 04h',
    ]);
    // a wait under a second keeps its tenths: a 200 ms backoff is not '1s'
    expect([formatWait(40), formatWait(200), formatWait(999), formatWait(1000), formatWait(1001)]).toEqual([
      '0.1s',
      '0.2s',
      '1.0s',
      '1s',
      '2s',
    ]);
    expect([formatWait(0), formatWait(-300), formatWait(Number.NaN)]).toEqual(['0s', '0s', '-']);
    expect(formatClock(NOW - 60_000, NOW)).toBe('17:29:00');
    expect(formatClock(new Date(2026, 0, 2, 3, 4, 5).getTime(), NOW)).toBe('2026-01-02 03:04');
    expect(formatClock(null, NOW)).toBe('-');
    expect([formatPercent(0.25), formatPercent(12.4), formatPercent(null)]).toEqual(['0.3%', '12%', '-']);
  });

  it('describes an exit by code or signal and reason', () => {
    expect(describeExit({ code: null, signal: 'SIGKILL', reason: 'stop', at: NOW - 121_000 }, NOW)).toBe(
      'SIGKILL, stop, 2m 01s ago',
    );
    expect(describeExit(null, NOW)).toBe('-');
  });
});

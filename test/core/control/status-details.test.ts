// The block `drover status <name>` prints under a group's tables (renderStatusTable's `details`):
// what it runs, the options it set, its last environment update and its last reload; and what it
// prints for a master older than these fields.
import { describe, expect, it } from 'vitest';
import { resolveManageConfig } from '../../../packages/core/src/config.js';
import { optionsStatus, runStatus } from '../../../packages/core/src/master/describeGroup.js';
import type { GroupStatus, MasterStatus } from '../../../packages/core/src/status.js';
import { renderStatusTable } from '../../../packages/core/src/status/StatusTable.js';
import { formatMs } from '../../../packages/core/src/status/units.js';

const NOW = new Date(2026, 10, 23, 17, 30, 0).getTime();
const MiB = 1024 * 1024;

/** A master as one older than `run`, `options`, `envUpdate` and `lastReload` sends it. */
const OLD_MASTER: MasterStatus = {
  pid: 4200,
  title: 'drover:Master:web',
  baseTitle: 'web',
  state: 'running',
  memory: 45.2 * MiB,
  startedAt: NOW - 3725_000,
  uptimeSeconds: 3725,
  workerCount: 0,
  targetWorkers: 0,
  version: '0.0.9',
};

const MASTER: MasterStatus = {
  ...OLD_MASTER,
  version: '0.1.0',
  run: {
    script: '/srv/app/server.mjs',
    mode: 'script',
    args: ['--port', '8080', 'two words'],
    cwd: '/srv/app',
    execArgv: ['--max-old-space-size=512'],
    source: {
      file: '/srv/app/drover.config.json',
      entry: { baseTitle: 'web', script: '/srv/app/server.mjs' },
    },
    logFile: '/run/drover/logs/web.log',
  },
  options: {
    ...optionsStatus(resolveManageConfig({ baseTitle: 'web' })),
    maxMemory: 300 * MiB,
    stopTimeout: 5000,
    readyWhen: 'listening',
    restart: { ...optionsStatus(resolveManageConfig({ baseTitle: 'web' })).restart, maxRestarts: 5 },
  },
};

/** The lines under the tables of one group (the tables end with the worker table's lines). */
function details(master: MasterStatus, width?: number): string[] {
  const group: GroupStatus = { master, workers: [] };
  const text = renderStatusTable([group], { now: NOW, details: true, width });
  // master table (2 lines), blank, 'no workers', blank, then the block
  return text.trimEnd().split('\n').slice(5);
}

describe('the details block of drover status <name>', () => {
  it('says what runs, from where, with which options, and that nothing was reloaded yet', () => {
    expect(details(MASTER)).toEqual([
      "script   /srv/app/server.mjs --port 8080 'two words'",
      'cwd      /srv/app',
      "config   /srv/app/drover.config.json, entry 'web'",
      'log      /run/drover/logs/web.log',
      'node     --max-old-space-size=512',
      'options  maxMemory 300 MiB, readyWhen listening, stopTimeout 5s, restart.maxRestarts 5',
      'env      as started',
      'reload   none since the start',
    ]);
  });

  it('says a group with every default so, and a group of its own entry without a log file', () => {
    const master: MasterStatus = {
      ...MASTER,
      run: { script: '/srv/app/main.mjs', mode: 'entry', args: [], cwd: '/srv/app', execArgv: [] },
      options: optionsStatus(resolveManageConfig({ baseTitle: 'web' })),
    };
    expect(details(master)).toEqual([
      "script   /srv/app/main.mjs (the group's own entry, run again)",
      'cwd      /srv/app',
      "log      no file: the master's terminal, or a logger of its own",
      'options  defaults',
      'env      as started',
      'reload   none since the start',
    ]);
  });

  it('tells the last reload: done, partly done, stopped with its error', () => {
    const at = NOW - 60_000;
    const reload = (lastReload: MasterStatus['lastReload']) =>
      details({ ...MASTER, lastReload }).find((line) => line.startsWith('reload'));
    expect(reload({ at, replaced: 4, started: 0, notStarted: [], aborted: false })).toBe(
      'reload   ok, 4 replaced, 17:29:00',
    );
    expect(reload({ at, replaced: 2, started: 1, notStarted: [0, 3], aborted: false })).toBe(
      'reload   done, 2 replaced, 1 started, workers 0, 3 did not start, 17:29:00',
    );
    expect(
      reload({
        at,
        replaced: 1,
        started: 0,
        notStarted: [],
        aborted: true,
        error: "worker 1 of 'web' failed to start: Error: boom\u001b[2J",
        envUpdate: true,
      }),
    ).toBe(
      "reload   stopped after 1 replaced, 17:29:00, environment update not kept: worker 1 of 'web' failed to start: Error: boom\\x1b[2J",
    );
  });

  it('names the variables of the last environment update, never more than 8, and wraps to the width', () => {
    const master: MasterStatus = {
      ...MASTER,
      envUpdatedAt: NOW - 5_000,
      envUpdate: {
        by: 'reload',
        added: ['NEW'],
        changed: ['A', 'B', 'C', 'D', 'E', 'F', 'G'],
        removed: ['OLD', 'OLDER'],
      },
    };
    expect(details(master).find((line) => line.startsWith('env'))).toBe(
      'env      updated 17:29:55 by reload: changed A B C D E F G, added NEW, +2 more',
    );
    // a line breaks between its parts, never inside one, and goes on under the first value
    const narrow = details(master, 62);
    const at = narrow.findIndex((line) => line.startsWith('env'));
    expect(narrow.slice(at, at + 3)).toEqual([
      'env      updated 17:29:55 by reload: changed A B C D E F G,',
      '         added NEW, +2 more',
      'reload   none since the start',
    ]);
  });

  it('reads an older master: one line saying what is missing, and the tables as before', () => {
    const group: GroupStatus = { master: OLD_MASTER, workers: [] };
    const withDetails = renderStatusTable([group], { now: NOW, details: true });
    const without = renderStatusTable([group], { now: NOW });
    expect(withDetails).toBe(`${without}\ndetails  not reported by this master (drover 0.0.9)\n`);
  });

  it('leaves the block out unless asked', () => {
    const text = renderStatusTable([{ master: MASTER, workers: [] }], { now: NOW });
    expect(text).not.toContain('script');
    expect(text.trimEnd().split('\n')).toHaveLength(4);
  });
});

describe('what a master reports of its group', () => {
  it('keeps maxRestarts Infinity through JSON as null, and sets user and group only when given', () => {
    const options = optionsStatus(resolveManageConfig({ baseTitle: 'web' }));
    // null in the master's process too, not only once JSON has turned Infinity into null
    expect(options.restart.maxRestarts).toBeNull();
    expect(options).not.toHaveProperty('user');
    const five = optionsStatus(
      resolveManageConfig({ baseTitle: 'web', restart: { maxRestarts: 5 }, user: 'app' }),
    );
    expect(five.restart.maxRestarts).toBe(5);
    expect(five.user).toBe('app');
  });

  it('gives the workers directory absolute and their own Node options', () => {
    const run = runStatus(
      { exec: '/srv/app/server.mjs', args: ['x'], script: true },
      resolveManageConfig({ baseTitle: 'web', cwd: 'sub', execArgv: ['--no-warnings'] }),
    );
    expect(run.cwd).toBe(`${process.cwd()}/sub`);
    expect(run.execArgv.at(-1)).toBe('--no-warnings');
    expect(run.execArgv.some((a) => a.startsWith('--title'))).toBe(false);
    expect(run.mode).toBe('script');
    expect(run).not.toHaveProperty('source');
  });

  it('writes delays as the options take them', () => {
    expect([0, 500, 1000, 1500, 120_000, 3_600_000, 90_500].map(formatMs)).toEqual([
      '0',
      '500ms',
      '1s',
      '1.5s',
      '2m',
      '1h',
      '90.5s',
    ]);
  });
});

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitAllDead } from '../support/group.js';
import {
  cpuTicks,
  is,
  RELIABILITY_FIXTURES,
  startGroup,
  until,
  wholeGroup,
  workerPids,
  cleanupAfterEach,
} from './support.js';

const { track, scratch } = cleanupAfterEach('drover-rel-crash-');

const GOOD = readFileSync(join(RELIABILITY_FIXTURES, 'scripts/report.mjs'), 'utf8');

/** Broken scripts, written at test time (a file with a syntax error cannot live in the tree). */
const BROKEN = [
  {
    kind: 'throws at import',
    source: "throw new Error('boom at import');\n",
    error: /^Error: boom at import/,
  },
  {
    kind: 'has a syntax error',
    source: 'export const = 1;\n',
    error: /^SyntaxError: /,
  },
  { kind: 'is missing', source: null, error: /Cannot find module/ },
] as const;

function install(path: string, source: string | null): void {
  if (source === null) rmSync(path, { force: true });
  else writeFileSync(path, source);
}

describe('crash loop: a script that cannot load', () => {
  it.each(BROKEN)(
    'at start, a script that $kind: start fails with the reason and nothing is left',
    async ({ source, error }) => {
      const script = join(scratch(), 'app.mjs');
      install(script, source);
      const g = track(startGroup({ name: 'rel-crash-start', script, config: { maxWorkerNum: 2 } }));
      const failed = await g.group.waitEvent(is('startFailed'), 'start to fail');
      expect(failed.code).toBe('EWORKERINIT');
      expect(failed.message).toMatch(/worker \d of 'rel-crash-start' failed to start: /);
      expect((failed.message as string).replace(/^.*failed to start: /, '')).toMatch(error);
      expect(await g.group.waitExit()).toEqual({ code: 1, signal: null });
      await waitAllDead(workerPids(g.group), 3000);
    },
  );

  it.each(BROKEN)(
    'in a running group, a script that now $kind: clear error, backoff in status, master up and idle, recovers once fixed',
    async ({ source, error }) => {
      const name = 'rel-crash-loop';
      const script = join(scratch(), 'app.mjs');
      install(script, GOOD);
      const g = track(
        startGroup({
          name,
          script,
          config: { maxWorkerNum: 2, restart: { initialDelayMs: 100, maxDelayMs: 1600 } },
        }),
      );
      await g.group.waitEvent(is('started'), 'started');
      const master = g.group.pid;

      // a bad deploy, then both workers die
      install(script, source);
      for (const e of g.group.events.filter(is('workerReady'))) process.kill(e.pid as number, 'SIGKILL');
      for (const pin of [0, 1])
        await g.group.waitEvent(
          is('workerBackoff', (e) => e.pin === pin && (e.streak as number) >= 3),
          `PIN ${pin} in backoff`,
        );

      // CPU of the master over 3 s of the crash loop: a bound on work, not on time
      const ticks = cpuTicks(master);
      const t0 = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const cpuPercent = (cpuTicks(master) - ticks) / ((Date.now() - t0) / 1000);
      expect(cpuPercent).toBeLessThan(20);
      expect(g.group.count(is('workerStart'))).toBeGreaterThan(6);

      const status = await until('a PIN shown in backoff', async () => {
        const s = await g.status();
        return s.workers.some((w) => w.state === 'backoff')
          ? s
          : JSON.stringify(s.workers.map((w) => w.state));
      });
      for (const w of status.workers) expect(w.lastExit).toMatchObject({ reason: 'crash', code: 1 });
      // the worker's own report of the error: on every PIN but a rare exit that came without it
      // (a process that died before its runtime booted has nothing to report)
      const reported = status.workers.filter((w) => w.lastExit?.error);
      expect(reported.length).toBeGreaterThan(0);
      for (const w of reported) expect(w.lastExit?.error).toMatch(error);
      const inBackoff = status.workers.find((w) => w.state === 'backoff')!;
      expect(inBackoff.nextStartAt).toBeGreaterThan(Date.now() - 2000);
      // the log says what is wrong, in the master's own words
      expect(g.group.output).toMatch(
        /error +\[rel-crash-loop:master #\d+\] worker exited pin=\d .*reason=crash error=/,
      );
      expect(g.group.alive).toBe(true);

      install(script, GOOD);
      await until('the group to be whole again', async () => wholeGroup(await g.status(), name, 2), 20_000);
      g.group.signal('SIGTERM');
      expect(await g.group.waitExit()).toEqual({ code: 0, signal: null });
    },
    45_000,
  );
});

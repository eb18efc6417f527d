import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DroverError } from '../../../packages/core/src/errors.js';
import { CpuSampler, pageSize, parseProcStat, Process } from '../../../packages/core/src/process/Process.js';
import { killWithArg, pidsWithArg, uniqueSleep } from '../../support/marked.js';
import { Children, waitFor } from './support.js';

const children = new Children();
afterEach(() => children.killAll());

const IDLE = 'setInterval(() => {}, 1000); console.log("ready");';

describe('Process.checkAlive', () => {
  it('is true for a running process and false once it has exited', async () => {
    expect(Process.checkAlive(process.pid)).toBe(true);
    const child = children.node(IDLE);
    await child.line(/ready/);
    expect(new Process(child.pid).isAlive()).toBe(true);
    await child.kill();
    expect(Process.checkAlive(child.pid)).toBe(false);
  });

  it('calls a zombie dead although kill(pid, 0) still succeeds', async () => {
    // `sleep 0` exits at once, and the exec'd `sleep 60` never reaps it: a zombie until sh's pid dies
    const parent = children.spawn('sh', ['-c', 'sleep 0 & echo "zombie $!"; exec sleep 60']);
    const zombie = Number((await parent.line(/^zombie \d+$/)).split(' ')[1]);
    await waitFor('the child to become a zombie', () => Process.stat(zombie)?.state === 'Z');
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(Process.checkAlive(zombie)).toBe(false);
    expect(Process.children(parent.pid)).not.toContain(zombie);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses pid %s, naming it, instead of signalling a group', (pid) => {
    let caught: unknown;
    try {
      Process.checkAlive(pid);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DroverError);
    expect((caught as DroverError).code).toBe('EINVAL');
    expect((caught as Error).message).toContain(`pid ${pid}`);
    expect(() => Process.stat(pid)).toThrow(DroverError);
    expect(() => Process.rss(pid)).toThrow(DroverError);
    expect(() => Process.children(pid)).toThrow(DroverError);
    expect(() => Process.descendants(pid)).toThrow(DroverError);
  });
});

describe('Process.stat', () => {
  it('parses a process whose name holds spaces and parentheses', async () => {
    const child = children.node(`process.title = 'a) b (c) d'; ${IDLE}`);
    await child.line(/ready/);
    const stat = Process.stat(child.pid);
    expect(stat).not.toBeNull();
    expect(stat?.pid).toBe(child.pid);
    expect(stat?.ppid).toBe(process.pid);
    expect(stat?.pgid).toBe(Process.stat(process.pid)?.pgid);
    expect(['R', 'S']).toContain(stat?.state);
    expect(stat?.startTime).toBeGreaterThanOrEqual(Process.stat(process.pid)?.startTime as number);
    expect(stat?.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(stat?.utimeTicks).toBeGreaterThanOrEqual(0);
  });

  it('returns null for a process that is gone', async () => {
    const child = children.node(IDLE);
    await child.line(/ready/);
    await child.kill();
    expect(Process.stat(child.pid)).toBeNull();
    expect(Process.rss(child.pid)).toBeNull();
  });

  it('finds the fields after any command name (property)', () => {
    const number = fc.integer({ min: 0, max: 2 ** 40 });
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('R', 'S', 'D', 'Z', 'T', 'X'),
        fc.array(number, { minLength: 50, maxLength: 50 }),
        (comm, state, fields) => {
          const pid = fields[0] as number;
          // fields 4..52 follow the state; index i holds field i + 4
          const text = `${pid} (${comm}) ${state} ${fields.slice(1).join(' ')}\n`;
          const stat = parseProcStat(text, 4096);
          expect(stat).toEqual({
            pid,
            state,
            ppid: fields[1],
            pgid: fields[2],
            utimeTicks: fields[11],
            stimeTicks: fields[12],
            startTime: fields[19],
            rssBytes: (fields[21] as number) * 4096,
          });
        },
      ),
    );
  });

  it('returns null for text that is not a stat line', () => {
    for (const text of [
      '',
      'x',
      '12 (a)',
      '12 (a) S 1 2',
      'abc (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21',
    ]) {
      expect(parseProcStat(text, 4096)).toBeNull();
    }
  });
});

describe('Process.rss', () => {
  it('reads the resident set size in bytes', () => {
    expect(pageSize()).toBeGreaterThanOrEqual(4096);
    const fromProc = Process.rss(process.pid) as number;
    const fromNode = process.memoryUsage.rss();
    expect(fromProc).toBeGreaterThan(fromNode * 0.75);
    expect(fromProc).toBeLessThan(fromNode * 1.25);
  });
});

describe('Process.children', () => {
  it('lists the direct children of a process', async () => {
    const parent = children.node(
      `const { spawn } = require('node:child_process');
       const kids = [spawn('sleep', ['60']), spawn('sleep', ['60'])];
       console.log('kids ' + kids.map((k) => k.pid).join(' '));
       setInterval(() => {}, 1000);`,
    );
    const kids = (await parent.line(/^kids /)).split(' ').slice(1).map(Number);
    try {
      expect(Process.children(parent.pid)).toEqual([...kids].sort((a, b) => a - b));
      expect(Process.children(kids[0] as number)).toEqual([]);
    } finally {
      for (const kid of kids) process.kill(kid, 'SIGKILL');
    }
  });
});

describe('Process.descendants', () => {
  it('lists every level, detached ones too, parents first, with start times; no zombie, not itself', async () => {
    const mark = uniqueSleep();
    // node -> sleep; node -> sh -> (sleep, sh -> sleep, a zombie); node -> sleep in a session of its own
    const shell = `sleep "$0" & sh -c 'sleep "$0"; :' "$0" & sleep 0 & wait`;
    const parent = children.node(
      `const { spawn } = require('node:child_process');
       const mark = ${JSON.stringify(mark)};
       const direct = spawn('sleep', [mark], { stdio: 'ignore' });
       const shell = spawn('sh', ['-c', ${JSON.stringify(shell)}, mark], { stdio: 'ignore' });
       const detached = spawn('sleep', [mark], { stdio: 'ignore', detached: true });
       console.log('kids ' + [direct.pid, shell.pid, detached.pid].join(' '));
       setInterval(() => {}, 1000);`,
    );
    try {
      const [direct, sh, detached] = (await parent.line(/^kids /)).split(' ').slice(1).map(Number);
      // the outer sh, the inner sh and the four sleeps carry the mark
      await waitFor('the whole tree', () => pidsWithArg(mark).length === 6);
      const found = Process.descendants(parent.pid);
      const pids = found.map((d) => d.pid);
      expect(new Set(pids)).toEqual(new Set(pidsWithArg(mark)));
      expect(pids).toEqual(expect.arrayContaining([direct, sh, detached]));
      expect(pids).not.toContain(parent.pid);
      expect(Process.stat(detached as number)?.pgid).toBe(detached); // its own group and session
      const depth = new Map<number, number>([[parent.pid, 0]]);
      for (const d of found) {
        expect(d.startTime).toBe(Process.stat(d.pid)?.startTime);
        expect(d.state).not.toBe('Z');
        // a parent comes before its children
        expect(depth.has(d.ppid)).toBe(true);
        depth.set(d.pid, (depth.get(d.ppid) as number) + 1);
      }
      expect(Math.max(...depth.values())).toBe(3);
      expect(Process.descendants(direct as number)).toEqual([]);
    } finally {
      await parent.kill();
      killWithArg(mark);
    }
  });
});

describe('CpuSampler', () => {
  it('tells a busy process from an idle one, as percent of one core', async () => {
    const busy = children.node('console.log("ready"); for (;;) {}');
    const idle = children.node(IDLE);
    await busy.line(/ready/);
    await idle.line(/ready/);
    const sampler = new CpuSampler();
    const first = sampler.sample(busy.pid);
    expect(first).not.toBeNull();
    sampler.sample(idle.pid);
    const ticksAtStart = cpuTicks(busy.pid);
    // wait on work done, not on a clock: half a second of CPU burnt by the busy child
    await waitFor(
      'the busy child to use 0.5 s of CPU',
      () => cpuTicks(busy.pid) - ticksAtStart >= 50,
      20_000,
    );
    const busyPercent = sampler.sample(busy.pid) as number;
    const idlePercent = sampler.sample(idle.pid) as number;
    expect(busyPercent).toBeGreaterThan(10);
    expect(busyPercent).toBeLessThanOrEqual(110);
    expect(idlePercent).toBeGreaterThanOrEqual(0);
    expect(idlePercent).toBeLessThan(5);
  });

  it('returns null for a process that is gone', async () => {
    const child = children.node(IDLE);
    await child.line(/ready/);
    const sampler = new CpuSampler();
    expect(sampler.sample(child.pid)).not.toBeNull();
    await child.kill();
    expect(sampler.sample(child.pid)).toBeNull();
  });
});

function cpuTicks(pid: number): number {
  const stat = Process.stat(pid);
  return stat ? stat.utimeTicks + stat.stimeTicks : 0;
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RunningGroup, tempDir } from '../support/group.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs an example as a user would (`node examples/...`), in a private run dir. */
function runExample(path: string, runDir: string): RunningGroup {
  const proc = spawn(process.execPath, [`--title=drover:Master:example`, `${EXAMPLES}${path}`], {
    env: { ...process.env, DROVER_RUN_DIR: runDir, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const group = new RunningGroup(proc);
  cleanups.push(() => group.kill());
  return group;
}

function privateRunDir(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return dir;
}

describe('the seed examples', () => {
  it('multiworker-exit41: workers that exit(41) are replaced on the same PIN at once, with no backoff', async () => {
    const g = runExample('seeds/multiworker-exit41.mjs', privateRunDir());
    const pidsOf = (pin: string) =>
      new Set([...g.output.matchAll(new RegExp(`PIN ${pin} pid (\\d+): working`, 'g'))].map((x) => x[1]));
    const m = await g.waitFor(
      'a replacement',
      () => /PIN (\d) pid (\d+) exited with 41 \(crash\): replaced on the same PIN/.exec(g.output),
      20_000,
    );
    const pin = m[1] as string;
    await g.waitFor(`PIN ${pin} working again in a new process`, () => pidsOf(pin).size >= 2);
    // A second exit(41) in a row is where the default restart policy would back off; the
    // example's backoff line and its workers' lines go through the master's stdout in order.
    await g.waitFor(`PIN ${pin} replaced twice`, () => pidsOf(pin).size >= 3, 30_000);
    expect(g.output).not.toMatch(/in backoff/);
  });

  it('cron-single: a second run refuses at once while the first is busy, and the first finishes with 0', async () => {
    const runDir = privateRunDir();
    const first = runExample('seeds/cron-single.mjs', runDir);
    await first.waitFor('the first run working', () => first.output.includes('building report part 3/3'));
    const second = runExample('seeds/cron-single.mjs', runDir);
    expect(await second.waitExit()).toEqual({ code: 0, signal: null });
    expect(second.output).toContain(`drover: 'nightly-report' is already running (pid ${first.pid})`);
    expect(await first.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('naruto-reload: a reload lets the running job finish before its worker leaves', async () => {
    const g = runExample('seeds/naruto-reload.mjs', privateRunDir());
    const started = await g.waitFor('a job running', () => /pid (\d+): job (\d+) started/.exec(g.output));
    g.signal('SIGHUP');
    await g.waitFor('reload done', () => g.output.includes('reload done: 2 workers replaced'), 20_000);
    expect(g.output).toContain(`pid ${started[1]}: job ${started[2]} finished`);
  });

  it('process-manage: init once per process, recycled after 5 executions', async () => {
    const g = runExample('seeds/process-manage.mjs', privateRunDir());
    const left = await g.waitFor('a recycle', () => /pid (\d+) left: recycle/.exec(g.output), 20_000);
    expect(g.output).toContain(`pid ${left[1]}: execution 5/5`);
    expect(g.output.match(new RegExp(`pid ${left[1]}: init`, 'g'))).toHaveLength(1);
  });
});

// Workers that do not finish within stopTimeout are SIGKILLed: a stop, a scale down or a restart
// still succeeds (exit 0, as systemd's stop does), but its line says how many executions were cut
// off, and the log has a warning per worker killed (a `logLevel: 'warning'` log keeps it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive, waitUntil } from './support/bin.js';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** Executions of a minute: a stop waits for the one under way until stopTimeout. */
const LONG_WORK = `export async function work(worker) {
  console.log(\`execution begins on \${worker.pin}\`);
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}
`;

function logOf(box: Sandbox): string {
  return readFileSync(join(box.runDir, 'logs', 'cut.log'), 'utf8');
}

/** Waits until `count` executions have begun since the start. */
function executionsBegun(box: Sandbox, count: number): Promise<true> {
  return waitUntil(
    `${count} executions begun`,
    () => ((logOf(box).match(/execution begins on/g)?.length ?? 0) >= count ? true : undefined),
    20_000,
    () => logOf(box).slice(-2000),
  );
}

describe('workers killed at stopTimeout', () => {
  it('scale down, restart and stop exit 0 and say how many workers were killed; the log warns per worker', async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'long.mjs'), LONG_WORK);
    const started = await box.drover([
      'start',
      'long.mjs',
      '-d',
      '-w',
      '3',
      '--name=cut',
      '--stop-timeout=1s',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const pid = box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    await box.waitWorkers('cut', 3);
    await executionsBegun(box, 3);

    const scaled = await box.drover(['scale', 'cut', '2']);
    expect(scaled).toMatchObject({ code: 0, stderr: '' });
    expect(scaled.stdout).toBe(
      "scaled 'cut' from 3 to 2 worker(s); 1 worker(s) did not finish within stopTimeout 1s and were killed\n",
    );

    const restarted = await box.drover(['restart', 'cut']);
    expect(restarted).toMatchObject({ code: 0, stderr: '' });
    expect(restarted.stdout).toBe(
      "restarted the workers of 'cut'; 2 worker(s) did not finish within stopTimeout 1s and were killed\n",
    );
    const workers = (await box.waitWorkers('cut', 2)).workers.map((w) => w.pid!);
    await executionsBegun(box, 5);

    const stopped = await box.drover(['stop', 'cut']);
    expect(stopped).toMatchObject({ code: 0, stderr: '' });
    expect(stopped.stdout).toBe(
      `stopped 'cut' (pid ${pid}); 2 worker(s) did not finish within stopTimeout 1s and were killed\n`,
    );
    await waitUntil('the group to end', () =>
      [pid, ...workers].every((p) => !pidAlive(p)) ? true : undefined,
    );

    const warnings = logOf(box).match(
      /warning +\[cut:master #\d+\] worker did not finish within stopTimeout \(1s\), killed pin=\d+ pid=\d+ reason=\w+/g,
    );
    expect(warnings?.map((w) => w.replace(/.* reason=/, ''))).toEqual([
      'scale',
      'restart',
      'restart',
      'stop',
      'stop',
    ]);
    expect(logOf(box)).toMatch(/\] stopped killedAtStopTimeout=2\n/);
  }, 90_000);
});

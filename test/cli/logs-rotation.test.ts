// `drover logs` of a background group whose log rotates all the time: each run reads the file its
// master writes, even when it looks between the close of the old file and the open of the new.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from './support/bin.js';
import { sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

/** A worker that prints about 200 kB a second: a 1K log rotates about two hundred times a second (its master holds no log file open a quarter of the time). */
const FLOOD = `let i = 0;
setInterval(() => {
  for (let n = 0; n < 20; n++) console.log(\`line \${i++} \${'z'.repeat(80)}\`);
}, 10);
`;

const RUNS = 30;

describe('drover logs during rotations', () => {
  it(`reads the log ${RUNS} times in a row while it rotates many times a second`, async () => {
    const box = openSandbox();
    writeFileSync(join(box.dir, 'flood.mjs'), FLOOD);
    writeFileSync(
      join(box.dir, 'drover.config.mjs'),
      `export default { groups: [{ baseTitle: 'flood', script: './flood.mjs', maxWorkerNum: 1, logRotation: { size: '1K', maxFiles: 3 } }] };\n`,
    );
    const started = await box.drover(['start', '-d']);
    expect(started.code, started.stderr).toBe(0);
    box.track(Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]));
    await box.waitWorkers('flood', 1);
    const rotated = join(box.runDir, 'logs', 'flood.log.2');
    await waitUntil('two rotations', () => existsSync(rotated) || undefined, 20_000);

    const log = join(box.runDir, 'logs', 'flood.log');
    const inode = () => statSync(log, { throwIfNoEntry: false })?.ino;
    const failures: string[] = [];
    let rotatedDuringRuns = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = inode();
      const result = await box.drover(['logs', 'flood', '-n', '5']);
      if (inode() !== before) rotatedDuringRuns++;
      if (result.code !== 0 || result.stderr !== '') failures.push(`exit ${result.code}: ${result.stderr}`);
    }
    expect(failures).toEqual([]);
    // the log did rotate while the runs read it
    expect(rotatedDuringRuns).toBeGreaterThan(RUNS / 2);
  }, 120_000);
});

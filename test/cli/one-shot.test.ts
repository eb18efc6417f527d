// A script that does its job while it loads and exits 0 (a one-shot job) has finished: it did not
// fail to start. In the foreground the group ends with exit 0; in the background no daemon stays,
// and the start says so instead of reporting a crash.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, sandboxPerTest } from './support/sandbox.js';

const openSandbox = sandboxPerTest();

function oneShot(): { box: Sandbox; script: string } {
  const box = openSandbox();
  const script = join(box.dir, 'job.mjs');
  writeFileSync(script, "console.log('job done');\nprocess.exit(0);\n");
  return { box, script };
}

describe('a one-shot script', () => {
  it('in the foreground: every worker finishes, drover exits 0', async () => {
    const { box, script } = oneShot();
    const result = await box.drover(['start', script, '-w=2', '--name=job']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('every worker finished normally');
    expect(`${result.stdout}${result.stderr}`).not.toContain('failed to start');
  });

  it('in the background: the start says the job ended and that it runs in the foreground', async () => {
    const { box, script } = oneShot();
    const result = await box.drover(['start', script, '-d', '--name=job']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "drover: 'job' ended in the background as soon as it started: every worker finished normally, so no daemon keeps running; a script that ends by itself (a one-shot job) runs in the foreground: start it without -d",
    );
  });
});

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('test environment', () => {
  it('tags every process the tests start, so the leak check can find it', async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdout.write(process.env.DROVER_LEAK_TAG ?? "")']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((resolve) => child.once('close', resolve));
    expect(out).toMatch(/^[0-9a-f-]{36}$/);
  });
});

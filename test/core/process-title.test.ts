import { spawn } from 'node:child_process';
import { Process } from '@drover/core';
import { describe, expect, it } from 'vitest';

describe('Process.title', () => {
  it('reads the title ps shows, a renamed process included, and null once it is gone', async () => {
    const child = spawn(
      process.execPath,
      ['-e', "process.title = 'drover-test:renamed'; setInterval(() => {}, 1000)"],
      { stdio: 'ignore' },
    );
    const pid = child.pid!;
    try {
      const deadline = Date.now() + 10_000;
      while (Process.title(pid) !== 'drover-test:renamed') {
        if (Date.now() > deadline) throw new Error(`no new title within 10 s: ${Process.title(pid)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    expect(Process.title(pid)).toBeNull();
  });
});

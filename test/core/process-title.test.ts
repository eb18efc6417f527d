import { spawn } from 'node:child_process';
import { Process } from '@drover/core';
import { describe, expect, it } from 'vitest';
import { waitFor } from './infra/support.js';

describe('Process.title', () => {
  it('reads the title ps shows, a renamed process included, and null once it is gone', async () => {
    const child = spawn(
      process.execPath,
      ['-e', "process.title = 'drover-test:renamed'; setInterval(() => {}, 1000)"],
      { stdio: 'ignore' },
    );
    const pid = child.pid!;
    try {
      await waitFor('the new title', () => Process.title(pid) === 'drover-test:renamed');
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    expect(Process.title(pid)).toBeNull();
  });
});

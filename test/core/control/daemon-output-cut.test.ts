// A background daemon's `<name>.out` past 10 MiB is cut by a copy to `.out.1` and a truncate. A
// cut that cannot finish (the disk has no room for the copy, a file size limit) leaves the disk as
// it found it: no partial `.out.1`, the file whole; it is said once in the group's log and tried
// again a minute later, not at every 5 s check.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../support/group.js';
import { DaemonCase } from './daemon-support.js';

let world: DaemonCase | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const MIB = 1024 * 1024;
const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether this process may mount a tmpfs in a mount namespace of its own (root, CAP_SYS_ADMIN). */
const canMountTmpfs =
  process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' }).status === 0;

const OUTPUT_FILE_JS = join(FIXTURES, '../../packages/core/dist/log/outputFile.js');

describe("a cut of a daemon's .out that cannot finish", () => {
  it('a copy that fails (a file size limit) removes its partial .out.1, is said once in the log, and is not tried again at the next checks', async () => {
    world = new DaemonCase();
    const logs = join(world.runDir, 'logs');
    mkdirSync(logs, { mode: 0o700 });
    const out = join(logs, 'q.out');
    const log = join(logs, 'q.log');
    // 11 MiB the daemon wrote before: past the 10 MiB of a cut
    writeFileSync(out, `${'x'.repeat(1023)}\n`.repeat(11 * 1024), { mode: 0o600 });
    // a file size limit of 4 or 8 MiB (the shell's blocks are 512 or 1024 bytes): the copy fails half-way
    const launcher = spawn(
      'sh',
      ['-c', 'ulimit -f 8192 && exec "$0" "$@"', process.execPath, join(FIXTURES, 'control/bg-quiet.mjs')],
      {
        env: { ...process.env, ...world.env, ...world.config() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    launcher.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    launcher.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => launcher.once('exit', (c) => resolve(c)));
    expect(code, output).toBe(0);
    expect(output).toMatch(/^STARTED \d+$/m);

    const warning = `warning [q:master #${/STARTED (\d+)/.exec(output)?.[1]}] the daemon's output file '${out}' is past 10 MiB and was not cut: it cannot be copied to '${out}.1' (EFBIG): the partial copy was removed; tried again in 1 min, then less and less often (up to once an hour); free some space on its disk, or empty it with ': > ${out}'`;
    await waitFor('the warning record', () => (read(log).includes(warning) ? true : undefined));
    // neither the launcher's cut at the start nor the daemon's left a partial copy; the file is whole
    expect(existsSync(`${out}.1`)).toBe(false);
    expect(statSync(out).size).toBe(11 * MIB);

    // the next two checks (every 5 s) leave the file alone: no copy begun again
    const touched: string[] = [];
    const watcher = watch(logs, (event, name) => {
      if (name === 'q.out.1') touched.push(event);
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 12_000));
    } finally {
      watcher.close();
    }
    expect(touched).toEqual([]);
    expect(existsSync(`${out}.1`)).toBe(false);
    expect(read(log).split(warning).length - 1).toBe(1);
  }, 90_000);

  it.skipIf(!canMountTmpfs)(
    'on a disk without room for the copy, no copy is begun: the disk is not filled',
    () => {
      // a 16 MiB tmpfs in a mount namespace of its own, with an 11 MiB .out on it
      const script = [
        'set -e',
        'DISK=$(mktemp -d)',
        'mount -t tmpfs -o size=16m tmpfs "$DISK"',
        'head -c 11534336 /dev/zero > "$DISK/x.out"',
        'echo old > "$DISK/x.out.1"',
        `exec "$NODE" --input-type=module -e '
          import { statfsSync, existsSync, statSync } from "node:fs";
          const { trimOutputFile } = await import(process.env.MODULE);
          const disk = process.argv[1];
          const outcome = trimOutputFile(disk + "/x.out");
          const fs = statfsSync(disk);
          console.log(JSON.stringify({ outcome, free: fs.bavail * fs.bsize, copy: existsSync(disk + "/x.out.1") ? statSync(disk + "/x.out.1").size : null, size: statSync(disk + "/x.out").size }));
        ' "$DISK"`,
      ].join('\n');
      const result = spawnSync('unshare', ['-m', 'sh', '-c', script], {
        env: { ...process.env, NODE: process.execPath, MODULE: OUTPUT_FILE_JS },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status, result.stdout + result.stderr).toBe(0);
      const seen = JSON.parse(result.stdout.trim()) as {
        outcome: { cut: boolean; failure: string | null };
        free: number;
        copy: number | null;
        size: number;
      };
      expect(seen.outcome.cut).toBe(false);
      expect(seen.outcome.failure).toMatch(
        /^the disk holding it has \d+\.\d MiB free, too little for a copy of 11\.0 MiB$/,
      );
      // the older copy is kept, the file whole, the disk as it was
      expect(seen.copy).toBe(4);
      expect(seen.size).toBe(11 * MIB);
      expect(seen.free).toBeGreaterThan(4 * MIB);
    },
    90_000,
  );
});

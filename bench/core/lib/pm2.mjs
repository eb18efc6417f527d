// PM2, installed from the registry at bench time into a scratch dir (never a project
// dependency), with PM2_HOME inside it so the user's ~/.pm2 is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, pidsInGroup, tree, waitDead } from './procfs.mjs';

export class Pm2 {
  /** @param {string} dir scratch dir (gitignored) @param {string} version exact pm2 version */
  constructor(dir, version) {
    this.dir = dir;
    this.version = version;
    this.home = join(dir, 'home');
    this.module = join(dir, 'node_modules', 'pm2');
    this.bin = join(this.module, 'bin', 'pm2');
    this.env = { ...process.env, PM2_HOME: this.home, NO_COLOR: '1' };
  }

  /** Installs pm2@version unless present; returns null on success, else why it failed. */
  install() {
    mkdirSync(this.home, { recursive: true });
    const pkg = join(this.module, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).version === this.version) return null;
    writeFileSync(join(this.dir, 'package.json'), '{"name":"drover-bench-pm2","private":true}\n');
    const r = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-package-lock', `pm2@${this.version}`],
      { cwd: this.dir, encoding: 'utf8', timeout: 180_000 },
    );
    if (r.status !== 0)
      return `npm install pm2@${this.version} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
    return null;
  }

  /** Runs the pm2 CLI; resolves with its exit code and wall time (ms) from spawn to exit. */
  run(args, extraEnv = {}) {
    return new Promise((resolve) => {
      const t0 = performance.now();
      const child = spawn(process.execPath, [this.bin, ...args], {
        env: { ...this.env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c) => {
        output += c;
      });
      child.stderr.on('data', (c) => {
        output += c;
      });
      child.once('exit', (code) => resolve({ code, ms: performance.now() - t0, output, startedAt: t0 }));
    });
  }

  daemonPid() {
    try {
      return Number(readFileSync(join(this.home, 'pm2.pid'), 'utf8'));
    } catch {
      return null;
    }
  }

  /** Stops the daemon and its apps; SIGKILLs what is left (also usable from an exit handler). */
  killSync() {
    const daemon = this.daemonPid();
    const victims = daemon && alive(daemon) ? tree(daemon) : [];
    if (daemon && alive(daemon)) {
      spawnSync(process.execPath, [this.bin, 'kill'], { env: this.env, stdio: 'ignore', timeout: 20_000 });
    }
    for (const pid of victims) {
      try {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      } catch {}
    }
    if (daemon) {
      for (const pid of pidsInGroup(daemon)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    return victims;
  }

  /** `pm2 kill`, then waits until the daemon and every app process are gone. */
  async kill() {
    const victims = this.killSync();
    if (!(await waitDead(victims, 10_000))) {
      throw new Error(
        `bench: PM2 processes still alive after 'pm2 kill': ${victims.filter(alive).join(', ')}`,
      );
    }
  }
}

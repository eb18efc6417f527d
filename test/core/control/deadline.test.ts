// Requests a client gave up on are never carried out later; long commands are waited for while
// the master still answers; idle connections do not lock everyone out; a live master whose socket
// file was deleted is reported as such.
import { unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../packages/core/src/control/ControlClient.js';
import { type ControlHandler, ControlServer } from '../../../packages/core/src/control/ControlServer.js';
import { Manage } from '../../../packages/core/src/Manage.js';
import { Process } from '../../../packages/core/src/process/Process.js';
import { removePidFile, writePidFile } from '../../../packages/core/src/runtime/PidFile.js';
import { groupPaths } from '../../../packages/core/src/runtime/RunDir.js';
import { Children, coreDist, type LineChild, removeDir, tempDir, waitFor } from '../infra/support.js';
import { RawConnection, stubHandler, rejection } from './support.js';

const children = new Children();
let dir: string;
let path: string;
const servers: ControlServer[] = [];
const raws: RawConnection[] = [];

beforeEach(() => {
  dir = tempDir('drover-deadline-');
  path = join(dir, 'g.sock');
});
afterEach(async () => {
  for (const r of raws.splice(0)) r.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await children.killAll();
  removeDir(dir);
});

async function serve(handler: ControlHandler, opts = {}): Promise<ControlServer> {
  const server = await ControlServer.listen(path, handler, opts);
  servers.push(server);
  return server;
}
async function raw(): Promise<RawConnection> {
  const r = await RawConnection.open(path);
  raws.push(r);
  return r;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('request deadlines', () => {
  it('a request read after its deadline is refused and not run', async () => {
    const handler = stubHandler();
    await serve(handler);
    const r = await raw();
    r.write(`{"id":1,"cmd":"stop","deadline":${Date.now() - 1000}}\n{"id":2,"cmd":"ping"}\n`);
    const [late, ping] = await r.responses(2);
    expect(late).toMatchObject({ id: 1, ok: false, error: { code: 'EDEADLINE' } });
    expect(late?.error.message).toMatch(
      /^drover: 'stop' was read \d+ ms after its deadline; it was not run$/,
    );
    expect(ping).toMatchObject({ id: 2, ok: true });
    expect(handler.calls).toEqual(['ping']);
  });

  it('a bad deadline is a protocol error naming the field', async () => {
    await serve(stubHandler());
    const r = await raw();
    r.write('{"id":1,"cmd":"ping","deadline":"soon"}\n');
    const [answer] = await r.responses(1);
    expect(answer?.error.message).toBe(
      `drover: control request field 'deadline' is "soon"; expected a time in epoch milliseconds (an integer > 0), or no deadline`,
    );
  });

  it('a stop that timed out against a stopped master is not carried out once it runs again', async () => {
    const master: LineChild = children.node(
      join(import.meta.dirname, 'fixtures/control-master.mjs'),
      [coreDist('control/ControlServer'), path],
      { file: true },
    );
    await master.line(/^ready$/);
    const client = await ControlClient.connect(path);
    process.kill(master.pid, 'SIGSTOP');
    try {
      const timedOut = await rejection(client.request('stop', undefined, { timeoutMs: 1000 }));
      expect(timedOut.code).toBe('ETIMEDOUT');
    } finally {
      client.close();
      process.kill(master.pid, 'SIGCONT');
    }
    // the stale stop is read first; two round trips later it would have exited
    for (let i = 0; i < 2; i++) {
      const probe = await ControlClient.connect(path, { timeoutMs: 5000 });
      try {
        expect(await probe.request('ping', undefined, { timeoutMs: 5000 })).toMatchObject({
          baseTitle: 'fixture',
        });
      } finally {
        probe.close();
      }
      await sleep(200);
    }
    expect(master.proc.exitCode).toBeNull();
    expect(master.proc.signalCode).toBeNull();
  });
});

describe('long commands', () => {
  it('a stop that takes longer than the timeout is waited for while the master answers', async () => {
    const steps: string[] = [];
    const handler = stubHandler({
      stop: async () => {
        steps.push('stop begun');
        await sleep(2500);
        steps.push('stop ended');
        return { stopped: true };
      },
    });
    const runDir = dir;
    path = groupPaths(runDir, 'g').socket;
    await serve(handler);
    // (an answer that does not count workers killed at stopTimeout, as an older master's, counts none)
    await expect(new Manage({ baseTitle: 'g', runDir }).stop({ timeoutMs: 500 })).resolves.toEqual({
      killed: 0,
      stopTimeout: 10_000,
    });
    steps.push('stop() returned');
    // it returned only once the slow stop (five times its timeout) had ended
    expect(steps).toEqual(['stop begun', 'stop ended', 'stop() returned']);
  });

  it('a request not marked long gives up at its timeout, saying a late read is refused', async () => {
    await serve(stubHandler({ stop: () => new Promise(() => {}) }));
    const client = await ControlClient.connect(path);
    try {
      const error = await rejection(client.request('stop', undefined, { timeoutMs: 300 }));
      expect(error.code).toBe('ETIMEDOUT');
      expect(error.message).toContain('had it not read the request yet, it refuses it when it does');
    } finally {
      client.close();
    }
  });
});

describe('a long command whose master is exiting', () => {
  // A master ending its stop closes its control socket first, answers the stop, then exits: a
  // liveness ping landing in between finds no socket. That is no hung master.
  it('is answered once the master that closed its socket answers, with or without its pid', async () => {
    // (without a pid, the wait goes on for one more check: here the answer comes before it)
    for (const { masterPid, answerMs, aliveCheckMs } of [
      { masterPid: process.pid, answerMs: 700, aliveCheckMs: 100 },
      { masterPid: undefined, answerMs: 300, aliveCheckMs: 1000 },
    ]) {
      let server: ControlServer | null = null;
      server = await serve(
        stubHandler({
          stop: async () => {
            await server?.close();
            await sleep(answerMs);
            return { stopped: true };
          },
        }),
      );
      const client = await ControlClient.connect(path);
      try {
        await expect(
          client.request('stop', undefined, {
            timeoutMs: 100,
            whileAlive: true,
            masterPid,
            aliveCheckMs,
          }),
        ).resolves.toEqual({ stopped: true });
      } finally {
        client.close();
      }
    }
  });

  it('ends with the connection closed (ECONNCLOSED), not a timeout, when the master exits without an answer', async () => {
    // a peer that stops listening when the stop arrives, then hangs up, as a master exiting does
    const peer = createServer((socket) =>
      socket.once('data', () => {
        peer.close();
        setTimeout(() => socket.destroy(), 400);
      }),
    );
    await new Promise<void>((resolve) => peer.listen(path, resolve));
    const client = await ControlClient.connect(path);
    try {
      const error = await rejection(
        client.request('stop', undefined, {
          timeoutMs: 100,
          whileAlive: true,
          masterPid: process.pid,
          aliveCheckMs: 100,
        }),
      );
      expect(error.code).toBe('ECONNCLOSED');
    } finally {
      client.close();
      peer.close();
    }
  });

  it('still gives up on a master stopped by a signal whose socket is gone', async () => {
    const master: LineChild = children.node(
      join(import.meta.dirname, 'fixtures/control-master.mjs'),
      [coreDist('control/ControlServer'), path],
      { file: true },
    );
    await master.line(/^ready$/);
    const client = await ControlClient.connect(path);
    unlinkSync(path);
    process.kill(master.pid, 'SIGSTOP');
    try {
      const error = await rejection(
        client.request('stop', undefined, {
          timeoutMs: 100,
          whileAlive: true,
          masterPid: master.pid,
          aliveCheckMs: 100,
        }),
      );
      expect(error.code).toBe('ETIMEDOUT');
    } finally {
      client.close();
      process.kill(master.pid, 'SIGCONT');
    }
  });
});

describe('a long command whose master lost its socket and never answers', () => {
  it('gives up once the socket has been gone past its bound while the process runs', async () => {
    // a peer that stops listening when the stop arrives and then neither answers nor hangs up
    const held: import('node:net').Socket[] = [];
    const peer = createServer((socket) => {
      held.push(socket);
      socket.once('data', () => peer.close());
    });
    await new Promise<void>((resolve) => peer.listen(path, resolve));
    const client = await ControlClient.connect(path);
    try {
      const error = await rejection(
        client.request('stop', undefined, {
          timeoutMs: 100,
          whileAlive: true,
          masterPid: process.pid,
          aliveCheckMs: 100,
          closedLimitMs: 500,
        }),
      );
      expect(error.code).toBe('ETIMEDOUT');
      expect(error.message).toMatch(
        new RegExp(
          `^drover: no answer to 'stop' from '.+' within \\d+ ms: its control socket has been gone for \\d+ ms while its process \\(pid ${process.pid}\\) runs, past the 500 ms a stop that ends takes; `,
        ),
      );
    } finally {
      client.close();
      for (const socket of held) socket.destroy();
      peer.close();
    }
  });
});

describe('idle connections', () => {
  it('are closed after the idle timeout, so the connection limit frees up', async () => {
    const server = await serve(stubHandler(), { maxConnections: 2, idleTimeoutMs: 300 });
    const idle = [await raw(), await raw()];
    await waitFor('two connections', () => server.connectionCount === 2);
    const refused = await raw();
    const [busy] = await refused.responses(1);
    expect(busy?.error.message).toBe(
      `drover: too many control connections to '${path}' (limit 2); idle ones, and ones whose client does not read its answers, are closed after 1 s: try again then, and if it persists find the processes holding them ('ss -xp' lists them)`,
    );
    for (const r of idle) await r.waitClosed(5000);
    expect(idle[0]?.lines.map((l) => JSON.parse(l).error.code)).toEqual(['EIDLE']);
    const client = await ControlClient.connect(path);
    try {
      expect(await client.request('ping')).toMatchObject({ baseTitle: 'test' });
    } finally {
      client.close();
    }
  });

  it('blank lines or a line that never ends do not keep a connection from being idle', async () => {
    await serve(stubHandler(), { idleTimeoutMs: 300 });
    const blank = await raw();
    const dripping = await raw();
    const drip = setInterval(() => {
      blank.write('\n');
      dripping.write('{');
    }, 50);
    try {
      for (const r of [blank, dripping]) await r.waitClosed(5000);
    } finally {
      clearInterval(drip);
    }
    expect(blank.lines.map((l) => JSON.parse(l).error.code)).toEqual(['EIDLE']);
    expect(dripping.lines.map((l) => JSON.parse(l).error.code)).toEqual(['EIDLE']);
  });

  it('a connection with a request in progress is not idle', async () => {
    await serve(
      stubHandler({
        restart: async () => {
          await sleep(1000);
          return { restarted: true };
        },
      }),
      { idleTimeoutMs: 200 },
    );
    const r = await raw();
    r.write('{"id":1,"cmd":"restart"}\n');
    const [answer] = await r.responses(1);
    expect(answer).toMatchObject({ id: 1, ok: true, result: { restarted: true } });
  });
});

describe('a live master without its socket file', () => {
  it('is reported with its pid and the way out, not as not running', async () => {
    const runDir = dir;
    const paths = groupPaths(runDir, 'g');
    writePidFile(paths.pidFile, {
      pid: process.pid,
      startTime: Process.stat(process.pid)?.startTime ?? 0,
      baseTitle: 'g',
      startedAt: Date.now(),
      socket: paths.socket,
      version: '0.0.0',
    });
    try {
      const error = await rejection(new Manage({ baseTitle: 'g', runDir }).stop());
      expect(error.code).toBe('ESOCKETGONE');
      expect(error.message).toBe(
        `drover: the master of 'g' (pid ${process.pid}) is alive but its control socket '${paths.socket}' is gone, so it cannot be reached; 'kill -TERM ${process.pid}' stops it gracefully (its workers finish first); starting the group again then creates a new socket`,
      );
    } finally {
      removePidFile(paths.pidFile, process.pid);
    }
  });
});

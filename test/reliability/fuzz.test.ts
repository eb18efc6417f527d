import { connect } from 'node:net';
import { join } from 'node:path';
import { ConfigError, resolveManageConfig } from '@drover/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { is, startGroup, type TestGroup, until, wholeGroup } from './support.js';

const KNOWN_KEYS = [
  'baseTitle',
  'titlePrefix',
  'maxWorkerNum',
  'checkWorkerInterval',
  'executeTimes',
  'executeUSleep',
  'limitSeconds',
  'recycleJitter',
  'normalExitCode',
  'stopTimeout',
  'readyTimeout',
  'restart',
  'maxMemory',
  'hangTimeout',
  'user',
  'group',
  'env',
  'runDir',
  'pidRoot',
  'logDir',
  'logLevel',
  'logRotation',
  'separateErrorFile',
  'execArgv',
  'cwd',
];
const RESTART_KEYS = ['initialDelayMs', 'maxDelayMs', 'factor', 'stableAfterMs', 'maxRestarts'];

/** Values a careless or hostile caller may pass anywhere. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    withBigInt: true,
    withNullPrototype: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withBoxedValues: true,
  }),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    -1,
    0.5,
    2 ** 53,
    Number.MAX_VALUE,
    '',
    ' ',
    '../../etc/passwd',
    '\0',
    'x'.repeat(100_000),
    '512M',
    '-1M',
    '1e9G',
    Symbol('s'),
    () => 1,
    Object.create(null),
    [],
  ),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.integer(),
  fc.double(),
);

/** Known keys with hostile values, plus the odd unknown key: gets past the first checks. */
const nearlyValid = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...KNOWN_KEYS), hostile, { maxKeys: 6 }),
    fc.dictionary(fc.constantFrom(...RESTART_KEYS), hostile, { maxKeys: 3 }),
    fc.dictionary(fc.string({ maxLength: 12 }), hostile, { maxKeys: 1 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([known, restart, unknown, withRestart, withUnknown]) => ({
    baseTitle: 'fuzz',
    ...known,
    ...(withRestart ? { restart } : {}),
    ...(withUnknown ? unknown : {}),
  }));

describe('config validation under random and hostile input (property)', () => {
  it('resolveManageConfig returns a config or throws a ConfigError naming a key it was given', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.dictionary(fc.string(), hostile), nearlyValid), (options) => {
        let config: ReturnType<typeof resolveManageConfig>;
        try {
          config = resolveManageConfig(options);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          const e = err as ConfigError;
          const given = options !== null && typeof options === 'object' ? Object.keys(options as object) : [];
          const named =
            e.key === 'options' ||
            e.key === 'baseTitle' ||
            given.includes(e.key) ||
            given.some((k) => e.key.startsWith(`${k}.`));
          expect(named, `key '${e.key}' of ${e.message}`).toBe(true);
          // the thing, the value and the fix
          expect(e.message).toContain(`config '${e.key}' is `);
          expect(e.hint).toMatch(/^expected /);
          expect(e.code).toBe('ECONFIG');
          return;
        }
        expect(Number.isInteger(config.maxWorkerNum) && config.maxWorkerNum <= 1024).toBe(true);
        expect(config.restart.maxDelayMs).toBeGreaterThanOrEqual(config.restart.initialDelayMs);
      }),
      {
        numRuns: 3000,
        // found by this property: a value String() cannot convert threw a TypeError
        examples: [[{ baseTitle: 'fuzz', runDir: Object.create(null), pidRoot: '' }]],
      },
    );
  });
});

// ---- a live master's control socket ---------------------------------------------------------

interface Exchange {
  lines: string[];
  closed: boolean;
}

/** Writes `chunks`, half-closes, and reads every response line until the master closes. */
function exchange(path: string, chunks: (string | Uint8Array)[], timeoutMs = 10_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `the master did not close the connection within ${timeoutMs} ms; got ${data.slice(0, 500)}`,
        ),
      );
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      data += d;
    });
    // a write after the master closed an overlong line's connection fails: that is expected
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ lines: data.split('\n').filter((l) => l !== ''), closed: true });
    });
    socket.once('connect', () => {
      for (const c of chunks) socket.write(c);
      socket.end();
    });
  });
}

const json = (v: unknown) => `${JSON.stringify(v)}\n`;
const notACount = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer({ max: -1 }),
  fc.integer({ min: 1025 }),
  fc.double({ noInteger: true }),
  fc.constantFrom(null, [], {}, true, 1e308, '3'),
);

/** Request lines no master may act on, and a few harmless ones. */
const line: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }),
  fc.string({ unit: 'binary', maxLength: 300 }).map((s) => `${s}\n`),
  fc.jsonValue({ maxDepth: 3 }).map(json),
  fc.integer({ min: 65 * 1024, max: 200 * 1024 }).map((n) => `{"id":1,"cmd":"${'x'.repeat(n)}"}\n`),
  fc.record({ id: fc.jsonValue(), cmd: fc.string({ maxLength: 20 }) }).map(json),
  fc
    .record({ id: fc.integer(), cmd: fc.constant('scale'), args: fc.record({ workers: notACount }) })
    .map(json),
  fc
    .record({
      id: fc.integer(),
      cmd: fc.constant('signal'),
      args: fc.record({ signal: fc.constantFrom('SIGKILL', 'sigterm', 'TERM', 9, '', null) }),
    })
    .map(json),
  // destructive verbs, always with an argument that makes the request invalid
  fc
    .record({
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 10 })),
      cmd: fc.constantFrom('stop', 'restart', 'reload', 'scale', 'signal'),
      args: fc.record({ bogus: fc.jsonValue({ maxDepth: 1 }) }),
    })
    .map(json),
  fc.constantFrom(
    '{"id":1,"cmd":"stop","args":{"timeoutMs":-5}}\n',
    '{"id":1,"cmd":"reload","args":[]}\n',
    '{"id":1,"cmd":"restart","args":"now"}\n',
    '{"cmd":"stop"}\n',
    '{"id":{"a":1},"cmd":"stop"}\n',
    `{"id":"${'i'.repeat(200)}","cmd":"stop"}\n`,
    '{"id":1,"cmd":"stop","extra":1}\n',
    '{"id":1,"cmd":"ping"}\n',
    '{"id":2,"cmd":"status"}\n',
    '\r\n',
    '\n\n\n',
  ),
);

describe("a live master's control socket under random and hostile lines (property)", () => {
  const name = 'rel-fuzz';
  let g: TestGroup;
  let socket: string;
  let pids: (number | null)[];

  beforeAll(async () => {
    g = startGroup({ name, config: { maxWorkerNum: 2 } });
    await g.group.waitEvent(is('started'), 'started');
    socket = join(g.runDir, `${name}.sock`);
    pids = (await until('a whole group', async () => wholeGroup(await g.status(), name, 2))).workers.map(
      (w) => w.pid,
    );
  });
  afterAll(async () => {
    await g?.cleanup();
  });

  it('every line gets an answer or its connection is closed; the workers and the master are untouched', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 8 }), async (chunks) => {
        const { lines, closed } = await exchange(socket, chunks);
        expect(closed).toBe(true);
        for (const l of lines) {
          const response = JSON.parse(l) as { ok: boolean; error?: { code: string; message: string } };
          answered++;
          if (response.ok) continue;
          expect(['EPROTOCOL', 'ELINETOOLONG', 'EINVAL']).toContain(response.error?.code);
          expect(response.error?.message).toMatch(/^drover: /);
        }
        expect(g.group.alive).toBe(true);
      }),
      { numRuns: 60 },
    );
    expect(answered).toBeGreaterThan(60);

    // 100 connections at once, over the limit of 64: the extra ones are refused, none breaks anything
    const flood = await Promise.all(
      Array.from({ length: 100 }, (_, i) => exchange(socket, [`garbage ${i}\n`, '{"id":1,"cmd":"ping"}\n'])),
    );
    expect(flood.every((x) => x.closed)).toBe(true);

    const after = await until('a whole group', async () => wholeGroup(await g.status(), name, 2));
    expect(after.workers.map((w) => w.pid)).toEqual(pids);
    expect(after.workers.every((w) => w.restarts === 0)).toBe(true);
    expect(g.group.count(is('workerExit'))).toBe(0);
  }, 90_000);
});

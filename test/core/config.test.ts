import { ConfigError, resolveManageConfig } from '@drover/core';
import { describe, expect, it } from 'vitest';

describe('ManageOptions validation', () => {
  it('fills defaults', () => {
    const c = resolveManageConfig({ baseTitle: 'mailer' });
    expect(c).toMatchObject({
      titlePrefix: 'drover',
      maxWorkerNum: 1,
      executeTimes: 0,
      normalExitCode: 0,
      stopTimeout: 10_000,
      maxMemory: 0,
      logLevel: 'info',
      separateErrorFile: false,
      readyWhen: 'loaded',
    });
    expect(c.restart.maxRestarts).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes durations with a unit for the timeouts', () => {
    const c = resolveManageConfig({
      baseTitle: 'm',
      stopTimeout: '1.5s',
      readyTimeout: '2m',
      hangTimeout: '250ms',
    });
    expect([c.stopTimeout, c.readyTimeout, c.hangTimeout]).toEqual([1500, 120_000, 250]);
    expect(resolveManageConfig({ baseTitle: 'm', readyTimeout: ' 1h ' }).readyTimeout).toBe(3_600_000);
  });

  it.each([
    [
      {},
      'drover: config \'baseTitle\' is undefined; expected a name of 1-64 letters, digits, ".", "_" or "-", not starting with "-"',
    ],
    [
      { baseTitle: 'a/b' },
      'drover: config \'baseTitle\' is "a/b"; expected a name of 1-64 letters, digits, ".", "_" or "-", not starting with "-"',
    ],
    [
      { baseTitle: '-web' },
      'drover: config \'baseTitle\' is "-web"; expected a name of 1-64 letters, digits, ".", "_" or "-", not starting with "-"',
    ],
    [
      { baseTitle: 'm', maxWorkerNum: -1 },
      "drover: config 'maxWorkerNum' is -1; expected an integer from 0 to 1024",
    ],
    [
      { baseTitle: 'm', maxWorkerNum: '4' },
      'drover: config \'maxWorkerNum\' is "4"; expected an integer from 0 to 1024',
    ],
    [
      // Node's timers keep at most 2^31 - 1 ms: a longer one fires at once
      { baseTitle: 'm', readyTimeout: 2 ** 31 },
      "drover: config 'readyTimeout' is 2147483648; expected whole milliseconds from 1 to 2147483647, or a duration such as '500ms', '10s', '2m'",
    ],
    [
      { baseTitle: 'm', stopTimeout: '25d' },
      "drover: config 'stopTimeout' is \"25d\"; expected whole milliseconds from 0 to 2147483647, or a duration such as '500ms', '10s', '2m'",
    ],
    [
      { baseTitle: 'm', limitSeconds: 30 * 86_400 },
      "drover: config 'limitSeconds' is 2592000; expected a number from 0 to 2147483",
    ],
    [
      { baseTitle: 'm', restart: { stableAfterMs: 1e12 } },
      "drover: config 'restart.stableAfterMs' is 1000000000000; expected an integer from 0 to 2147483647",
    ],
    [
      { baseTitle: 'm', maxWorkers: 4 },
      "drover: config 'maxWorkers' is 4; expected a known key (did you mean 'maxWorkerNum'?)",
    ],
    [
      { baseTitle: 'm', maxMemory: '12 parsecs' },
      "drover: config 'maxMemory' is \"12 parsecs\"; expected a number of bytes >= 0 or a size such as '512M', '1.5G'",
    ],
    [
      { baseTitle: 'm', maxMemory: 300 },
      "drover: config 'maxMemory' is 300; expected a size of at least 1M (a bare number is bytes: '300M'?), or 0 for no limit",
    ],
    [
      { baseTitle: 'm', maxMemory: '512K' },
      "drover: config 'maxMemory' is \"512K\"; expected a size of at least 1M (a bare number is bytes: '300M'?), or 0 for no limit",
    ],
    [
      { baseTitle: 'm', restart: { maxDelayMs: 10, initialDelayMs: 100 } },
      "drover: config 'restart.maxDelayMs' is 10; expected a number >= restart.initialDelayMs (100)",
    ],
    [
      { baseTitle: 'm', restart: { maxRestarts: 0 } },
      "drover: config 'restart.maxRestarts' is 0; expected an integer >= 1, or Infinity to never give up",
    ],
    [
      { baseTitle: 'm', logLevel: 'eror' },
      "drover: config 'logLevel' is \"eror\"; expected one of debug, info, notice, warning, error, fatal (did you mean 'error'?)",
    ],
    [
      { baseTitle: 'm', logLevel: 'verbose' },
      'drover: config \'logLevel\' is "verbose"; expected one of debug, info, notice, warning, error, fatal',
    ],
    [{ baseTitle: 'm', env: { A: 1 } }, "drover: config 'env.A' is 1; expected a string"],
    [
      { baseTitle: 'm', runDir: '/a', pidRoot: '/b' },
      'drover: config \'pidRoot\' is "/b"; expected the same value as runDir (/a), or only one of them',
    ],
    [
      { baseTitle: 'm', exectueTimes: 3 },
      "drover: config 'exectueTimes' is 3; expected a known key (did you mean 'executeTimes'?)",
    ],
    [
      { baseTitle: 'm', readyWhen: 'listen' },
      "drover: config 'readyWhen' is \"listen\"; expected one of 'loaded', 'listening', 'message'",
    ],
    [
      { baseTitle: 'm', separateErrorFile: 'yes' },
      'drover: config \'separateErrorFile\' is "yes"; expected true or false',
    ],
  ])('%j -> %s', (options, message) => {
    let caught: unknown;
    try {
      resolveManageConfig(options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toBe(message);
  });

  it('accepts sizes in bytes and with units', () => {
    expect(resolveManageConfig({ baseTitle: 'm', maxMemory: '512M' }).maxMemory).toBe(512 * 1024 ** 2);
    expect(resolveManageConfig({ baseTitle: 'm', maxMemory: '1.5G' }).maxMemory).toBe(1.5 * 1024 ** 3);
    expect(resolveManageConfig({ baseTitle: 'm', maxMemory: 64 * 1024 ** 2 }).maxMemory).toBe(64 * 1024 ** 2);
  });

  it('reads a log level in any case, and warn as warning', () => {
    expect(resolveManageConfig({ baseTitle: 'm', logLevel: 'WARNING' }).logLevel).toBe('warning');
    expect(resolveManageConfig({ baseTitle: 'm', logLevel: 'warn' }).logLevel).toBe('warning');
    expect(resolveManageConfig({ baseTitle: 'm', logLevel: ' Debug ' }).logLevel).toBe('debug');
  });
});

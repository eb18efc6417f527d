import { ConfigError, Manage, Pool } from '@drover/core';
import { describe, expect, it } from 'vitest';

describe('what runs in the workers must be a function', () => {
  const cases: Array<[string, (value: unknown) => unknown, unknown, string]> = [
    [
      'Manage.setWork',
      (v) => new Manage({ baseTitle: 'handlers' }).setWork(v as never),
      'nope',
      `drover: config 'setWork()' is "nope"; expected a function (worker, resources) => void, one execution`,
    ],
    [
      'Manage.setWorkInit',
      (v) => new Manage({ baseTitle: 'handlers' }).setWorkInit(v as never),
      42,
      `drover: config 'setWorkInit()' is 42; expected a function (worker) => resources, run once per worker`,
    ],
    [
      'Pool.setTaskHandler',
      (v) => new Pool({ baseTitle: 'handlers' }).setTaskHandler(v as never),
      { handler: true },
      `drover: config 'setTaskHandler()' is an object; expected a function (payload, ctx) => result, run in a worker`,
    ],
    [
      'Pool.setWorkInit',
      (v) => new Pool({ baseTitle: 'handlers' }).setWorkInit(v as never),
      null,
      `drover: config 'setWorkInit()' is null; expected a function (worker) => resources, run once per worker`,
    ],
  ];

  it.each(cases)(
    '%s refuses a non-function at once with a ConfigError naming the method and the value',
    (_, call, value, message) => {
      let thrown: unknown;
      try {
        call(value);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).code).toBe('ECONFIG');
      expect((thrown as ConfigError).message).toBe(message);
      expect((thrown as ConfigError).value).toBe(value);
    },
  );

  it('each accepts a function, and Manage.setWork(undefined) is refused too', () => {
    expect(() => new Manage({ baseTitle: 'handlers' }).setWorkInit(() => 1).setWork(() => {})).not.toThrow();
    expect(() =>
      new Pool({ baseTitle: 'handlers' }).setWorkInit(() => 1).setTaskHandler(() => 1),
    ).not.toThrow();
    expect(() => new Manage({ baseTitle: 'handlers' }).setWork(undefined as never)).toThrow(
      /'setWork\(\)' is undefined/,
    );
  });
});

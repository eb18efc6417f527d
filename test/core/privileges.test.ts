import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../packages/core/src/errors.js';
import { resolveWorkerIdentity } from '../../packages/core/src/master/privileges.js';

describe('the identity workers run as', () => {
  it("takes a uid without an account only with 'group': the workers would keep the master's group", () => {
    expect(() => resolveWorkerIdentity(4_242_424)).toThrow(ConfigError);
    expect(() => resolveWorkerIdentity(4_242_424)).toThrow(
      /config 'user' is 4242424; expected .*give 'group' too/,
    );
    expect(resolveWorkerIdentity(4_242_424, 4_242_424)).toEqual({ uid: 4_242_424, gid: 4_242_424, env: {} });
  });

  it('is left alone without user and group', () => {
    expect(resolveWorkerIdentity()).toEqual({ env: {} });
  });
});

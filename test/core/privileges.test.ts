import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
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

describe.skipIf(process.getuid?.() !== 0)('a master that is not root', () => {
  it('is told at once that only root runs workers as another user or group, not given a bare EPERM', () => {
    const module = join(import.meta.dirname, '../../packages/core/dist/master/privileges.js');
    const probe = (user: string, group: string) =>
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { resolveWorkerIdentity } = await import(${JSON.stringify(module)});
           try { resolveWorkerIdentity(${user}, ${group}); console.log('accepted') } catch (e) { console.log(e.message) }`,
        ],
        { uid: 65534, gid: 65534, encoding: 'utf8' },
      ).trim();
    expect(probe("'root'", 'undefined')).toBe(
      `drover: config 'user' is "root"; expected the master's own user (uid 65534), or start the master as root: only root may run workers as another user`,
    );
    expect(probe('undefined', '0')).toBe(
      `drover: config 'group' is 0; expected the master's own group (gid 65534), or start the master as root: only root may run workers in another group`,
    );
    expect(probe("'nobody'", 'undefined')).toBe('accepted');
  });
});

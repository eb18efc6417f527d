// The environment update of a reload or restart (`--update-env`, `reload({ env, configEnv })`):
// what the protocol accepts, what a worker's environment becomes, and a config entry read again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGroupSource, parseRequest } from '../../../packages/core/src/control/protocol.js';
import { DroverError } from '../../../packages/core/src/errors.js';
import {
  changedEntryKeys,
  loadGroupEntry,
  loadGroupsConfig,
} from '../../../packages/core/src/groups/config.js';
import {
  applyEnvChange,
  changedNames,
  checkEnvUpdate,
  forkEnv,
} from '../../../packages/core/src/master/workerEnv.js';
import { tempDir } from '../../support/group.js';
import { refusedRequest as refused } from './support.js';

describe('the env of a reload or restart request', () => {
  it('is accepted as a record of strings, for reload and restart, with or without timeoutMs', () => {
    expect(parseRequest('{"id":1,"cmd":"reload","args":{"env":{"FOO":"2","EMPTY":""}}}')).toEqual({
      id: 1,
      cmd: 'reload',
      args: { env: { FOO: '2', EMPTY: '' } },
    });
    expect(
      parseRequest('{"id":2,"cmd":"restart","args":{"timeoutMs":5,"env":{"A":"1"},"configEnv":{"B":"2"}}}'),
    ).toEqual({ id: 2, cmd: 'restart', args: { timeoutMs: 5, env: { A: '1' }, configEnv: { B: '2' } } });
    // a request of an older client, without any env, is what it always was
    expect(parseRequest('{"id":3,"cmd":"reload"}')).toEqual({ id: 3, cmd: 'reload', args: {} });
  });

  it('is refused, naming the field, the value and the fix, when it is not a record of strings', () => {
    expect(refused('{"id":1,"cmd":"reload","args":{"env":{"FOO":5}}}').message).toBe(
      "drover: control request field 'args.env.FOO' is 5; expected a string: environment values are strings (quote numbers, leave out unset ones)",
    );
    expect(refused('{"id":1,"cmd":"reload","args":{"env":"FOO=1"}}').message).toContain(
      'field \'args.env\' is "FOO=1"; expected an object of environment variables',
    );
    expect(refused('{"id":1,"cmd":"restart","args":{"configEnv":null}}').message).toContain(
      "field 'args.configEnv' is null",
    );
    expect(refused('{"id":1,"cmd":"reload","args":{"env":{"A=B":"1"}}}').message).toContain(
      "field 'args.env' has the variable name \"A=B\"; expected names that are not empty and hold no '='",
    );
    expect(refused('{"id":1,"cmd":"reload","args":{"env":{"":"1"}}}').message).toContain(
      'has the variable name ""',
    );
    expect(refused('{"id":1,"cmd":"reload","args":{"env":{"A":"x\\u0000y"}}}').message).toContain(
      "field 'args.env.A' holds a NUL character",
    );
    expect(refused('{"id":1,"cmd":"reload","args":{"env":{"A":{"b":1}}}}').message).toContain(
      "'args.env.A' is an object",
    );
    // stop takes none
    expect(refused('{"id":1,"cmd":"stop","args":{"env":{}}}').message).toContain(
      '\'stop\' has unknown argument "env"',
    );
  });

  it('keeps a variable named __proto__ as a variable, never as a prototype', () => {
    const request = parseRequest('{"id":1,"cmd":"reload","args":{"env":{"__proto__":"x","A":"1"}}}');
    const env = (request.args as { env: Record<string, string> }).env;
    expect(Object.getPrototypeOf(env)).toBeNull();
    expect(Object.keys(env).sort()).toEqual(['A', '__proto__']);
    expect(({} as Record<string, unknown>).A).toBeUndefined();
  });
});

describe('checkEnvUpdate (the API side: reload({ env, configEnv }))', () => {
  it('is null for no update, and drops undefined values and the variables drover sets itself', () => {
    expect(checkEnvUpdate(undefined, 'g')).toBeNull();
    expect(checkEnvUpdate({}, 'g')).toBeNull();
    const change = checkEnvUpdate(
      {
        env: {
          FOO: '1',
          UNSET: undefined,
          DROVER_WORKER: '{"group":"g"}',
          DROVER_DAEMON: '1',
          DROVER_DAEMON_GROUPS: 'g',
          NODE_UNIQUE_ID: '3',
          NODE_CHANNEL_FD: '3',
        },
      },
      'g',
    );
    expect({ ...change?.base }).toEqual({ FOO: '1' });
    expect(change?.own).toBeUndefined();
  });

  it('throws EINVAL naming the group, the variable, the value and that nothing changed', () => {
    let error: unknown;
    try {
      checkEnvUpdate({ configEnv: { PORT: 8080 as unknown as string } }, 'web');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DroverError);
    expect((error as DroverError).code).toBe('EINVAL');
    expect((error as Error).message).toBe(
      "drover: cannot update the environment of 'web': 'configEnv.PORT' is 8080; expected a string: environment values are strings (quote numbers, leave out unset ones); the workers keep the environment they have",
    );
  });

  it('replaces the base, the own env, or both', () => {
    const current = { base: null, own: { A: 'own' } };
    expect(applyEnvChange(current, { own: { B: 'b' } })).toEqual({ base: null, own: { B: 'b' } });
    const next = applyEnvChange(current, checkEnvUpdate({ env: { S: 's' } }, 'g') ?? {}, {});
    expect({ ...next.base }).toEqual({ S: 's' });
    expect(next.own).toEqual({ A: 'own' });
  });

  it("keeps the group's PWD, OLDPWD and _: where the shell of the update stands is not the program's", () => {
    const master = { PATH: '/bin', PWD: '/srv/app', _: '/usr/bin/drover' };
    const shell = { PATH: '/usr/bin', PWD: '/', OLDPWD: '/tmp', _: '/usr/bin/env' };
    const next = applyEnvChange({ base: null, own: {} }, checkEnvUpdate({ env: shell }, 'g') ?? {}, master);
    expect({ ...next.base }).toEqual({ PATH: '/usr/bin', PWD: '/srv/app', _: '/usr/bin/drover' });
    const again = applyEnvChange(next, checkEnvUpdate({ env: shell }, 'g') ?? {}, {});
    expect({ ...again.base }).toEqual({ PATH: '/usr/bin', PWD: '/srv/app', _: '/usr/bin/drover' });
  });
});

describe("forkEnv: what cluster.fork() is given (it merges the master's env underneath)", () => {
  const master = { PATH: '/bin', FOO: '1', BAR: '1', HOME: '/root' };
  const identity = { HOME: '/home/app', USER: 'app', LOGNAME: 'app' };

  it("without an update: identity and the group's env, the master's env underneath as before", () => {
    expect(forkEnv({ base: null, own: { FOO: 'own' } }, identity, master)).toEqual({
      ...identity,
      FOO: 'own',
    });
  });

  it("with a base: the master's variables it lacks are removed (undefined, which spawn drops); identity and own env on top", () => {
    const env = forkEnv(
      { base: { FOO: '2', HOME: '/shell', NEW: 'n' }, own: { NEW: 'own' } },
      identity,
      master,
    );
    // what cluster.fork() does with it
    const merged = { ...master, ...env };
    const spawned = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
    expect(spawned).toEqual({ FOO: '2', NEW: 'own', HOME: '/home/app', USER: 'app', LOGNAME: 'app' });
  });

  it('changedNames lists names only: added, changed and removed', () => {
    expect(
      changedNames({ base: null, own: {} }, { base: { FOO: '2', PATH: '/bin', NEW: 'x' }, own: {} }, master),
    ).toEqual({ added: ['NEW'], changed: ['FOO'], removed: ['BAR', 'HOME'] });
  });
});

describe('a config entry read again', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  function configDir(): string {
    const { dir, cleanup } = tempDir('drover-update-env-');
    cleanups.push(cleanup);
    writeFileSync(join(dir, 'app.mjs'), '');
    return dir;
  }

  it('a JavaScript file is evaluated again (not the module Node loaded before), in the current environment', async () => {
    const dir = configDir();
    const file = join(dir, 'drover.config.mjs');
    const write = (extra: string) =>
      writeFileSync(
        file,
        `export default { groups: [{ baseTitle: 'web', script: './app.mjs', env: { DB: process.env.UE_DB ?? 'none', ${extra} } }] };\n`,
      );
    write('V: "1"');
    process.env.UE_DB = 'first';
    try {
      expect((await loadGroupsConfig(file))[0]?.env).toEqual({ DB: 'first', V: '1' });
      write('V: "2"');
      process.env.UE_DB = 'second';
      expect((await loadGroupEntry(file, 'web')).env).toEqual({ DB: 'second', V: '2' });
    } finally {
      delete process.env.UE_DB;
    }
  });

  it('an invalid file throws its GroupsConfigError; a group no longer in it throws ENOENTRY', async () => {
    const dir = configDir();
    const file = join(dir, 'drover.config.json');
    writeFileSync(
      file,
      JSON.stringify({ groups: [{ baseTitle: 'web', script: './app.mjs', maxWorkerNum: 'x' }] }),
    );
    await expect(loadGroupEntry(file, 'web')).rejects.toThrow(
      `config file '${file}', entry 0 ('web'): 'maxWorkerNum' is "x"`,
    );
    writeFileSync(file, JSON.stringify({ groups: [{ baseTitle: 'api', script: './app.mjs' }] }));
    await expect(loadGroupEntry(file, 'web')).rejects.toMatchObject({
      code: 'ENOENTRY',
      message: expect.stringContaining(
        `config file '${file}' has no group named 'web' any more (it has 'api')`,
      ),
    });
  });

  it('changedEntryKeys names the keys that changed besides env, whatever the key order', async () => {
    const dir = configDir();
    const file = join(dir, 'drover.config.json');
    const write = (entry: object) => writeFileSync(file, JSON.stringify({ groups: [entry] }));
    write({ baseTitle: 'web', script: './app.mjs', restart: { factor: 2, maxRestarts: 3 }, env: { A: '1' } });
    const [before] = await loadGroupsConfig(file);
    const source = { file, entry: JSON.parse(JSON.stringify({ ...before, env: undefined })) };
    write({ env: { A: '2' }, restart: { maxRestarts: 3, factor: 2 }, script: './app.mjs', baseTitle: 'web' });
    expect(changedEntryKeys(source.entry, await loadGroupEntry(file, 'web'))).toEqual([]);
    write({ baseTitle: 'web', script: './app.mjs', restart: { factor: 3, maxRestarts: 3 }, maxWorkerNum: 2 });
    expect(changedEntryKeys(source.entry, await loadGroupEntry(file, 'web'))).toEqual([
      'maxWorkerNum',
      'restart',
    ]);
  });

  it('parseGroupSource takes a source from a ping answer and nothing else', () => {
    expect(parseGroupSource({ pid: 1, source: { file: '/a.json', entry: { baseTitle: 'x' } } })).toEqual({
      file: '/a.json',
      entry: { baseTitle: 'x' },
    });
    expect(parseGroupSource({ pid: 1 })).toBeNull();
    expect(parseGroupSource({ source: { file: 3, entry: {} } })).toBeNull();
    expect(parseGroupSource(null)).toBeNull();
  });
});

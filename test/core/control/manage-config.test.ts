import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DroverError } from '../../../packages/core/src/errors.js';
import {
  findConfigFile,
  GroupsConfigError,
  loadGroupsConfig,
  manageFromEntry,
  validateGroups,
} from '../../../packages/core/src/groups/config.js';
import { Manage } from '../../../packages/core/src/Manage.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-config-'));
  writeFileSync(join(dir, 'worker.js'), 'setInterval(() => {}, 1000);\n');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('findConfigFile', () => {
  it('finds drover.config.js, .mjs or .json in the directory, null when there is none', () => {
    expect(findConfigFile(dir)).toBeNull();
    const path = write('drover.config.json', { groups: [] });
    expect(findConfigFile(dir)).toBe(path);
  });

  it('refuses two config files at once, naming both', () => {
    const json = write('drover.config.json', []);
    const mjs = write('drover.config.mjs', 'export default [];');
    expect(() => findConfigFile(dir)).toThrow(
      `several config files in '${dir}': ${mjs}, ${json}; keep one of them`,
    );
  });
});

describe('loadGroupsConfig', () => {
  it('loads { groups } from JSON, resolving script and path options from the file directory', async () => {
    mkdirSync(join(dir, 'app'));
    const path = write('drover.config.json', {
      groups: [
        { baseTitle: 'web', script: './worker.js', args: ['--port', '80'], maxWorkerNum: 2, cwd: 'app' },
        { baseTitle: 'jobs', script: 'worker.js', logRotation: { size: '1M' }, separateErrorFile: true },
      ],
    });
    const entries = await loadGroupsConfig(path);
    expect(entries).toEqual([
      {
        baseTitle: 'web',
        script: join(dir, 'worker.js'),
        args: ['--port', '80'],
        maxWorkerNum: 2,
        cwd: join(dir, 'app'),
      },
      {
        baseTitle: 'jobs',
        script: join(dir, 'worker.js'),
        logRotation: { size: '1M' },
        separateErrorFile: true,
      },
    ]);
    const manage = manageFromEntry(entries[0]!);
    expect(manage.baseTitle).toBe('web');
    expect(manage.config.maxWorkerNum).toBe(2);
    expect(manage.config.cwd).toBe(join(dir, 'app'));
  });

  it('loads an array exported by an ES module, and module.exports of a CommonJS file', async () => {
    const mjs = write('drover.config.mjs', "export default [{ baseTitle: 'a', script: './worker.js' }];");
    expect((await loadGroupsConfig(mjs)).map((e) => e.baseTitle)).toEqual(['a']);
    const cjs = write(
      'drover.config.js',
      "module.exports = { groups: [{ baseTitle: 'b', script: './worker.js' }] };",
    );
    expect((await loadGroupsConfig(cjs)).map((e) => e.baseTitle)).toEqual(['b']);
    const named = write('named.mjs', "export const groups = [{ baseTitle: 'c', script: './worker.js' }];");
    expect((await loadGroupsConfig(named)).map((e) => e.baseTitle)).toEqual(['c']);
  });

  it('names the file, the entry, the key, the value and the fix', async () => {
    const path = write('drover.config.json', {
      groups: [
        { baseTitle: 'web', script: './worker.js' },
        { baseTitle: 'jobs', script: './worker.js', maxWorkerNum: -1 },
      ],
    });
    const err = await loadGroupsConfig(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupsConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({
      code: 'ECONFIG',
      file: path,
      entry: 1,
      key: 'maxWorkerNum',
      value: -1,
      message: `drover: config file '${path}', entry 1 ('jobs'): 'maxWorkerNum' is -1; expected an integer from 0 to 1024`,
    });
  });

  const cases: [string, unknown, string][] = [
    ['not an array', { groups: 'web' }, `: 'groups' is "web"; expected an array of groups`],
    ['empty', [], `: 'groups' is an array (0 items); expected at least one group`],
    [
      'unknown top-level key',
      { group: [] },
      `: 'group' is an array (0 items); expected no such key: the file holds { groups: [...] }`,
    ],
    [
      'entry not an object',
      [42],
      `, entry 0: 'entry 0' is 42; expected each entry of groups to be an object naming a group, such as { baseTitle: "web", script: "./web.js" }`,
    ],
    [
      'unknown option',
      [{ baseTitle: 'w', script: './worker.js', maxWorkerNm: 2 }],
      `, entry 0 ('w'): 'maxWorkerNm' is 2; expected a known key (did you mean 'maxWorkerNum'?)`,
    ],
    [
      'misspelt script',
      [{ baseTitle: 'w', scrpt: './worker.js' }],
      `, entry 0 ('w'): 'scrpt' is "./worker.js"; expected a known key (did you mean 'script'?)`,
    ],
    [
      'no script',
      [{ baseTitle: 'w' }],
      `, entry 0 ('w'): 'script' is undefined; expected the path of the script the workers run`,
    ],
    [
      'missing script',
      [{ baseTitle: 'w', script: './nope.js' }],
      `, entry 0 ('w'): 'script' is "./nope.js"; expected an existing script file ('`,
    ],
    [
      'bad args',
      [{ baseTitle: 'w', script: './worker.js', args: '--x' }],
      `, entry 0 ('w'): 'args' is "--x"; expected an array of strings`,
    ],
    [
      'bad name',
      [{ baseTitle: 'a b', script: './worker.js' }],
      `, entry 0 ('a b'): 'baseTitle' is "a b"; expected a name of 1-64 letters`,
    ],
    [
      'duplicate name',
      [
        { baseTitle: 'w', script: './worker.js' },
        { baseTitle: 'w', script: './worker.js' },
      ],
      `, entry 1 ('w'): 'baseTitle' is "w"; expected a name not used by another group (entry 0 has it)`,
    ],
    [
      'bad rotation',
      [{ baseTitle: 'w', script: './worker.js', logRotation: { size: '7X' } }],
      `, entry 0 ('w'): 'logRotation.size' is "7X"; expected a size such as '10M'`,
    ],
    [
      'bad error-file flag',
      [{ baseTitle: 'w', script: './worker.js', separateErrorFile: 'yes' }],
      `, entry 0 ('w'): 'separateErrorFile' is "yes"; expected true or false`,
    ],
  ];
  for (const [what, value, message] of cases) {
    it(`refuses ${what}`, async () => {
      const path = write('drover.config.json', value);
      await expect(loadGroupsConfig(path)).rejects.toThrow(`drover: config file '${path}'${message}`);
    });
  }

  it('places a JSON syntax error at its line and column', async () => {
    const bad = write('drover.config.json', '{\n  "groups": [\n    {"baseTitle": "w",]\n  ]\n}\n');
    await expect(loadGroupsConfig(bad)).rejects.toThrow(
      new RegExp(
        `^drover: config file '${bad}' is not valid JSON \\([^)]+\\) at ${bad}:3:23; fix the syntax$`,
      ),
    );
  });

  it('refuses a file that is missing, not JSON, of another kind, or a module that throws', async () => {
    await expect(loadGroupsConfig(join(dir, 'none.json'))).rejects.toThrow(
      `drover: config file '${join(dir, 'none.json')}' does not exist`,
    );
    const bad = write('bad.json', '{ groups: [');
    await expect(loadGroupsConfig(bad)).rejects.toThrow(`drover: config file '${bad}' is not valid JSON (`);
    const yaml = write('drover.config.yaml', 'groups: []');
    await expect(loadGroupsConfig(yaml)).rejects.toThrow("has the extension '.yaml'; use .js, .mjs or .json");
    // a JavaScript file's error names its line (and column), as a JSON file's does
    const throws = write('throws.mjs', "const ok = 1;\nthrow new Error('boom');");
    await expect(loadGroupsConfig(throws)).rejects.toThrow(
      `drover: config file '${throws}' failed to load (boom) at ${throws}:2:7; fix the error in it`,
    );
    // a SyntaxError the file throws as it runs (JSON.parse) is placed by its stack, not node --check
    const parse = write('parse.mjs', "const ok = 1;\nexport default JSON.parse('{bad');\n");
    await expect(loadGroupsConfig(parse)).rejects.toThrow(
      new RegExp(`failed to load \\(.*JSON.*\\) at ${parse}:2:\\d+; fix the error in it`),
    );
    const undef = write(
      'undef.cjs',
      "const x = undefined;\nmodule.exports = [{ baseTitle: 'a', script: x.path }];\n",
    );
    await expect(loadGroupsConfig(undef)).rejects.toThrow(
      `drover: config file '${undef}' failed to load (Cannot read properties of undefined (reading 'path')) at ${undef}:2:`,
    );
  });
});

describe('Manage log file options', () => {
  it('a bad rotation is refused when the Manage is made, not later in a daemon', () => {
    expect(() => new Manage({ baseTitle: 'w' }, { logFiles: { rotation: { size: '10 MB' } } })).toThrow(
      expect.objectContaining({ code: 'ECONFIG', key: 'logRotation.size', value: '10 MB' }),
    );
    expect(new Manage({ baseTitle: 'w', logDir: '/var/log/w' }).logFile()).toBe('/var/log/w/w.log');
    expect(new Manage({ baseTitle: 'w', runDir: '/run/x' }).logFile()).toBe('/run/x/logs/w.log');
  });
});

describe('config values, property', () => {
  const KEYS = [
    'baseTitle',
    'script',
    'args',
    'maxWorkerNum',
    'executeTimes',
    'limitSeconds',
    'recycleJitter',
    'stopTimeout',
    'readyTimeout',
    'restart',
    'maxMemory',
    'env',
    'runDir',
    'logDir',
    'logLevel',
    'execArgv',
    'cwd',
    'user',
    'logRotation',
    'separateErrorFile',
    'unknownKey',
  ];
  const value = fc.oneof(
    fc.anything(),
    fc.constantFrom('./worker.js', 'web', '512M', 'info', '1d'),
    fc.integer({ min: -5, max: 5000 }),
    fc.record(
      { size: fc.anything(), interval: fc.anything(), maxFiles: fc.anything() },
      { requiredKeys: [] },
    ),
  );
  const entry = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 8 });
  const file = fc.oneof(
    fc.anything(),
    fc.array(fc.oneof(entry, fc.anything()), { maxLength: 4 }),
    fc.record({ groups: fc.array(entry, { maxLength: 4 }) }),
  );

  it('random config values either validate or throw a ConfigError/DroverError, never anything else', () => {
    fc.assert(
      fc.property(file, (v) => {
        try {
          const entries = validateGroups(join(dir, 'drover.config.json'), v);
          // what validates makes a Manage without complaint
          for (const e of entries) expect(manageFromEntry(e).baseTitle).toBe(e.baseTitle);
        } catch (err) {
          if (!(err instanceof DroverError)) throw err;
          expect(err.message).toMatch(/^drover: /);
          if (err instanceof ConfigError) expect(err.message).toContain(`'${err.key}' is `);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the same through a JSON file on disk', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.dictionary(fc.constantFrom(...KEYS), fc.jsonValue(), { maxKeys: 6 }), { maxLength: 3 }),
        async (v) => {
          const path = write('drover.config.json', { groups: v });
          try {
            const entries = await loadGroupsConfig(path);
            for (const e of entries) expect(manageFromEntry(e).baseTitle).toBe(e.baseTitle);
          } catch (err) {
            if (!(err instanceof DroverError)) throw err;
            expect(err.message).toMatch(/^drover: /);
            if (err instanceof ConfigError) expect(err.message).toContain(`'${err.key}' is `);
            // a value the file holds is refused naming the file
            if (err instanceof GroupsConfigError) {
              expect(err.file).toBe(path);
              expect(err.message.startsWith(`drover: config file '${path}'`), err.message).toBe(true);
            }
            refused++;
          }
        },
      ),
      { numRuns: 200 },
    );
    // most random files are refused: the checks above did run
    expect(refused).toBeGreaterThan(100);
  });
});

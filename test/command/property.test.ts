import { UsageError } from '@drover/command';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../packages/command/src/argv/tokenize.js';
import { capture } from './support/capture.js';
import { deployRouter } from './support/deploy-cli.js';

const names = [
  'd',
  'detach',
  'n',
  'workers',
  'a',
  's',
  'f',
  'force',
  'o',
  'e',
  'lines',
  'h',
  'help',
  'version',
  'x',
  'no-detach',
  'constructor',
  '__proto__',
  '5',
];
const word = fc.oneof(
  fc.constantFrom(
    'start',
    'restart',
    'stop',
    'logs',
    'help',
    'strat',
    'web',
    'broken',
    'bad',
    'nothing',
    '-',
    '--',
    '',
    '=',
    '-=',
    '---',
  ),
  fc.string(),
  fc.string({ unit: 'binary' }),
);
const optionToken = fc
  .tuple(
    fc.constantFrom('-', '--', '---'),
    fc.constantFrom(...names),
    fc.option(fc.oneof(fc.string(), fc.constantFrom('', '08', '=', 'x=y'))),
  )
  .map(([dashes, name, value]) => `${dashes}${name}${value === null ? '' : `=${value}`}`);
const cluster = fc.stringMatching(/^-[adsfoehnx5]{1,4}(=[a-z0-9]{0,3})?$/);
const argvArb = fc.array(fc.oneof(word, optionToken, cluster), { maxLength: 8 });

describe('no argv makes the router throw', () => {
  it('a word with control characters is quoted as escapes: the error stays one line', async () => {
    const { router } = deployRouter();
    const out = capture();
    expect(await router.run(['\n\x1b[31m'], out.io)).toBe(2);
    expect(out.stderr()).toBe(
      "deploy: unknown action '\\n\\x1b[31m'; expected one of start, restart, stop, logs\nRun 'deploy --help' for usage.\n",
    );
  });

  it('run() always resolves to an exit code, and stderr carries exactly the usage error format on 2', async () => {
    await fc.assert(
      fc.asyncProperty(argvArb, async (argv) => {
        const { router } = deployRouter();
        const out = capture();
        const code = await router.run(argv, out.io);
        expect([0, 1, 2, 3]).toContain(code);
        if (code === 2) {
          expect(out.stderr()).toMatch(/^deploy: [^\n]+\nRun 'deploy( [^ \n']+)? --help' for usage\.\n$/);
        } else if (code === 1) {
          expect(out.stderr()).toMatch(/^deploy: [^\n]+\n$/);
        } else {
          expect(out.stderr()).toBe('');
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('parse() throws nothing but UsageError', () => {
    const { router } = deployRouter();
    fc.assert(
      fc.property(argvArb, (argv) => {
        try {
          router.parse(argv);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('tokenize keeps every plain word, in order, whatever surrounds it', () => {
    const plain = fc.string().filter((s) => !s.startsWith('-') && !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(fc.oneof(plain, optionToken, cluster, fc.constant('--'))), (argv) => {
        const cut = argv.indexOf('--');
        const before = cut === -1 ? argv : argv.slice(0, cut);
        const after = cut === -1 ? [] : argv.slice(cut + 1);
        const expected = [...before.filter((a) => !a.startsWith('-')), ...after];
        expect(tokenize(argv).positionals).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

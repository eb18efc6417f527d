import { describe, expect, it } from 'vitest';
import { tokenize } from '../../packages/command/src/argv/tokenize.js';

// Each row is one of mri's habits (research: command-frameworks §6) and what tokenize makes of it.
describe('tokenize: argv through mri, without its pitfalls', () => {
  const cases: Array<{
    argv: string[];
    positionals: string[];
    options?: unknown[];
    malformed?: Array<{ word: string; index: number }>;
  }> = [
    { argv: ['start', '-d'], positionals: ['start'], options: [{ key: 'd', flag: '-d', value: undefined }] },
    // mri alone: `-d start` → { d: 'start' }, the action is eaten.
    { argv: ['-d', 'start'], positionals: ['start'], options: [{ key: 'd', value: undefined }] },
    // mri with `boolean: ['d']`: `-d 08` → _: [8], a number; `-d false` drops the word.
    { argv: ['start', '-d', '08'], positionals: ['start', '08'] },
    { argv: ['start', '-d', 'false', 'true'], positionals: ['start', 'false', 'true'] },
    // mri alone: `-n=08` → 8.
    { argv: ['start', '-n=08'], positionals: ['start'], options: [{ key: 'n', flag: '-n', value: '08' }] },
    {
      argv: ['start', '--workers=08'],
      positionals: ['start'],
      options: [{ key: 'workers', flag: '--workers', value: '08' }],
    },
    { argv: ['start', '-n='], positionals: ['start'], options: [{ key: 'n', value: '' }] },
    { argv: ['start', '-n=a=b'], positionals: ['start'], options: [{ key: 'n', value: 'a=b' }] },
    { argv: ['start', '-n', '4'], positionals: ['start', '4'], options: [{ key: 'n', value: undefined }] },
    {
      argv: ['start', '-ds=x'],
      positionals: ['start'],
      options: [
        { key: 'd', value: undefined },
        { key: 's', value: 'x' },
      ],
    },
    // Repeats are occurrences, not arrays.
    {
      argv: ['start', '-d', '-d'],
      positionals: ['start'],
      options: [
        { key: 'd', value: undefined },
        { key: 'd', value: undefined },
      ],
    },
    {
      argv: ['start', '--no-detach'],
      positionals: ['start'],
      options: [{ key: 'detach', flag: '--no-detach', negated: true }],
    },
    // A lone '-' makes mri eat the next word; it is a positional (stdin by convention).
    { argv: ['cat', '-', 'x'], positionals: ['cat', '-', 'x'], options: [] },
    { argv: ['start', '--', '-d', '--x=1'], positionals: ['start', '-d', '--x=1'], options: [] },
    { argv: ['start', '-5'], positionals: ['start'], options: [{ key: '5', flag: '-5' }] },
    { argv: ['--help'], positionals: [], options: [{ key: 'help', flag: '--help' }] },
    {
      argv: ['start', '---x', '--d', '-no-x', '--_x', '-=', '--=1', '-a_b'],
      positionals: ['start'],
      options: [],
      malformed: ['---x', '--d', '-no-x', '--_x', '-=', '--=1', '-a_b'].map((word, i) => ({
        word,
        index: i + 1,
      })),
    },
    // Object.prototype names are plain keys, not inherited values.
    { argv: ['--constructor'], positionals: [], options: [{ key: 'constructor' }] },
  ];

  it.each(cases)('$argv', ({ argv, positionals, options, malformed = [] }) => {
    const tokens = tokenize(argv);
    expect(tokens.positionals).toEqual(positionals);
    if (options) expect(tokens.options).toMatchObject(options);
    if (options) expect(tokens.options).toHaveLength(options.length);
    expect(tokens.malformed).toEqual(malformed);
  });

  // With `takesValue`, as getopt: a required value may follow in the same word or the next one.
  const valued = (key: string) => key === 'n' || key === 'workers';
  const valuedCases: Array<{ argv: string[]; positionals: string[]; options: unknown[] }> = [
    {
      argv: ['start', '-n', '4', 'x'],
      positionals: ['start', 'x'],
      options: [{ key: 'n', flag: '-n', value: '4' }],
    },
    { argv: ['-n', '4', 'start'], positionals: ['start'], options: [{ key: 'n', value: '4' }] },
    { argv: ['start', '-n4'], positionals: ['start'], options: [{ key: 'n', flag: '-n', value: '4' }] },
    {
      argv: ['start', '-dn', '4'],
      positionals: ['start'],
      options: [
        { key: 'd', value: undefined },
        { key: 'n', value: '4' },
      ],
    },
    {
      argv: ['start', '-dn4s'],
      positionals: ['start'],
      options: [
        { key: 'd', value: undefined },
        { key: 'n', value: '4s' },
      ],
    },
    {
      argv: ['start', '--workers', '08'],
      positionals: ['start'],
      options: [{ key: 'workers', flag: '--workers', value: '08' }],
    },
    { argv: ['start', '-n', '-'], positionals: ['start'], options: [{ key: 'n', value: '-' }] },
    // The next word is not a value when it is '--' or looks like an option.
    {
      argv: ['start', '-n', '-d'],
      positionals: ['start'],
      options: [
        { key: 'n', value: undefined },
        { key: 'd', value: undefined },
      ],
    },
    // a negative number is a value, not an option
    {
      argv: ['start', '-n', '-1'],
      positionals: ['start'],
      options: [{ key: 'n', value: '-1', valueIndex: 2 }],
    },
    {
      argv: ['start', '--workers', '-1.5'],
      positionals: ['start'],
      options: [{ key: 'workers', value: '-1.5' }],
    },
    { argv: ['start', '-n', '-1e3'], positionals: ['start'], options: [{ key: 'n', value: '-1e3' }] },
    { argv: ['start', '-n', '-.5'], positionals: ['start'], options: [{ key: 'n', value: '-.5' }] },
    // the rest of the word is the value, whatever its characters
    { argv: ['start', '-n1.5'], positionals: ['start'], options: [{ key: 'n', value: '1.5' }] },
    { argv: ['start', '-n/tmp/f'], positionals: ['start'], options: [{ key: 'n', value: '/tmp/f' }] },
    {
      argv: ['start', '-dn=é'],
      positionals: ['start'],
      options: [
        { key: 'd', value: undefined },
        { key: 'n', value: 'é' },
      ],
    },
    {
      argv: ['start', '-n', '--', 'x'],
      positionals: ['start', 'x'],
      options: [{ key: 'n', value: undefined }],
    },
    { argv: ['start', '-n'], positionals: ['start'], options: [{ key: 'n', value: undefined }] },
    // '=' still wins, and flags are untouched.
    { argv: ['start', '-n=', '4'], positionals: ['start', '4'], options: [{ key: 'n', value: '' }] },
    { argv: ['start', '-d', '4'], positionals: ['start', '4'], options: [{ key: 'd', value: undefined }] },
    { argv: ['start', '--', '-n', '4'], positionals: ['start', '-n', '4'], options: [] },
  ];

  it.each(valuedCases)('$argv, -n and --workers taking a value', ({ argv, positionals, options }) => {
    const tokens = tokenize(argv, valued);
    expect(tokens.positionals).toEqual(positionals);
    expect(tokens.options).toMatchObject(options);
    expect(tokens.options).toHaveLength(options.length);
    expect(tokens.malformed).toEqual([]);
  });

  it('keeps the place of an option whose value is the next word, and the first positional after it', () => {
    const tokens = tokenize(['-n', 'start', 'x'], valued);
    expect(tokens.options.map((o) => [o.flag, o.value, o.index, o.valueIndex])).toEqual([
      ['-n', 'start', 0, 1],
    ]);
    expect(tokens.positionals).toEqual(['x']);
    expect(tokens.firstPositionalIndex).toBe(2);
  });

  it('refuses, before mri reads them, option names over 100 characters and the words the caller says are long options with one dash', () => {
    const cluster = `-${'x'.repeat(100)}`;
    const tokens = tokenize(
      [cluster, `${cluster}y`, `--${'y'.repeat(101)}=v`, '-tag', '-n1', `-n${'z'.repeat(500)}`],
      (key) => key === 'n',
      (word) => word === '-tag',
    );
    expect(tokens.malformed).toEqual([
      { word: `${cluster}y`, index: 1, reason: 'too-long' },
      { word: `--${'y'.repeat(101)}=v`, index: 2, reason: 'too-long' },
      { word: '-tag', index: 3, reason: 'one-dash' },
    ]);
    expect(tokens.options.filter((o) => o.key === 'x')).toHaveLength(100);
    expect(tokens.options.filter((o) => o.key === 'n').map((o) => o.value?.length)).toEqual([1, 500]);
  });

  it('refuses the words the caller says are options written with a lookalike dash, and never takes one as a value', () => {
    const tokens = tokenize(
      ['—force', '-n', '–tag', '—notes', '--', '—force'],
      (key) => key === 'n',
      () => false,
      (word) => word === '—force' || word === '–tag',
    );
    expect(tokens.malformed).toEqual([
      { word: '—force', index: 0, reason: 'lookalike-dash' },
      { word: '–tag', index: 2, reason: 'lookalike-dash' },
    ]);
    expect(tokens.options.map((o) => [o.flag, o.value])).toEqual([['-n', undefined]]);
    expect(tokens.positionals).toEqual(['—notes', '—force']);
  });

  it('gives each option and stray word its place in argv, in argv order', () => {
    const tokens = tokenize(['-d', '--xy=1', 'start', '-=', '-ab', '--', '-n', 'help']);
    expect(tokens.options.map((o) => [o.flag, o.index])).toEqual([
      ['-d', 0],
      ['--xy', 1],
      ['-a', 4],
      ['-b', 4],
    ]);
    expect(tokens.malformed).toEqual([{ word: '-=', index: 3 }]);
    expect(tokens.positionals).toEqual(['start', '-n', 'help']);
    expect(tokens.positionalIndexes).toEqual([2, 6, 7]);
    expect(tokens.firstPositionalIndex).toBe(2);
    expect(tokens.dashDashIndex).toBe(5);
    expect(tokenize(['--', 'help'])).toMatchObject({ firstPositionalIndex: 1, dashDashIndex: 0 });
    expect(tokenize(['-d'])).toMatchObject({ firstPositionalIndex: undefined, dashDashIndex: undefined });
  });
});

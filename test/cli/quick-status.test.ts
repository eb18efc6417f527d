// The bin answers the plain forms of `status` without the router. Whatever it takes that way must
// be exactly what the router would run: the status action with the same name and --json.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainStatusRequest } from '../../packages/cli/src/drover/quickStatus.js';
import { createDroverRouter } from '../../packages/cli/src/drover/router.js';

const router = createDroverRouter();

function viaRouter(argv: string[]): { name: string | undefined; json: boolean } | null {
  try {
    const request = router.parse(argv);
    if (request.kind !== 'action' || request.action.name !== 'status') return null;
    return {
      name: request.args.name as string | undefined,
      json: request.options.some((o) => o.option.name === 'json'),
    };
  } catch {
    return null;
  }
}

describe('the quick status path', () => {
  it('takes the plain forms', () => {
    expect(plainStatusRequest(['status'])).toEqual({ name: undefined, json: false });
    expect(plainStatusRequest(['status', 'web'])).toEqual({ name: 'web', json: false });
    expect(plainStatusRequest(['status', '--json', 'web'])).toEqual({ name: 'web', json: true });
    expect(plainStatusRequest(['status', 'web', '--json'])).toEqual({ name: 'web', json: true });
  });

  it('leaves help, errors and everything else to the router', () => {
    for (const argv of [
      [],
      ['stop', 'web'],
      ['status', '--help'],
      ['status', '-h'],
      ['status', '--json', '--json'],
      ['status', 'a', 'b'],
      ['status', '--jsn'],
      ['status', 'bad/name'],
      ['status', '--', 'web'],
      ['status', '-web'],
      ['status', '--json=1'],
    ]) {
      expect(plainStatusRequest(argv), argv.join(' ')).toBeNull();
    }
  });

  it('accepts nothing the router would run differently', () => {
    const word = fc.constantFrom(
      'status',
      'stop',
      'web',
      'a.b_c-d',
      'bad/name',
      '--json',
      '--json=x',
      '--jsn',
      '-h',
      '--help',
      '--version',
      'help',
      '--',
      '-',
      '-w=2',
      'all',
      '',
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), (argv) => {
        const quick = plainStatusRequest(argv);
        if (quick === null) return;
        expect(viaRouter(argv)).toEqual(quick);
      }),
      { numRuns: 2000 },
    );
  });
});

// What a restart checks before it stops any worker: the group's entry script is there, readable,
// and (JavaScript run without a loader) parses; what it cannot judge it lets through.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryProblem, nodeOptionsWords } from '../../packages/core/src/master/entryCheck.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-entry-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('entryProblem', () => {
  it('is null for a script that parses, CommonJS or ES module', async () => {
    writeFileSync(join(dir, 'a.mjs'), 'export const a = await Promise.resolve(1);\n');
    writeFileSync(join(dir, 'b.cjs'), 'module.exports = 1;\n');
    expect(await entryProblem(join(dir, 'a.mjs'), [])).toBeNull();
    expect(await entryProblem(join(dir, 'b.cjs'), [])).toBeNull();
  });

  it('names a script that is gone, or a directory in its place', async () => {
    expect(await entryProblem(join(dir, 'gone.mjs'), [])).toEqual({
      problem: `its entry script '${join(dir, 'gone.mjs')}' no longer exists (ENOENT)`,
      hint: 'put the script back (or, for another path, stop the group and start it with the new one), then try again',
    });
    mkdirSync(join(dir, 'd.js'));
    expect((await entryProblem(join(dir, 'd.js'), []))?.problem).toBe(
      `its entry script '${join(dir, 'd.js')}' is not a file`,
    );
  });

  it('names a syntax error with its line', async () => {
    const file = join(dir, 'bad.js');
    writeFileSync(file, 'const a = 1;\nconst b = ;\n');
    expect(await entryProblem(file, [])).toEqual({
      problem: `its entry script '${file}' does not parse: SyntaxError: Unexpected token ';' at ${file}:2`,
      hint: `fix it ('node --check ${file}' shows where), then try again`,
    });
  });

  it('does not judge the syntax of a file a loader runs (TypeScript, a hook), only that it is there', async () => {
    const ts = join(dir, 'app.ts');
    writeFileSync(ts, 'const a: number = 1;\n');
    expect(await entryProblem(ts, [])).toBeNull();
    const jsx = join(dir, 'app.js');
    writeFileSync(jsx, 'const a = <div />;\n');
    expect(await entryProblem(jsx, ['--import', 'tsx'])).toBeNull();
    expect(await entryProblem(jsx, ['--require=@babel/register'])).toBeNull();
    expect((await entryProblem(jsx, ['--max-old-space-size=100']))?.problem).toMatch(
      /does not parse: SyntaxError/,
    );
  });

  it('reads the loader flags of a NODE_OPTIONS value as Node splits it', () => {
    expect(nodeOptionsWords(undefined)).toEqual([]);
    expect(nodeOptionsWords('  --require  /a/hook.cjs --max-old-space-size=100 ')).toEqual([
      '--require',
      '/a/hook.cjs',
      '--max-old-space-size=100',
    ]);
    expect(nodeOptionsWords('-r "/a b/hook.cjs" --import=tsx')).toEqual([
      '-r',
      '/a b/hook.cjs',
      '--import=tsx',
    ]);
  });
});

import { execFile } from 'node:child_process';
import { accessSync, constants, type Stats, statSync } from 'node:fs';
import { extname } from 'node:path';

/** What Node parses as JavaScript without a loader: the files `node --check` can judge. */
const CHECKED_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
/** Flags that change what a file means (TypeScript, JSX through a hook): `node --check` cannot judge then. */
const LOADER_FLAG = /^(?:--(?:import|loader|experimental-loader|require)(?:=|$)|-r$)/;
/**
 * The words of a `NODE_OPTIONS` value, as Node splits it (white space, double quotes keep a word
 * whole, a backslash in quotes escapes the next character), for the loader flags among them.
 */
export function nodeOptionsWords(value: string | undefined): string[] {
  if (!value) return [];
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (quoted) {
      if (c === '\\' && i + 1 < value.length) word += value[++i];
      else if (c === '"') quoted = false;
      else word += c;
    } else if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A syntax check that takes longer than this says nothing: the restart goes on. */
const CHECK_TIMEOUT_MS = 10_000;

/** Why new workers cannot start from the entry script, and what to do about it. */
export interface EntryProblem {
  /** `its entry script '/srv/app/server.mjs' no longer exists (ENOENT)` */
  problem: string;
  hint: string;
}

/**
 * Why a worker could not start from `file` now, or null when nothing is known against it: the
 * file is gone, is not a file, cannot be read, or (a `.js`, `.mjs` or `.cjs` file run without a
 * loader) does not parse, as `node --check` finds it (a second process, about 50 ms, that never
 * blocks the caller's event loop). What the script does once it runs is not judged here.
 */
export async function entryProblem(file: string, execArgv: readonly string[]): Promise<EntryProblem | null> {
  const putBack =
    'put the script back (or, for another path, stop the group and start it with the new one), then try again';
  let stat: Stats;
  try {
    stat = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return {
      problem:
        code === 'ENOENT' || code === 'ENOTDIR'
          ? `its entry script '${file}' no longer exists (${code})`
          : `its entry script '${file}' cannot be reached (${code})`,
      hint: putBack,
    };
  }
  if (!stat.isFile()) return { problem: `its entry script '${file}' is not a file`, hint: putBack };
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    return {
      problem: `its entry script '${file}' cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      hint: `give the group's user read access to it (ls -l ${file}), then try again`,
    };
  }
  if (!CHECKED_EXTENSIONS.has(extname(file)) || execArgv.some((arg) => LOADER_FLAG.test(arg))) return null;
  const error = await syntaxError(file);
  if (error === null) return null;
  return {
    problem: `its entry script '${file}' does not parse: ${error}`,
    hint: `fix it ('node --check ${file}' shows where), then try again`,
  };
}

/** `SyntaxError: Unexpected token ';' at <file>:3` as `node --check` reports it, or null when it parses. */
function syntaxError(file: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--title=drover:entry-check', '--check', file],
      { encoding: 'utf8', timeout: CHECK_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (err, _stdout, stderr) => {
        // parsed, or no verdict (a check killed at its timeout, no process to run it)
        if (!err || typeof (err as { code?: unknown }).code !== 'number') return resolve(null);
        const lines = String(stderr).split('\n');
        const what = lines.find((line) => /^\w*Error\b/.test(line));
        if (what === undefined) return resolve(null);
        const at = new RegExp(`^${escapeRegExp(file)}:(\\d+)$`, 'm').exec(String(stderr));
        resolve(at ? `${what} at ${file}:${at[1]}` : what);
      },
    );
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

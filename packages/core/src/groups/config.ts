import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closest } from '../closest.js';
import { MANAGE_OPTION_KEYS, type ManageOptions, resolveManageConfig } from '../config.js';
import type { GroupSource } from '../control/protocol.js';
import { ConfigError, DroverError, describeValue } from '../errors.js';
import { type RotationOptions, resolveRotation } from '../log/rotation.js';
import { Manage, type ManageDeps } from '../Manage.js';
import { scriptLaunch } from '../master/launch.js';
import { resolvePrincipal } from '../master/privileges.js';

/** One group of a config file: a Manage's options plus what its workers run. */
export interface GroupEntry extends ManageOptions {
  /** the script the workers run (relative to the config file's directory) */
  script: string;
  /** its arguments */
  args?: string[];
  /** rotation of the background log file; default `10M`, `1d`, 14 files; false: none */
  logRotation?: RotationOptions | false;
  /** error and fatal records also go to `<baseTitle>.error.log` */
  separateErrorFile?: boolean;
}

/** The names looked for, in this order. */
export const CONFIG_FILE_NAMES = ['drover.config.js', 'drover.config.mjs', 'drover.config.json'] as const;

/**
 * True when `path` names a config file by its name: `drover.config.js`, `.mjs`, `.cjs` or `.json`
 * (`drover start <file>` starts its groups instead of running it as a script).
 */
export function isConfigFileName(path: string): boolean {
  return /^drover\.config\.(js|mjs|cjs|json)$/.test(basename(path));
}

/**
 * The error for a group name the config file at `file` does not have: its groups, and the
 * nearest name when there is one. `notScript`: the path looked for as a script too; `start`: the
 * command that starts one group by name (default `drover start`).
 */
export function noSuchGroupError(
  file: string,
  entries: readonly GroupEntry[],
  name: string,
  opts: { notScript?: string; start?: string } = {},
): DroverError {
  const names = entries.map((e) => e.baseTitle);
  // the name sharing the longest start first: 'web-2' is nearer 'web-22' than 'web-1' is
  const shared = (n: string) => {
    let i = 0;
    while (i < n.length && i < name.length && n[i] === name[i]) i++;
    return i;
  };
  const near = closest(
    name,
    [...names].sort((a, b) => shared(b) - shared(a)),
  );
  const start = opts.start ?? 'drover start';
  const script =
    opts.notScript === undefined ? '' : `, and no script of that name exists (${opts.notScript})`;
  return new DroverError(
    'ENOENTRY',
    `drover: config file '${file}' has no group named '${name}' (its groups: ${names.map((n) => `'${n}'`).join(', ')})${script}`,
    {
      hint: near
        ? `did you mean '${near}'? (${start} ${near})`
        : `give one of its groups (${start} ${names[0]}), or none to start them all`,
    },
  );
}

/** Option keys holding paths: relative ones are taken from the config file's directory. */
const PATH_KEYS = ['cwd', 'runDir', 'pidRoot', 'logDir'] as const;
const ENTRY_KEYS = new Set(['script', 'args', 'logRotation', 'separateErrorFile']);

/** A config file's value that is not allowed: names the file, the entry, the key, the value and the fix. */
export class GroupsConfigError extends ConfigError {
  readonly file: string;
  /** index of the entry, or null for the file's shape */
  readonly entry: number | null;

  constructor(
    file: string,
    entry: number | null,
    name: string | null,
    key: string,
    value: unknown,
    expected: string,
  ) {
    const allowed = expected.replace(/^expected /, '');
    super(key, value, allowed);
    const where = entry === null ? '' : `, entry ${entry}${name ? ` ('${name}')` : ''}`;
    this.message = `drover: config file '${file}'${where}: '${key}' is ${describeValue(value)}; expected ${allowed}`;
    this.name = 'GroupsConfigError';
    this.file = file;
    this.entry = entry;
  }
}

/**
 * The config file in `cwd` (default: the current directory): `drover.config.js`, `.mjs` or
 * `.json`; null when there is none. Two of them at once is an error: which one is meant?
 */
export function findConfigFile(cwd: string = process.cwd()): string | null {
  const present = CONFIG_FILE_NAMES.map((name) => join(resolve(cwd), name)).filter((path) => isFile(path));
  if (present.length > 1) {
    throw new DroverError(
      'ECONFIG',
      `drover: several config files in '${resolve(cwd)}': ${present.join(', ')}`,
      {
        hint: 'keep one of them',
      },
    );
  }
  return present[0] ?? null;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Loads and validates a config file: `{ groups: [...] }` or an array of entries, as JSON or as
 * the default export of a JavaScript module. Every entry is checked like `new Manage()` checks
 * its options, its script must exist, and names must be unique; the first problem throws a
 * `GroupsConfigError` (or a `DroverError` for a file that cannot be read or parsed).
 */
export async function loadGroupsConfig(path: string): Promise<GroupEntry[]> {
  if (typeof path !== 'string' || path === '') {
    throw new ConfigError('config file', path, 'a path to drover.config.js, .mjs or .json');
  }
  const file = resolve(path);
  const value = await readConfigValue(file);
  return validateGroups(file, value);
}

/**
 * The entry of group `baseTitle` in the config file at `path`, read again and validated as a
 * start validates the file (every entry, not only this one: a start would fail on any of them).
 * A JavaScript file that is an ES module is evaluated again, in this process's environment, even
 * when this process loaded it before; a CommonJS one (`.cjs`, or `.js` in a CommonJS package) is
 * read again only by a process that has not loaded it yet (the `drover` command is a new process
 * each time). Throws as `loadGroupsConfig`, and `ENOENTRY` when the file has no such group.
 */
export async function loadGroupEntry(path: string, baseTitle: string): Promise<GroupEntry> {
  if (typeof path !== 'string' || path === '') {
    throw new ConfigError('config file', path, 'a path to drover.config.js, .mjs or .json');
  }
  const file = resolve(path);
  const entries = validateGroups(file, await readConfigValue(file, { fresh: true }));
  const entry = entries.find((e) => e.baseTitle === baseTitle);
  if (!entry) {
    throw new DroverError(
      'ENOENTRY',
      `drover: config file '${file}' has no group named '${baseTitle}' any more (it has ${entries.map((e) => `'${e.baseTitle}'`).join(', ')})`,
      {
        hint: `put its entry back, or stop the group (drover stop ${baseTitle}) and start what the file holds`,
      },
    );
  }
  return entry;
}

/**
 * The keys of `after` whose value differs from `before` (the entry as `GroupSource.entry` holds
 * it: JSON, without `env`), `env` aside: what a reload that takes only the entry's `env` leaves
 * as it was. Sorted.
 */
export function changedEntryKeys(before: Readonly<Record<string, unknown>>, after: GroupEntry): string[] {
  const now = sourceEntry(after);
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  // (a master keeps no env: its values may be secrets)
  return [...keys].filter((key) => key !== 'env' && !sameJson(before[key], now[key])).sort();
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** Why a validated entry's group cannot start (a missing cwd, an unknown user), for checkEntriesCanStart. */
const startProblems = new WeakMap<GroupEntry, GroupsConfigError>();

/**
 * Throws, before any of them starts, the error of the first entry whose group could not start:
 * its `cwd` does not exist, or its `user` or `group` is unknown.
 */
export function checkEntriesCanStart(entries: readonly GroupEntry[]): void {
  for (const entry of entries) {
    const problem = startProblems.get(entry);
    if (problem) throw problem;
  }
}

/** The config file each validated entry came from, for `manageFromEntry`. */
const entryFiles = new WeakMap<GroupEntry, string>();

/**
 * An entry as a master keeps it for `ping` (GroupSource.entry): JSON, without its `env`, whose
 * values may be secrets.
 */
function sourceEntry(entry: GroupEntry): Record<string, unknown> {
  const { env: _env, ...rest } = entry;
  try {
    return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Runs `load` with the working directory set to `dir`, then sets it back: a JavaScript config
 * file runs as it does when `drover start` is run where it is, whatever directory the command
 * runs in (a relative `process.loadEnvFile('.env')` reads the file's own `.env`). One at a time:
 * the working directory belongs to the whole process.
 */
function inDirectory<T>(dir: string, load: () => Promise<T>): Promise<T> {
  const run = async () => {
    const before = process.cwd();
    try {
      process.chdir(dir);
    } catch {
      // a directory that cannot be entered: the file loads from here, as before
      return load();
    }
    try {
      return await load();
    } finally {
      process.chdir(before);
    }
  };
  const result = loadQueue.then(run, run);
  loadQueue = result.then(
    () => undefined,
    () => undefined,
  );
  return result;
}

let loadQueue: Promise<void> = Promise.resolve();

async function readConfigValue(file: string, opts: { fresh?: boolean } = {}): Promise<unknown> {
  if (!existsSync(file)) {
    throw new DroverError('ECONFIG', `drover: config file '${file}' does not exist`, {
      hint: `create it, or run where one of ${CONFIG_FILE_NAMES.join(', ')} is`,
    });
  }
  const ext = extname(file);
  if (ext === '.json') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new DroverError(
        'ECONFIG',
        `drover: cannot read config file '${file}' (${(err as NodeJS.ErrnoException).code})`,
        {
          hint: 'check its permissions',
          cause: err,
        },
      );
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new DroverError(
        'ECONFIG',
        `drover: config file '${file}' is not valid JSON (${(err as Error).message.replace(/ in JSON at position \d+.*$/, '')})${jsonPlace(file, text, (err as Error).message)}`,
        {
          hint: 'fix the syntax',
          cause: err,
        },
      );
    }
  }
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
    let mod: { default?: unknown; groups?: unknown };
    try {
      // Node keeps a module once imported: another URL (a query) evaluates an ES module file
      // again (each such copy stays loaded); a CommonJS one comes from require's cache
      const url = pathToFileURL(file);
      if (opts.fresh) url.search = `reread=${Date.now()}-${Math.random().toString(36).slice(2)}`;
      mod = await inDirectory(dirname(file), async () => (await import(url.href)) as typeof mod);
    } catch (err) {
      throw new DroverError(
        'ECONFIG',
        `drover: config file '${file}' failed to load (${(err as Error)?.message ?? String(err)})${scriptPlace(file, err)}`,
        {
          hint: `fix the error in it (it runs with its own directory, '${dirname(file)}', as the working directory)`,
          cause: err,
        },
      );
    }
    const value = mod.default ?? (mod.groups !== undefined ? { groups: mod.groups } : undefined);
    if (typeof value === 'function') {
      throw new DroverError(
        'ECONFIG',
        `drover: config file '${file}': its default export is a function; drover does not call it`,
        {
          hint: 'export the value itself: export default { groups: [...] } (or module.exports = { groups: [...] }), or an array of entries; compute it at the top of the file',
        },
      );
    }
    return value;
  }
  throw new DroverError('ECONFIG', `drover: config file '${file}' has the extension '${ext}'`, {
    hint: 'use .js, .mjs or .json',
  });
}

/** Validates the value of a config file (exported for tests of the rules themselves). */
export function validateGroups(file: string, value: unknown): GroupEntry[] {
  let list: unknown = value;
  if (typeof value === 'function') {
    throw new GroupsConfigError(
      file,
      null,
      null,
      'default export',
      value,
      'the value itself, not a function that returns it (drover does not call it): export default { groups: [...] }',
    );
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key !== 'groups') {
        throw new GroupsConfigError(file, null, null, key, value[key], topLevelHint(key, value));
      }
    }
    list = value.groups;
  }
  if (!Array.isArray(list)) {
    throw new GroupsConfigError(
      file,
      null,
      null,
      'groups',
      list,
      'an array of groups, e.g. { groups: [{ baseTitle: "web", script: "./web.js" }] }',
    );
  }
  if (list.length === 0) {
    throw new GroupsConfigError(file, null, null, 'groups', list, 'at least one group');
  }
  const seen = new Map<string, number>();
  return list.map((item, index) => {
    const entry = validateEntry(file, index, item);
    const before = seen.get(entry.baseTitle);
    if (before !== undefined) {
      throw new GroupsConfigError(
        file,
        index,
        entry.baseTitle,
        'baseTitle',
        entry.baseTitle,
        `a name not used by another group (entry ${before} has it)`,
      );
    }
    seen.set(entry.baseTitle, index);
    entryFiles.set(entry, file);
    return entry;
  });
}

/**
 * What a key at the top of the file should have been: PM2's `apps` is drover's `groups`; the keys
 * of one entry (`script`, `baseTitle`...) belong in an entry of `groups`.
 */
function topLevelHint(key: string, value: Record<string, unknown>): string {
  if (key === 'apps' || closest(key, ['groups']) === 'groups') {
    return `no such key: the file holds { groups: [...] } (did you mean 'groups'?${key === 'apps' ? " PM2's apps are drover's groups" : ''})`;
  }
  const entryKey = ENTRY_KEYS.has(key) || MANAGE_OPTION_KEYS.has(key) || key in PM2_KEYS;
  if (entryKey) {
    const one = 'groups' in value ? 'move it into the entry of its group' : 'wrap the entry';
    return `no such key at the top of the file: '${key}' is a key of one group's entry; ${one}: { groups: [{ baseTitle: "web", script: "./web.js", ... }] }`;
  }
  return 'no such key: the file holds { groups: [...] }';
}

/**
 * PM2 ecosystem keys, and what drover calls them (or how it does without): a file written for
 * PM2 gets the right name in its error.
 */
const PM2_KEYS: Record<string, string> = {
  name: "'baseTitle' (the group's name)",
  instances: "'maxWorkerNum' (the number of workers)",
  exec_mode: "no such key: drover always runs 'maxWorkerNum' worker processes",
  node_args: "'execArgv' (an array of Node options)",
  interpreter_args: "'execArgv' (an array of Node options)",
  max_memory_restart: "'maxMemory' (a worker above it is replaced, e.g. '300M')",
  kill_timeout: "'stopTimeout' (milliseconds)",
  listen_timeout: "'readyTimeout' (milliseconds)",
  max_restarts: "'restart' ({ maxRestarts: ... })",
  restart_delay: "'restart' ({ initialDelayMs: ... })",
  exp_backoff_restart_delay: "'restart' ({ initialDelayMs, maxDelayMs, factor })",
  min_uptime: "'restart' ({ stableAfterMs: ... })",
  uid: "'user'",
  gid: "'group'",
  out_file: "'logDir' (each group logs to <logDir>/<baseTitle>.log)",
  error_file: "'separateErrorFile: true' (errors also go to <logDir>/<baseTitle>.error.log)",
  log_file: "'logDir' (each group logs to <logDir>/<baseTitle>.log)",
  env_production: "'env' (one per entry: pick the values in a JS config file, e.g. by process.env.NODE_ENV)",
  env_development: "'env' (one per entry: pick the values in a JS config file, e.g. by process.env.NODE_ENV)",
};

/** The hint for an unknown key of an entry: a PM2 key's drover name, or the nearest known key. */
function unknownKeyHint(key: string): string {
  const pm2 = PM2_KEYS[key] ?? (/^env_./.test(key) ? PM2_KEYS.env_production : undefined);
  if (pm2 !== undefined) {
    return pm2.startsWith('no such key')
      ? `a known key (PM2's '${key}' has ${pm2})`
      : `a known key (did you mean ${pm2}? drover's name for PM2's '${key}')`;
  }
  const near = closest(key, [...ENTRY_KEYS, ...MANAGE_OPTION_KEYS]);
  return near ? `a known key (did you mean '${near}'?)` : 'a known key: see docs/operations.md';
}

/** ` at file:line:column` of the position a JSON.parse message names, or '' when it names none. */
/**
 * Where in a JavaScript config file its load failed: the first stack frame in the file for a
 * throw; for a syntax error, which an ES module's stack does not place, the line `node --check`
 * names (a second process, on this error path only).
 */
function scriptPlace(file: string, err: unknown): string {
  if (!(err instanceof Error)) return '';
  const url = pathToFileURL(file).href;
  for (const frame of (err.stack ?? '').split('\n').slice(1)) {
    const place = new RegExp(
      `(?:${escapeRegExp(url)}|${escapeRegExp(file)})(?:\\?[^:)]*)?:(\\d+):(\\d+)`,
    ).exec(frame);
    if (place) return ` at ${file}:${place[1]}:${place[2]}`;
  }
  // a syntax error of the file itself (a JSON.parse in it throws one too, placed above)
  if (err instanceof SyntaxError) {
    const { spawnSync } = process.getBuiltinModule(
      'node:child_process',
    ) as typeof import('node:child_process');
    const check = spawnSync(process.execPath, ['--title=drover:config-check', '--check', file], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const line = new RegExp(`^${escapeRegExp(file)}:(\\d+)$`, 'm').exec(check.stderr ?? '');
    return line ? ` at ${file}:${line[1]}` : '';
  }
  return '';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function jsonPlace(file: string, text: string, message: string): string {
  const match = / at position (\d+)/.exec(message);
  if (!match) return '';
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  return ` at ${file}:${line}:${before.length - before.lastIndexOf('\n')}`;
}

function validateEntry(file: string, index: number, item: unknown): GroupEntry {
  const fail = (name: string | null, key: string, value: unknown, expected: string) =>
    new GroupsConfigError(file, index, name, key, value, expected);
  if (!isPlainObject(item)) {
    throw fail(
      null,
      `entry ${index}`,
      item,
      'each entry of groups to be an object naming a group, such as { baseTitle: "web", script: "./web.js" }',
    );
  }
  const name =
    typeof item.baseTitle === 'string' ? item.baseTitle : typeof item.name === 'string' ? item.name : null;
  const base = dirname(file);
  const options: Record<string, unknown> = {};
  for (const key of Object.keys(item)) if (!ENTRY_KEYS.has(key)) options[key] = item[key];
  for (const key of PATH_KEYS) {
    const v = options[key];
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) options[key] = resolve(base, v);
  }
  // An unknown key may be a misspelt entry key ('scrpt') or option key ('maxWorkerNm').
  for (const key of Object.keys(options)) {
    if (MANAGE_OPTION_KEYS.has(key)) continue;
    throw fail(name, key, item[key], unknownKeyHint(key));
  }
  try {
    resolveManageConfig(options);
  } catch (err) {
    if (err instanceof ConfigError) throw fail(name, err.key, err.value, err.hint ?? 'a valid value');
    throw fail(
      name,
      '(options)',
      item,
      `options new Manage() accepts (${(err as Error)?.message ?? String(err)})`,
    );
  }

  // What the master would find only at the fork, once the file's other groups had started; told
  // when the group is about to start (checkEntriesCanStart), not to a command on another group.
  let cannotStart: GroupsConfigError | undefined;
  const cwd = options.cwd;
  if (typeof cwd === 'string' && !isDirectory(cwd)) {
    cannotStart = fail(
      name,
      'cwd',
      item.cwd,
      `an existing directory ('${cwd}' is not one; relative paths start at '${base}')`,
    );
  }
  for (const kind of ['user', 'group'] as const) {
    const value = options[kind];
    if (cannotStart || typeof value !== 'string') continue;
    try {
      resolvePrincipal(kind, value);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      cannotStart = fail(name, kind, value, err.hint ?? 'an existing one');
    }
  }

  const script = item.script;
  if (typeof script !== 'string' || script === '') {
    throw fail(name, 'script', script, 'the path of the script the workers run, e.g. "./worker.js"');
  }
  const scriptPath = resolve(base, script);
  if (!isFile(scriptPath)) {
    throw fail(
      name,
      'script',
      script,
      `an existing script file ('${scriptPath}' is not one; relative paths start at '${base}')`,
    );
  }
  const args = item.args;
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) {
    throw fail(name, 'args', args, 'an array of strings');
  }
  const entry = { ...(options as unknown as ManageOptions), script: scriptPath } as GroupEntry;
  if (cannotStart) startProblems.set(entry, cannotStart);
  if (args !== undefined) entry.args = [...(args as string[])];
  if (item.logRotation !== undefined) {
    if (item.logRotation === null)
      throw fail(name, 'logRotation', null, 'an object { size, interval, maxFiles } or false');
    try {
      resolveRotation(item.logRotation as RotationOptions | false, 'logRotation');
    } catch (err) {
      if (err instanceof ConfigError) throw fail(name, err.key, err.value, err.hint ?? 'a valid value');
      throw err;
    }
    entry.logRotation = item.logRotation as RotationOptions | false;
  }
  if (item.separateErrorFile !== undefined) {
    if (typeof item.separateErrorFile !== 'boolean') {
      throw fail(name, 'separateErrorFile', item.separateErrorFile, 'true or false');
    }
    entry.separateErrorFile = item.separateErrorFile;
  }
  return entry;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A Manage for a config entry: its workers run `entry.script` with `entry.args`. An entry read
 * from a file (`loadGroupsConfig`) keeps its file: the master names it, so `--update-env` can
 * read the entry's `env` again.
 */
export function manageFromEntry(entry: GroupEntry, deps: ManageDeps = {}): Manage {
  const { script, args, logRotation, separateErrorFile, ...options } = entry;
  const file = entryFiles.get(entry);
  const source: GroupSource | undefined =
    deps.source ?? (file === undefined ? undefined : { file, entry: sourceEntry(entry) });
  // the workers' directory, unless the entry sets one, is the file's: as when `drover start`
  // runs where the file is, whatever directory it runs in (drover start <dir>/drover.config.mjs)
  const own = file === undefined || options.cwd !== undefined ? options : { ...options, cwd: dirname(file) };
  return new Manage(own, {
    ...deps,
    ...(source ? { source } : {}),
    launch: scriptLaunch(script, args ?? []),
    logFiles: {
      ...deps.logFiles,
      ...(logRotation !== undefined ? { rotation: logRotation } : {}),
      ...(separateErrorFile !== undefined ? { separateErrorFile } : {}),
    },
  });
}

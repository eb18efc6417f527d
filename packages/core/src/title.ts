/** Process titles: `<prefix>:<Type>:<baseTitle>[:<pin>]`, e.g. `drover:Worker:mailer:3`. */
export type ProcessType = 'Master' | 'Worker' | 'Reaper';

export function formatTitle(prefix: string, type: ProcessType, baseTitle: string, pin?: number): string {
  return pin === undefined ? `${prefix}:${type}:${baseTitle}` : `${prefix}:${type}:${baseTitle}:${pin}`;
}

/**
 * `argv` without its `--title` option, in either form (`--title=x`, `--title x`): a process
 * started with these options gets a title of its own.
 */
export function withoutTitleOption(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--title') i++;
    else if (!arg.startsWith('--title=')) kept.push(arg);
  }
  return kept;
}

/**
 * Sets this process's title. Node can only overwrite the original command line's memory, so a
 * longer title is cut silently: the return value is the title actually shown by `ps`.
 */
export function setOwnTitle(title: string): string {
  process.title = title;
  return process.title;
}

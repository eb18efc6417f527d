/** Process titles: `<prefix>:<Type>:<baseTitle>[:<pin>]`, e.g. `drover:Worker:mailer:3`. */
export type ProcessType = 'Master' | 'Worker' | 'Reaper';

export function formatTitle(prefix: string, type: ProcessType, baseTitle: string, pin?: number): string {
  return pin === undefined ? `${prefix}:${type}:${baseTitle}` : `${prefix}:${type}:${baseTitle}:${pin}`;
}

/**
 * Sets this process's title. Node can only overwrite the original command line's memory, so a
 * longer title is cut silently: the return value is the title actually shown by `ps`.
 */
export function setOwnTitle(title: string): string {
  process.title = title;
  return process.title;
}

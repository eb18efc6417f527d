import { basename, extname } from 'node:path';

/**
 * The names a group may have: they become file names in the run directory, and words on the
 * command line, where a leading '-' would read as an option (`drover stop -web`).
 */
export const GROUP_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;

export const GROUP_NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', not starting with '-'";

/** `mailer.mjs` → `mailer`; characters a group name cannot hold become `-`. */
export function groupNameFromScript(script: string): string {
  const stem = basename(script, extname(script)) || 'app';
  const name = stem
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, 64);
  return GROUP_NAME.test(name) ? name : 'app';
}

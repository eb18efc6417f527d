import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * Resolves the `user` / `group` options to numeric ids for the workers. Node has no getpwnam,
 * so names are looked up in /etc/passwd and /etc/group (local accounts; give an id otherwise).
 */
export function resolvePrincipal(kind: 'user' | 'group', value: string | number): number {
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const file = kind === 'user' ? '/etc/passwd' : '/etc/group';
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // unreadable: the error below says what to do
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === value && fields[2] && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new ConfigError(
    kind,
    value,
    `an existing ${kind} name in ${file}, or a numeric ${kind === 'user' ? 'uid' : 'gid'}`,
  );
}

import { GROUP_NAME } from './names.js';
import type { StatusRequest } from './status.js';

/**
 * Recognises the plain forms of `drover status` (`status`, `status <name>`, with or without
 * `--json`, in any order) that need neither the router nor its dependency container. Anything
 * else, help and every error included, returns null and goes through the router, so both paths
 * answer alike.
 */
export function plainStatusRequest(argv: readonly string[]): StatusRequest | null {
  if (argv[0] !== 'status') return null;
  let name: string | undefined;
  let json = false;
  for (const arg of argv.slice(1)) {
    if (arg === '--json' && !json) json = true;
    else if (name === undefined && !arg.startsWith('-') && GROUP_NAME.test(arg)) name = arg;
    else return null;
  }
  return { name, json };
}

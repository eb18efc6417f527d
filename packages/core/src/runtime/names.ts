/**
 * Parts of file and lock names. They need to be unique, not secret: temporary files live in the
 * private 0700 run directory and are created exclusively, and the lock name carries the uid. So
 * no node:crypto: loading it costs about 5 ms of CPU on every master start and `drover status`.
 */

/** `length` random characters from [0-9a-z], for names of temporary files. */
export function randomName(length: number): string {
  let name = '';
  while (name.length < length) name += Math.random().toString(36).slice(2);
  return name.slice(0, length);
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

/** FNV-1a (64 bits) of `text`'s UTF-8 bytes, as 16 hex digits: the same on every machine and run. */
export function digest64(text: string): string {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text)) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  return hash.toString(16).padStart(16, '0');
}

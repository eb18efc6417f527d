/**
 * The master's few uses of node:crypto, which loads on first use: loading it costs about 5 ms of
 * CPU, and a worker that imports @drover/core (library mode) never needs it.
 */
const crypto = () => process.getBuiltinModule('node:crypto');

/** `bytes` random bytes as hex, for names of temporary files. */
export function randomHex(bytes: number): string {
  return crypto().randomBytes(bytes).toString('hex');
}

/** SHA-256 of `text`, as hex. */
export function sha256Hex(text: string): string {
  return crypto().createHash('sha256').update(text).digest('hex');
}

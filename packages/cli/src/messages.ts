/**
 * Core errors start with `drover: ` so they read well on their own; a router already prefixes its
 * bin's name to every failure, so the CLI drops the inner one to print a single clear line.
 */
export function withoutPrefix(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.startsWith('drover: ')) return error;
  const plain = new Error(error.message.slice('drover: '.length), { cause: error });
  plain.stack = error.stack;
  return plain;
}

/** Runs `task` and rethrows its error without the `drover: ` prefix. */
export async function plainErrors<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    throw withoutPrefix(error);
  }
}

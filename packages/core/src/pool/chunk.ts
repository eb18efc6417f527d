import { ConfigError } from '../errors.js';
import type { DeadLetter } from '../queue/QueueBackend.js';

/**
 * Many small tasks carried by one queue task (the research's advice for sub-millisecond tasks:
 * the queue's cost per task is paid once per chunk). The payload key is namespaced so no user
 * payload is taken for a chunk.
 */
export const CHUNK_KEY = '$droverChunk';

export interface ChunkPayload<P = unknown> {
  [CHUNK_KEY]: P[];
}

export function isChunk(payload: unknown): payload is ChunkPayload {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    Array.isArray((payload as Record<string, unknown>)[CHUNK_KEY])
  );
}

/** The id a chunk's item goes by in `ctx.taskId`, `onError` and dead letters: `<chunk id>.<index>`. */
export function itemId(chunkId: string, index: number): string {
  return `${chunkId}.${index}`;
}

export function validateChunkSize(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100_000)
    throw new ConfigError('chunkSize', value, 'an integer from 1 (one queue task per payload) to 100000');
  return value;
}

/** Splits payloads into chunk payloads of up to `size` items. */
export function toChunks<P>(payloads: readonly P[], size: number): ChunkPayload<P>[] {
  const chunks: ChunkPayload<P>[] = [];
  for (let i = 0; i < payloads.length; i += size) chunks.push({ [CHUNK_KEY]: payloads.slice(i, i + size) });
  return chunks;
}

/** A chunk's dead letter as one letter per item, so dead letters always carry user payloads. */
export function expandLetter<P>(letter: DeadLetter<unknown>): DeadLetter<P>[] {
  if (!isChunk(letter.payload)) return [letter as DeadLetter<P>];
  return letter.payload[CHUNK_KEY].map((payload, index) => ({
    ...letter,
    taskId: itemId(letter.taskId, index),
    payload: payload as P,
  }));
}

import type { LogLevel } from './levels.js';
import type { LogRecord } from './LogRecord.js';

/** Width of the level column: the longest level name, `warning`. */
const LEVEL_WIDTH = 7;

// C0 controls except tab, DEL, C1 controls, and the Unicode line/paragraph separators: each could
// end a line or drive a terminal, so a worker could forge records or hide text with them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r' };

function escapeChar(char: string): string {
  const named = NAMED_ESCAPES[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code > 0xff
    ? `\\u${code.toString(16).padStart(4, '0')}`
    : `\\x${code.toString(16).padStart(2, '0')}`;
}

/** Replaces line breaks and terminal control characters with visible escapes (`\n`, `\x1b`). */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeChar);
}

const BARE_VALUE = /^[^\s"=]+$/;
const BARE_KEY = /^[\w.:/-]+$/;

function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // circular or a BigInt inside
    return '"[unserializable]"';
  }
}

/** `key=value`: bare when unambiguous, JSON otherwise. */
export function formatFieldValue(value: unknown): string {
  if (typeof value === 'string') return BARE_VALUE.test(value) ? value : JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Error) return formatFieldValue(value.message);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid-date' : value.toISOString();
  if (typeof value === 'object') return jsonOf(value);
  return formatFieldValue(String(value));
}

function formatFields(fields: Record<string, unknown>): string {
  let text = '';
  for (const [key, value] of Object.entries(fields)) {
    const name = BARE_KEY.test(key) ? key : JSON.stringify(key);
    text += ` ${name}=${formatFieldValue(value)}`;
  }
  return text;
}

const ANSI = {
  reset: '\u001b[0m',
  dim: '\u001b[2m',
  cyan: '\u001b[36m',
};

const LEVEL_COLOR: Readonly<Record<LogLevel, string>> = {
  debug: '\u001b[90m',
  info: '\u001b[32m',
  notice: '\u001b[36m',
  warning: '\u001b[33m',
  error: '\u001b[31m',
  fatal: '\u001b[1;41;97m',
};

// A flooding worker writes many lines per millisecond: format each millisecond once.
let cachedTime = Number.NaN;
let cachedIso = '';

function isoTime(time: number): string {
  if (time !== cachedTime) {
    cachedIso = Number.isFinite(time) ? new Date(time).toISOString() : 'invalid-time';
    cachedTime = time;
  }
  return cachedIso;
}

export interface FormatOptions {
  /** ANSI colours for a terminal; default false */
  color?: boolean;
}

/**
 * One record as one line, without the trailing newline:
 * `2026-11-23T17:30:00.123Z info    [mailer:2 #4242] message key=value`.
 * Line breaks and control characters in the message and fields are escaped, so a worker cannot
 * forge lines.
 */
export function formatLogLine(record: LogRecord, opts: FormatOptions = {}): string {
  const time = isoTime(record.time);
  const level = record.level.padEnd(LEVEL_WIDTH);
  const origin = `[${escapeControl(record.baseTitle)}:${record.pin} #${record.pid}]`;
  let body = escapeControl(record.message);
  if (record.fields) body += escapeControl(formatFields(record.fields));
  if (!opts.color) return `${time} ${level} ${origin} ${body}`;
  // colour the name only, so fatal's background does not run into the padding
  const padding = level.slice(record.level.length);
  return (
    `${ANSI.dim}${time}${ANSI.reset} ${LEVEL_COLOR[record.level]}${record.level}${ANSI.reset}${padding} ` +
    `${ANSI.cyan}${origin}${ANSI.reset} ${body}`
  );
}

import { encodeJson } from '../options.js';

/** Nesting deeper than this takes the JSON path (which also reports cycles). */
const MAX_DEPTH = 64;
const NOT_PLAIN = Symbol('not plain');

/**
 * A copy of `value` equal to `JSON.parse(JSON.stringify(value))`, `undefined` read as `null`.
 * Plain data (strings, finite numbers, booleans, null, plain objects and dense arrays) is copied
 * directly, several times faster than a JSON round trip and with no string in between; anything
 * else (a Date, a toJSON, an undefined property, NaN, a class instance, a cycle) takes the JSON
 * round trip, so the result is the same, and what JSON cannot carry throws EPAYLOAD naming `what`.
 */
export function copyJson<T = unknown>(value: unknown, what: string): T {
  if (value === undefined) return null as T;
  const copy = copyPlain(value, 0);
  if (copy !== NOT_PLAIN) return copy as T;
  return JSON.parse(encodeJson(value, what)) as T;
}

function copyPlain(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON writes -0 as 0 and non-finite numbers as null
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : NOT_PLAIN;
    case 'object':
      if (value === null) return null;
      if (depth >= MAX_DEPTH) return NOT_PLAIN;
      return Array.isArray(value) ? copyArray(value, depth) : copyObject(value as object, depth);
    default:
      return NOT_PLAIN;
  }
}

function copyArray(array: unknown[], depth: number): unknown {
  if (Object.getPrototypeOf(array) !== Array.prototype) return NOT_PLAIN;
  const n = array.length;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    // a hole or undefined reads as undefined: JSON writes null there, the JSON path handles it
    const item = copyPlain(array[i], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    out[i] = item;
  }
  return out;
}

function copyObject(object: object, depth: number): unknown {
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    // assigning '__proto__' would set the prototype where JSON.parse makes a property
    if (key === '__proto__') return NOT_PLAIN;
    const item = copyPlain((object as Record<string, unknown>)[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    out[key] = item;
  }
  return out;
}

/**
 * `value` itself when it is plain data (its JSON copy would equal it), else its JSON copy. For a
 * value no one else holds, such as one just parsed from another process's message.
 */
export function plainOrCopy<T = unknown>(value: unknown, what: string): T {
  return isPlain(value, 0) ? (value as T) : copyJson<T>(value, what);
}

function isPlain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_DEPTH) return false;
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++) if (!isPlain(value[i], depth + 1)) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!isPlain((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

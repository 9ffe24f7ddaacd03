import sjson from 'secure-json-parse';
import { invalid } from './errors.js';

/** Checks of caller input shared by the service's use cases: each throws INVALID_REQUEST naming the field. */

export type Body = Record<string, unknown>;

/** How deeply a JSON body may nest: deep enough for any record, shallow enough for every recursive walk. */
export const MAX_DEPTH = 64;

/**
 * Refuses what JSON cannot carry back as it came: a value nested deeper than
 * MAX_DEPTH, or a number that is not finite (`1e400` parses as Infinity, which
 * JSON would write back as null). Walked without recursion; the error names
 * the path of the number.
 */
export function checkJsonValue(value: unknown): void {
  const stack: [unknown, number, string][] = [[value, 1, '']];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw invalid(`The number at '${path || '/'}' is out of range: it would not be stored as sent.`, path || '/');
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_DEPTH) throw invalid(`The body nests deeper than ${MAX_DEPTH} levels.`);
    for (const [k, child] of Object.entries(v)) stack.push([child, depth + 1, `${path}/${k}`]);
  }
}

/** An integer literal in JSON text (not inside a string) that no double holds exactly. */
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![.eE\d])/g;
const LONG_DIGITS = /\d{16}/;

/**
 * Refuses JSON text with an integer that no double holds exactly (beyond
 * ±2^53 most are not): it would parse to a nearby double and be answered
 * changed. Such an id travels as a string. 1e20 written out is exact and passes.
 */
export function checkJsonIntegers(text: string): void {
  if (!LONG_DIGITS.test(text)) return; // the common case: nothing to look at
  for (const m of text.matchAll(JSON_TOKEN)) {
    if (m[0].charCodeAt(0) !== 34) checkIntegerLiteral(m[0]); // not a string
  }
}

/** Refuses an integer literal (JSON or XML text) that no double holds exactly: it would be answered changed. */
export function checkIntegerLiteral(literal: string): void {
  const n = Number(literal);
  if (!Number.isFinite(n) || BigInt(n) !== BigInt(literal)) {
    throw invalid(`The integer ${literal.length > 40 ? `${literal.slice(0, 40)}…` : literal} has no exact double (beyond 2^53) and would not be stored as sent; send it as a string.`);
  }
}

/**
 * JSON text as a value, by the rules every door applies (a JSON body, a SOAP
 * <Value>): no `__proto__` or `constructor.prototype` key, nothing JSON would
 * not give back as sent (checkJsonValue, checkJsonIntegers). Text that is not
 * JSON is INVALID_REQUEST with `refusal` as its message (and `field`).
 */
export function parseJsonText(text: string,
  refusal = 'The body is not valid JSON (or holds __proto__ or constructor.prototype keys).', field?: string): unknown {
  let value: unknown;
  try {
    value = sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw invalid(refusal, field);
  }
  checkJsonValue(value);
  checkJsonIntegers(text);
  return value;
}

/** An optional JSON object body: undefined and null read as {}. */
export function bodyObject(body: unknown, allowed: readonly string[]): Body {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('The body must be a JSON object.');
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw invalid(`Unknown property '${k}'.`, k);
  }
  return body as Body;
}

/** A positive whole number of seconds; a larger one than the caller allows is capped (`max`). */
export function optionalSeconds(body: Body, field: string, max: number): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw invalid(`'${field}' must be a positive whole number of seconds.`, field);
  }
  return Math.min(v, max);
}

export function optionalBoolean(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(`'${field}' must be true or false.`, field);
  return v;
}

export function optionalEnum<T extends string>(body: Body, field: string, values: readonly T[]): T | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (!values.includes(v as T)) throw invalid(`'${field}' must be one of ${values.join(', ')}.`, field);
  return v as T;
}

/** A record name. The patterns here are also the HTTP routes' schemas (src/http/schemas.ts), so the OpenAPI document shows them. */
export const RECORD_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
/** An entry key of a multiple record. */
// eslint-disable-next-line no-control-regex
export const ENTRY_KEY = /^(?!\.{1,2}$)[^\u0000-\u001f\u007f/]{1,256}$/;
/** A whole number in a query string (a page size, a limit): the use case checks its range. */
export const QUERY_NUMBER = /^\d{1,7}$/;
/** A query number such as `?limit=`: `fallback` when absent, else a whole number from 1 to `max`. */
export function queryLimit(value: unknown, field: string, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !QUERY_NUMBER.test(value) || Number(value) < 1 || Number(value) > max) {
    throw invalid(`'${field}' must be a whole number from 1 to ${max}.`, field);
  }
  return Number(value);
}

/** An If-Match header: a record version, quoted or not. */
export const IF_MATCH = /^\s*(?:(\d{1,15})|"(\d{1,15})")\s*$/;

export function recordName(name: unknown): string {
  if (typeof name !== 'string' || !RECORD_NAME.test(name)) {
    throw invalid('A record name is 1 to 128 of A-Z a-z 0-9 _ . : -', 'name');
  }
  return name;
}

export function entryKey(key: unknown): string {
  if (typeof key !== 'string' || !ENTRY_KEY.test(key)) {
    throw invalid('An entry key is 1 to 256 characters, no control characters and no /, and not . or ..', 'key');
  }
  return key;
}

/** If-Match: an integer version, quoted or not; undefined when absent. */
export function ifMatch(header: unknown): number | null {
  if (header === undefined || header === null) return null;
  const match = IF_MATCH.exec(String(header));
  if (!match) throw invalid('If-Match must be a record version (a whole number).', 'If-Match');
  return Number(match[1] ?? match[2]);
}

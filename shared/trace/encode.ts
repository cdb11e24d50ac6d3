/**
 * The wire form of a trace event, shared by the ring (which caches it so an
 * event is encoded once however many observers read it), the WebSocket
 * observers and the page's timeline.
 *
 * JSON has no 64-bit integers, so every bigint field (`t`, `latency`,
 * `seqno`, ...) is written as its exact decimal string, and the event gets
 * one extra key, `$bigint`, listing the top-level keys that were bigints
 * (or arrays of bigints). decodeEvent turns exactly those back into bigints,
 * so the scheme needs no per-type table and survives new event fields.
 *
 *   { type: 'fence.signaled', t: 1500n, fence: 3, error: 0 }
 *   → {"type":"fence.signaled","t":"1500","fence":3,"error":0,"$bigint":["t"]}
 */
import type { TraceEvent } from './events';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The key listing which fields were bigints. */
export const BIGINT_KEYS = '$bigint';

function toJsonValue(v: unknown): JsonValue | undefined {
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
    case 'string':
    case 'boolean':
      return v;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) {
        const out: JsonValue[] = [];
        for (const e of v as unknown[]) out.push(toJsonValue(e) ?? null);
        return out;
      }
      const out: JsonObject = {};
      for (const [k, e] of Object.entries(v)) {
        const j = toJsonValue(e);
        if (j !== undefined) out[k] = j;
      }
      return out;
    }
    default:
      // undefined and functions are left out, as JSON.stringify does.
      return undefined;
  }
}

function holdsBigint(v: unknown): boolean {
  return typeof v === 'bigint' || (Array.isArray(v) && v.some((e) => typeof e === 'bigint'));
}

/**
 * The event as a JSON-safe object: bigints become decimal strings. With
 * `mark`, the `$bigint` key lists them (for decodeEvent); without it (the
 * Chrome export's args) the object is just the fields. `omit` drops keys.
 */
export function jsonSafe(ev: TraceEvent, mark: boolean, omit?: readonly string[]): JsonObject {
  const out: JsonObject = {};
  let bigKeys: string[] | undefined;
  for (const [k, v] of Object.entries(ev)) {
    if (omit?.includes(k)) continue;
    const j = toJsonValue(v);
    if (j === undefined) continue;
    out[k] = j;
    if (mark && holdsBigint(v)) (bigKeys ??= []).push(k);
  }
  if (bigKeys) out[BIGINT_KEYS] = bigKeys;
  return out;
}

function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/**
 * The event's wire string (see the module comment for the bigint scheme).
 * Built by hand rather than via jsonSafe + JSON.stringify: events are flat,
 * and this runs for every traced event, at about the cost of a plain
 * JSON.stringify. Keys are the identifiers of the event types, so they are
 * written unescaped.
 */
export function encodeEvent(ev: TraceEvent): string {
  const obj = ev as unknown as Record<string, unknown>;
  let s = '{';
  let big = '';
  for (const k in obj) {
    const v = obj[k];
    let j: string;
    switch (typeof v) {
      case 'bigint':
        j = `"${v}"`;
        big += big === '' ? `"${k}"` : `,"${k}"`;
        break;
      case 'number':
        j = Number.isFinite(v) ? String(v) : 'null';
        break;
      case 'string':
        j = JSON.stringify(v);
        break;
      case 'boolean':
        j = v ? 'true' : 'false';
        break;
      case 'object':
        j = JSON.stringify(v, bigintReplacer);
        if (holdsBigint(v)) big += big === '' ? `"${k}"` : `,"${k}"`;
        break;
      default:
        // undefined and functions are left out, as JSON.stringify does.
        continue;
    }
    s += s.length === 1 ? `"${k}":${j}` : `,"${k}":${j}`;
  }
  if (big !== '') s += `,"${BIGINT_KEYS}":[${big}]`;
  return `${s}}`;
}

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toBigint(v: JsonValue | undefined, key: string): bigint | bigint[] {
  if (typeof v === 'string') return BigInt(v);
  if (Array.isArray(v)) {
    return v.map((e) => {
      if (typeof e !== 'string') throw new TypeError(`decodeEvent: ${key} holds a non-string bigint`);
      return BigInt(e);
    });
  }
  throw new TypeError(`decodeEvent: ${key} is marked bigint but is ${typeof v}`);
}

/**
 * Parse a string made by encodeEvent. The sender is our own server, so this
 * checks the envelope (an object with a string `type` and a bigint `t`), not
 * every field of every variant.
 */
export function decodeEvent(text: string): TraceEvent {
  const parsed: unknown = JSON.parse(text);
  if (!isJsonObject(parsed)) throw new TypeError('decodeEvent: not an object');
  return decodeObject(parsed);
}

/** decodeEvent for an already parsed object (e.g. one element of a batch). */
export function decodeObject(obj: JsonObject): TraceEvent {
  if (typeof obj['type'] !== 'string') throw new TypeError('decodeEvent: missing type');
  const marks = obj[BIGINT_KEYS];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k !== BIGINT_KEYS) out[k] = v;
  }
  if (Array.isArray(marks)) {
    for (const k of marks) {
      if (typeof k !== 'string') throw new TypeError('decodeEvent: bad $bigint list');
      out[k] = toBigint(obj[k], k);
    }
  }
  if (typeof out['t'] !== 'bigint') throw new TypeError('decodeEvent: missing bigint t');
  return out as unknown as TraceEvent;
}

/** Decode a JSON array of encoded events (the batch sinceJson builds). */
export function decodeBatch(text: string): TraceEvent[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError('decodeBatch: not an array');
  return parsed.map((e: unknown) => {
    if (!isJsonObject(e)) throw new TypeError('decodeBatch: element is not an object');
    return decodeObject(e);
  });
}

/**
 * The kernel channel's wire encoding: JSON text in UTF-8, with bigints
 * tagged `{"$bigint":"123"}` so 64-bit struct fields survive.
 *
 * Encoding trusts its caller; decoding faces the peer and never throws.
 * Two failure tiers, as in the rest of handoff:
 * - a malformed *envelope* (not JSON, no integer id, unknown message type) is
 *   a protocol violation: decode answers a reason and the transport ends
 *   that client;
 * - a malformed *argument* (too deep, too long, a broken bigint tag) decodes
 *   to FAULT, and the dispatcher answers the call with -EFAULT, exactly as
 *   Linux answers a bad pointer.
 */
import {
  MAX_ARRAY_LENGTH,
  MAX_VALUE_DEPTH,
  type KernelMessage,
  type KernelNotification,
  type KernelResult,
  type KernelStat,
  type KernelValue,
} from './kernel-channel';
import { decodeUtf8, encodeUtf8 } from './utf8';

// ---- encoding ----

const BIGINT_TAG = '$bigint';
const BIGINT_TEXT = /^-?[0-9]{1,40}$/;

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { [BIGINT_TAG]: value.toString() } : value;
}

/** A message as JSON text (bigints tagged). */
export function encodeKernelMessageText(msg: KernelMessage): string {
  return JSON.stringify(msg, replacer);
}

/** A message as the UTF-8 payload of a kernel frame. */
export function encodeKernelMessage(msg: KernelMessage): Uint8Array {
  return encodeUtf8(encodeKernelMessageText(msg));
}

// ---- decoding ----

/**
 * Marks a value that could not be copied in (too deep, too long): the
 * syscall that reads it fails with -EFAULT, as with an unreadable pointer.
 */
export const FAULT: unique symbol = Symbol('FAULT');
export type Decoded = KernelValue | typeof FAULT;

/** Untag bigints and enforce the limits. Built with fresh objects (no prototype tricks via "__proto__"). */
export function decodeValue(v: unknown, depth = 0): Decoded {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (depth >= MAX_VALUE_DEPTH) return FAULT;
  if (Array.isArray(v)) {
    if (v.length > MAX_ARRAY_LENGTH) return FAULT;
    const out: KernelValue[] = [];
    for (const item of v as unknown[]) {
      const d = decodeValue(item, depth + 1);
      if (d === FAULT) return FAULT;
      out.push(d);
    }
    return out;
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 1 && entries[0]?.[0] === BIGINT_TAG) {
      const text = entries[0][1];
      return typeof text === 'string' && BIGINT_TEXT.test(text) ? BigInt(text) : FAULT;
    }
    if (entries.length > MAX_ARRAY_LENGTH) return FAULT;
    const pairs: [string, KernelValue][] = [];
    for (const [k, item] of entries) {
      const d = decodeValue(item, depth + 1);
      if (d === FAULT) return FAULT;
      pairs.push([k, d]);
    }
    // Object.fromEntries defines own properties, so a "__proto__" key stays data.
    return Object.fromEntries(pairs);
  }
  return FAULT;
}

/** A call whose envelope is sound; its arguments are checked by the dispatcher. */
export interface IncomingCall {
  type: 'call';
  id: number;
  call: string;
  args: Readonly<Record<string, Decoded>>;
}

/** A decoded kernel-channel payload, or why its envelope is malformed. */
export type KernelDecodeResult<T> = { ok: true; msg: T } | { ok: false; reason: string };

function parseEnvelope(payload: Uint8Array): KernelDecodeResult<Record<string, unknown>> {
  const text = decodeUtf8(payload);
  if (text === null) return { ok: false, reason: 'kernel message is not valid UTF-8' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'kernel message is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'kernel message is not an object' };
  }
  return { ok: true, msg: parsed as Record<string, unknown> };
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Server side: decode a kernel frame's payload from a client. */
export function decodeKernelCall(payload: Uint8Array): KernelDecodeResult<IncomingCall> {
  const env = parseEnvelope(payload);
  if (!env.ok) return env;
  const { type, id, call, ...rest } = env.msg;
  if (type !== 'call') return { ok: false, reason: `kernel message type ${JSON.stringify(type)} is not 'call'` };
  if (!isId(id)) return { ok: false, reason: 'kernel call has no integer id' };
  if (typeof call !== 'string') return { ok: false, reason: 'kernel call has no call name' };
  const args: Record<string, Decoded> = {};
  for (const [k, v] of Object.entries(rest)) Object.defineProperty(args, k, { value: decodeValue(v), enumerable: true });
  return { ok: true, msg: { type, id, call, args } };
}

function decodeResult(m: Record<string, unknown>): KernelDecodeResult<KernelResult> {
  if (!isId(m.id) || typeof m.result !== 'number' || !Number.isInteger(m.result)) {
    return { ok: false, reason: 'kernel result without integer id and result' };
  }
  const out: KernelResult = { type: 'result', id: m.id, result: m.result };
  if ('arg' in m) {
    const arg = decodeValue(m.arg);
    if (arg === FAULT) return { ok: false, reason: 'kernel result arg too deep or too long' };
    out.arg = arg;
  }
  if ('revents' in m) {
    if (!Array.isArray(m.revents) || !m.revents.every((r) => typeof r === 'number')) {
      return { ok: false, reason: 'kernel result revents is not a number array' };
    }
    out.revents = m.revents as number[];
  }
  return { ok: true, msg: out };
}

function decodeNotification(m: Record<string, unknown>): KernelDecodeResult<KernelNotification> {
  if (typeof m.name !== 'string') return { ok: false, reason: 'kernel event without a name' };
  const data = decodeValue(m.data ?? null);
  if (data === FAULT) return { ok: false, reason: 'kernel event data too deep or too long' };
  return { ok: true, msg: { type: 'event', name: m.name, data } };
}

/** Client side: decode a kernel frame's payload from the server. */
export function decodeKernelReply(payload: Uint8Array): KernelDecodeResult<KernelResult | KernelNotification> {
  const env = parseEnvelope(payload);
  if (!env.ok) return env;
  const m = env.msg;
  if (m.type === 'result') return decodeResult(m);
  if (m.type === 'event') return decodeNotification(m);
  return { ok: false, reason: `kernel message type ${JSON.stringify(m.type)} is unknown` };
}

const isU32 = (v: KernelValue | undefined): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
const isIno = (v: KernelValue | undefined): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Client side: the struct of a successful fstat result, checked field by
 * field (the server is trusted less than our own code). Null when `arg`
 * is not a KernelStat: a malformed reply.
 */
export function decodeKernelStat(arg: KernelValue | undefined): KernelStat | null {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return null;
  const { st_dev, st_ino, st_mode, st_size } = arg;
  if (!isU32(st_dev) || !isIno(st_ino) || !isU32(st_mode) || typeof st_size !== 'bigint' || st_size < 0n) return null;
  return { st_dev, st_ino, st_mode, st_size };
}

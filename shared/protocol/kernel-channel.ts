/**
 * The kernel channel: how a remote process makes its syscalls.
 *
 * A client's process lives in the server's Kernel; the client only holds fd
 * numbers. Its open/close/dup/ioctl/poll travel as small JSON messages on the
 * same WebSocket as its Wayland messages, in frames whose channel word says
 * "kernel" (see frame-envelope.ts). This module is the wire contract (one
 * discriminated union per direction), the lossless JSON encoding (bigints are
 * tagged `{"$bigint":"123"}`), and the server-side dispatcher that turns a
 * decoded call into a Process call.
 *
 * Two failure tiers, as in the rest of handoff:
 * - a malformed *envelope* (not JSON, no integer id, unknown message type) is
 *   a protocol violation: the transport ends that client;
 * - a malformed *call* (unknown syscall, an fd that is not an integer, a
 *   struct with wrong field types) is a failed syscall: it answers with a
 *   negative errno, exactly as Linux answers a bad pointer with -EFAULT.
 */
import { EAGAIN, EFAULT, EINVAL, ENAMETOOLONG, ENOSYS } from '../kernel/errno';
import type { PollFd, Process } from '../kernel/process';
import { decodeUtf8, encodeUtf8 } from './utf8';

/** A JSON value, with bigint for 64-bit fields. */
export type KernelValue = null | boolean | number | string | bigint | KernelValue[] | { [key: string]: KernelValue };

// ---- the contract ----

export type KernelCallName = 'open' | 'close' | 'dup' | 'ioctl' | 'poll';

/** client → server: one syscall. `id` is the caller's, echoed in the result. */
export type KernelCall =
  | { type: 'call'; id: number; call: 'open'; path: string }
  | { type: 'call'; id: number; call: 'close'; fd: number }
  | { type: 'call'; id: number; call: 'dup'; fd: number }
  | { type: 'call'; id: number; call: 'ioctl'; fd: number; request: number; arg?: KernelValue }
  | { type: 'call'; id: number; call: 'poll'; fds: { fd: number; events: number }[]; timeout: number };

/**
 * server → client: the syscall's return value (>= 0 or -errno). For ioctl with
 * a struct argument, `arg` is the struct after the call (its output fields
 * written); for poll, `revents` has one entry per polled fd.
 */
export interface KernelResult {
  type: 'result';
  id: number;
  result: number;
  arg?: KernelValue;
  revents?: number[];
}

/** server → client: an asynchronous notification not tied to a call (vgpu "job runnable"). */
export interface KernelEvent {
  type: 'event';
  name: string;
  data: KernelValue;
}

export type KernelMessage = KernelCall | KernelResult | KernelEvent;

// ---- limits ----

/** Deepest nesting a decoded value may have; deeper is -EFAULT (uapi structs are 3 deep at most). */
export const MAX_VALUE_DEPTH = 8;
/** Longest array in a decoded value; longer is -EFAULT (the frame cap bounds it anyway). */
export const MAX_ARRAY_LENGTH = 65_536;
/** PATH_MAX, including the NUL. */
export const PATH_MAX = 4096;
/** Calls one process may have waiting at once (pending polls and waits); beyond: -EAGAIN. */
export const MAX_PENDING_CALLS = 4096;

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

/** A call whose envelope is sound; its arguments are checked by serveKernelCall. */
export interface IncomingCall {
  type: 'call';
  id: number;
  call: string;
  args: Readonly<Record<string, Decoded>>;
}

export type DecodeResult<T> = { ok: true; msg: T } | { ok: false; reason: string };

function parseEnvelope(payload: Uint8Array): DecodeResult<Record<string, unknown>> {
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
export function decodeKernelCall(payload: Uint8Array): DecodeResult<IncomingCall> {
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

/** Client side: decode a kernel frame's payload from the server. */
export function decodeKernelReply(payload: Uint8Array): DecodeResult<KernelResult | KernelEvent> {
  const env = parseEnvelope(payload);
  if (!env.ok) return env;
  const m = env.msg;
  if (m.type === 'result') {
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
  if (m.type === 'event') {
    if (typeof m.name !== 'string') return { ok: false, reason: 'kernel event without a name' };
    const data = decodeValue(m.data ?? null);
    if (data === FAULT) return { ok: false, reason: 'kernel event data too deep or too long' };
    return { ok: true, msg: { type: 'event', name: m.name, data } };
  }
  return { ok: false, reason: `kernel message type ${JSON.stringify(m.type)} is unknown` };
}

// ---- the server-side dispatcher ----

function isInt(v: Decoded | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function isU32(v: Decoded | undefined): v is number {
  return isInt(v) && v >= 0 && v <= 0xffff_ffff;
}

/** What serveKernelCall hands back: the result now, or once the kernel finishes. */
export type ServedCall = KernelResult | Promise<KernelResult>;

/**
 * Run one decoded call as `proc`. The argument checks mirror the syscall
 * entry points: an fd that is not an integer cannot name an open file
 * (-EBADF would need an int; the value never reaches the kernel, so
 * -EINVAL), a struct that cannot be read is -EFAULT (the kernel's own
 * struct check), an unknown syscall is -ENOSYS.
 */
export function serveKernelCall(proc: Process, msg: IncomingCall): ServedCall {
  const { id, args } = msg;
  const fail = (errno: number): KernelResult => ({ type: 'result', id, result: -errno });
  switch (msg.call) {
    case 'open': {
      const path = args.path;
      if (path === FAULT || typeof path !== 'string') return fail(EFAULT);
      if (path.length >= PATH_MAX) return fail(ENAMETOOLONG);
      return { type: 'result', id, result: proc.open(path) };
    }
    case 'close':
    case 'dup': {
      const fd = args.fd;
      if (!isInt(fd)) return fail(EINVAL);
      return { type: 'result', id, result: msg.call === 'close' ? proc.close(fd) : proc.dup(fd) };
    }
    case 'ioctl': {
      const { fd, request } = args;
      if (!isInt(fd)) return fail(EINVAL);
      if (!isU32(request)) return fail(EINVAL);
      const raw = args.arg;
      if (raw === FAULT) return fail(EFAULT);
      // The struct is handed to the kernel as is; the kernel's own schema
      // check (structIoctl) turns wrong field types into -EFAULT.
      const arg = raw;
      const finish = (result: number): KernelResult =>
        typeof arg === 'object' && arg !== null ? { type: 'result', id, result, arg } : { type: 'result', id, result };
      const r = proc.ioctl(fd, request, arg);
      return typeof r === 'number' ? finish(r) : r.then(finish);
    }
    case 'poll': {
      const { fds, timeout } = args;
      if (fds === FAULT || !Array.isArray(fds)) return fail(EFAULT);
      // fs/select.c: nfds above RLIMIT_NOFILE is -EINVAL.
      if (fds.length > proc.kernel.maxFds) return fail(EINVAL);
      if (typeof timeout !== 'number' || Number.isNaN(timeout)) return fail(EINVAL);
      const pfds: PollFd[] = [];
      for (const e of fds) {
        if (typeof e !== 'object' || e === null || Array.isArray(e)) return fail(EFAULT);
        const { fd, events } = e;
        if (!isInt(fd) || !isInt(events)) return fail(EFAULT);
        pfds.push({ fd, events: events & 0xffff, revents: 0 });
      }
      return proc.poll(pfds, timeout).then((n) => ({ type: 'result', id, result: n, revents: pfds.map((p) => p.revents) }));
    }
    default:
      return fail(ENOSYS);
  }
}

/**
 * Serves one process's kernel frames, counting calls still waiting so a
 * client cannot queue unbounded work (beyond MAX_PENDING_CALLS: -EAGAIN).
 */
export class KernelChannelServer {
  private pending = 0;
  private closed = false;

  /**
   * `send` carries a payload to the client; `onError` hears of a kernel
   * call that threw (a broken invariant: the transport ends that client).
   */
  constructor(
    private readonly proc: Process,
    private readonly send: (payload: Uint8Array) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Calls waiting for the kernel. */
  get pendingCalls(): number {
    return this.pending;
  }

  /**
   * Handle one frame payload. Returns an error string if the envelope is
   * malformed (the transport ends the client). A kernel call that throws
   * synchronously propagates to the caller.
   */
  receive(payload: Uint8Array): string | undefined {
    const d = decodeKernelCall(payload);
    if (!d.ok) return d.reason;
    if (this.pending >= MAX_PENDING_CALLS) {
      this.reply({ type: 'result', id: d.msg.id, result: -EAGAIN });
      return undefined;
    }
    const served = serveKernelCall(this.proc, d.msg);
    if (!(served instanceof Promise)) {
      this.reply(served);
      return undefined;
    }
    this.pending++;
    served.then(
      (r) => {
        this.pending--;
        this.reply(r);
      },
      (err: unknown) => {
        this.pending--;
        if (!this.closed) this.onError(err);
      },
    );
    return undefined;
  }

  /** An asynchronous notification to the client. */
  event(name: string, data: KernelValue): void {
    if (!this.closed) this.send(encodeKernelMessage({ type: 'event', name, data }));
  }

  /** Stop sending (the connection is gone); late completions are dropped. */
  close(): void {
    this.closed = true;
  }

  private reply(r: KernelResult): void {
    if (!this.closed) this.send(encodeKernelMessage(r));
  }
}

/**
 * The Wayland wire format (libwayland's connection.c) and the WebSocket
 * frame that carries it.
 *
 * A message is a header of two little-endian u32 words — the sender object
 * id, then (size << 16) | opcode with size in bytes including the header —
 * followed by the arguments, each padded to 4 bytes. fd arguments take no
 * bytes: they travel beside the message, in order, as SCM_RIGHTS does.
 *
 * A frame (one WebSocket binary message) is:
 *   u32 channel   Channel.wayland (frame-envelope.ts; Channel.kernel frames are not this layout)
 *   u32 nfds      number of fds the messages consume, at most 28
 *   nfds × i32    the fd numbers, in the order the messages consume them
 *   bytes         zero or more whole messages
 * docs/protocol.md walks through it byte by byte.
 *
 * Encoding trusts its caller (our own code): a value of the wrong type is a
 * broken invariant and throws. Decoding faces the peer: it never throws and
 * returns a reason instead, which the connection turns into wl_display.error.
 */
import type { ArgSpec, MessageSpec } from './spec';
import { decodeUtf8, encodeUtf8 } from './utf8';

export const HEADER_SIZE = 8;
/** libwayland refuses messages bigger than its 4096-byte connection buffer. */
export const MAX_MESSAGE_SIZE = 4096;
/** libwayland's MAX_FDS_OUT: fds per sendmsg, here per frame. */
export const MAX_FDS_PER_FRAME = 28;
/** The channel word (frame-envelope.ts's Channel) and nfds. */
export const FRAME_HEADER_SIZE = 8;

/** A new_id whose interface the XML leaves open (wl_registry.bind). */
export interface UntypedNewIdValue {
  readonly interface: string;
  readonly version: number;
  readonly id: number;
}

/**
 * One argument as it is on the wire: int/uint/object/new_id/fd → number,
 * fixed → number (already scaled), string → string or null, array → bytes,
 * new_id without interface → UntypedNewIdValue. Object and new_id are ids.
 */
export type WireValue = number | string | null | Uint8Array | UntypedNewIdValue;

export interface MessageHeader {
  readonly objectId: number;
  readonly opcode: number;
  readonly size: number;
}

/** A Wayland frame on the wire (not the compositor's composited frame). */
export interface WireFrame {
  /** As read: any u32; the connections refuse all but Channel.wayland (frame-envelope.ts). */
  readonly channel: number;
  readonly fds: readonly number[];
  readonly body: Uint8Array;
}

/** fds received with a frame; decoding consumes them from head on. */
export interface FdQueue {
  readonly fds: readonly number[];
  head: number;
}

/** The arguments of one decoded message, or why they are malformed. */
export type MessageDecodeResult =
  | { readonly ok: true; readonly args: WireValue[]; readonly fds: number[] }
  | { readonly ok: false; readonly reason: string; readonly fds: number[] };

export type WireFrameResult = { readonly ok: true; readonly frame: WireFrame } | { readonly ok: false; readonly reason: string };

const pad4 = (n: number): number => (n + 3) & ~3;

export function fixedFromNumber(value: number): number {
  const raw = Math.round(value * 256);
  if (!Number.isFinite(value) || raw < -0x80000000 || raw > 0x7fffffff) {
    throw new RangeError(`fixed value ${value} does not fit 24.8`);
  }
  return raw;
}

export function fixedToNumber(raw: number): number {
  return raw / 256;
}

function argSize(arg: ArgSpec, value: WireValue): number {
  switch (arg.type) {
    case 'int':
    case 'uint':
    case 'fixed':
    case 'object':
      return 4;
    case 'fd':
      return 0;
    case 'new_id':
      if (arg.interface !== undefined) return 4;
      if (typeof value !== 'object' || value === null || value instanceof Uint8Array) {
        throw new TypeError(`${arg.name}: untyped new_id needs {interface, version, id}`);
      }
      return 4 + pad4(encodeUtf8(value.interface).length + 1) + 8;
    case 'string':
      if (value === null) return 4;
      if (typeof value !== 'string') throw new TypeError(`${arg.name}: expected a string`);
      return 4 + pad4(encodeUtf8(value).length + 1);
    case 'array':
      if (!(value instanceof Uint8Array)) throw new TypeError(`${arg.name}: expected a Uint8Array`);
      return 4 + pad4(value.length);
  }
}

function expectInt(arg: ArgSpec, value: WireValue, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${arg.name} (${arg.type}): ${String(value)} is not in [${min}, ${max}]`);
  }
  return value;
}

function writeString(view: DataView, bytes: Uint8Array, at: number, text: Uint8Array): number {
  view.setUint32(at, text.length + 1, true);
  bytes.set(text, at + 4);
  // The NUL and the padding are already zero in a fresh buffer.
  return at + 4 + pad4(text.length + 1);
}

/**
 * Encodes one message. fd arguments are appended to `fdsOut` (in argument
 * order) instead of being written. Throws on values that do not match the
 * spec or a message over MAX_MESSAGE_SIZE: both are bugs in the sender.
 */
export function encodeMessage(
  objectId: number,
  spec: MessageSpec,
  args: readonly WireValue[],
  fdsOut: number[],
): Uint8Array {
  if (args.length !== spec.args.length) {
    throw new TypeError(`${spec.name}: expected ${spec.args.length} arguments, got ${args.length}`);
  }
  let size = HEADER_SIZE;
  spec.args.forEach((arg, i) => (size += argSize(arg, args[i] ?? null)));
  if (size > MAX_MESSAGE_SIZE) throw new RangeError(`${spec.name}: message of ${size} bytes is over ${MAX_MESSAGE_SIZE}`);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, objectId >>> 0, true);
  view.setUint32(4, ((size << 16) | spec.opcode) >>> 0, true);
  let at = HEADER_SIZE;
  spec.args.forEach((arg, i) => {
    const value = args[i] ?? null;
    switch (arg.type) {
      case 'int':
        view.setInt32(at, expectInt(arg, value, -0x80000000, 0x7fffffff), true);
        at += 4;
        break;
      case 'uint':
        view.setUint32(at, expectInt(arg, value, 0, 0xffffffff), true);
        at += 4;
        break;
      case 'fixed':
        if (typeof value !== 'number') throw new TypeError(`${arg.name}: expected a number`);
        view.setInt32(at, fixedFromNumber(value), true);
        at += 4;
        break;
      case 'object': {
        const id = expectInt(arg, value, 0, 0xffffffff);
        if (id === 0 && arg.nullable !== true) throw new TypeError(`${arg.name}: null object where the XML forbids it`);
        view.setUint32(at, id, true);
        at += 4;
        break;
      }
      case 'new_id':
        if (arg.interface === undefined) {
          const v = value as UntypedNewIdValue; // shape checked by argSize
          at = writeString(view, bytes, at, encodeUtf8(v.interface));
          view.setUint32(at, expectInt(arg, v.version, 1, 0xffffffff), true);
          view.setUint32(at + 4, expectInt(arg, v.id, 1, 0xffffffff), true);
          at += 8;
        } else {
          view.setUint32(at, expectInt(arg, value, 1, 0xffffffff), true);
          at += 4;
        }
        break;
      case 'string':
        if (value === null) {
          if (arg.nullable !== true) throw new TypeError(`${arg.name}: null string where the XML forbids it`);
          view.setUint32(at, 0, true);
          at += 4;
        } else {
          const text = value as string; // type checked by argSize
          if (text.includes('\0')) throw new TypeError(`${arg.name}: strings cannot contain NUL`);
          at = writeString(view, bytes, at, encodeUtf8(text));
        }
        break;
      case 'array': {
        const data = value as Uint8Array; // type checked by argSize
        view.setUint32(at, data.length, true);
        bytes.set(data, at + 4);
        at += 4 + pad4(data.length);
        break;
      }
      case 'fd':
        fdsOut.push(expectInt(arg, value, 0, 0x7fffffff));
        break;
    }
  });
  return bytes;
}

/** Reads a message header; the caller has checked 8 bytes are there. */
export function readHeader(view: DataView, offset: number): MessageHeader {
  const word1 = view.getUint32(offset + 4, true);
  return { objectId: view.getUint32(offset, true), opcode: word1 & 0xffff, size: word1 >>> 16 };
}

/**
 * Checks a header's size against what the frame can hold, before the
 * object is looked up: a message over the limit could never arrive (it
 * overflows libwayland's connection buffer), and one past the frame's end
 * cannot be whole (a byte stream would wait for more; a frame holds whole
 * messages only).
 */
export function checkHeaderBounds(header: MessageHeader, available: number): string | null {
  if (header.size > MAX_MESSAGE_SIZE) return `message size ${header.size} is over the ${MAX_MESSAGE_SIZE}-byte limit`;
  if (header.size > available) return `message size ${header.size} runs past the end of the frame (${available} bytes left)`;
  return null;
}

/**
 * Checks the shape of a header's size: at least the header, a multiple of
 * 4. libwayland finds these while demarshalling, after the object lookup.
 */
export function checkHeaderSize(header: MessageHeader): string | null {
  if (header.size < HEADER_SIZE) return `message size ${header.size} is below the 8-byte header`;
  if (header.size % 4 !== 0) return `message size ${header.size} is not a multiple of 4`;
  return null;
}

/**
 * Decodes the arguments of one message whose header was checked. Consumes
 * fds from `queue` for fd arguments; the fds taken are returned either way
 * so the caller can close them when the message is refused.
 */
export function decodeMessage(view: DataView, offset: number, size: number, spec: MessageSpec, queue: FdQueue): MessageDecodeResult {
  const end = offset + size;
  const args: WireValue[] = [];
  const fds: number[] = [];
  let at = offset + HEADER_SIZE;
  const fail = (reason: string): MessageDecodeResult => ({ ok: false, reason: `${spec.name}: ${reason}`, fds });
  const readString = (arg: ArgSpec): string | null | { error: string } => {
    if (at + 4 > end) return { error: `message too short for ${arg.name}` };
    const length = view.getUint32(at, true);
    at += 4;
    if (length === 0) return arg.nullable === true ? null : { error: `null string for ${arg.name}, which is not allow-null` };
    if (length > end - at) return { error: `string ${arg.name} runs past the message` };
    const raw = new Uint8Array(view.buffer, view.byteOffset + at, length);
    if (raw[length - 1] !== 0) return { error: `string ${arg.name} is not NUL-terminated` };
    const body = raw.subarray(0, length - 1);
    if (body.includes(0)) return { error: `string ${arg.name} has an interior NUL` };
    const text = decodeUtf8(body);
    if (text === null) return { error: `string ${arg.name} is not valid UTF-8` };
    at += pad4(length);
    if (at > end) return { error: `string ${arg.name} padding runs past the message` };
    return text;
  };
  for (const arg of spec.args) {
    if (arg.type === 'fd') {
      const fd = queue.fds[queue.head];
      if (fd === undefined) return fail(`fd expected for ${arg.name}, none left in the frame`);
      queue.head++;
      fds.push(fd);
      args.push(fd);
      continue;
    }
    if (arg.type === 'string' || (arg.type === 'new_id' && arg.interface === undefined)) {
      const text = readString(arg.type === 'string' ? arg : { name: `${arg.name} interface`, type: 'string' });
      if (typeof text === 'object' && text !== null) return fail(text.error);
      if (arg.type === 'string') {
        args.push(text);
        continue;
      }
      if (at + 8 > end) return fail(`message too short for ${arg.name}`);
      const version = view.getUint32(at, true);
      const id = view.getUint32(at + 4, true);
      at += 8;
      if (text === null) return fail(`null interface name for ${arg.name}`);
      args.push({ interface: text, version, id });
      continue;
    }
    if (at + 4 > end) return fail(`message too short for ${arg.name}`);
    switch (arg.type) {
      case 'int':
        args.push(view.getInt32(at, true));
        at += 4;
        break;
      case 'uint':
      case 'object':
      case 'new_id':
        args.push(view.getUint32(at, true));
        at += 4;
        break;
      case 'fixed':
        args.push(fixedToNumber(view.getInt32(at, true)));
        at += 4;
        break;
      case 'array': {
        const length = view.getUint32(at, true);
        at += 4;
        if (length > end - at) return fail(`array ${arg.name} runs past the message`);
        args.push(new Uint8Array(view.buffer, view.byteOffset + at, length).slice());
        at += pad4(length);
        if (at > end) return fail(`array ${arg.name} padding runs past the message`);
        break;
      }
    }
  }
  if (at !== end) return fail(`${end - at} bytes left over after the last argument`);
  return { ok: true, args, fds };
}

export function encodeFrame(frame: WireFrame): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + 4 * frame.fds.length + frame.body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, frame.channel >>> 0, true);
  view.setUint32(4, frame.fds.length, true);
  frame.fds.forEach((fd, i) => view.setInt32(FRAME_HEADER_SIZE + 4 * i, fd, true));
  out.set(frame.body, FRAME_HEADER_SIZE + 4 * frame.fds.length);
  return out;
}

/** Splits a frame into channel, fds and message bytes (a view, not a copy). */
export function decodeFrame(bytes: Uint8Array): WireFrameResult {
  if (bytes.length < FRAME_HEADER_SIZE) return { ok: false, reason: `frame of ${bytes.length} bytes is shorter than its 8-byte header` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const channel = view.getUint32(0, true);
  const nfds = view.getUint32(4, true);
  if (nfds > MAX_FDS_PER_FRAME) return { ok: false, reason: `frame carries ${nfds} fds, more than ${MAX_FDS_PER_FRAME}` };
  const bodyStart = FRAME_HEADER_SIZE + 4 * nfds;
  if (bytes.length < bodyStart) return { ok: false, reason: `frame of ${bytes.length} bytes is too short for ${nfds} fds` };
  const fds: number[] = [];
  for (let i = 0; i < nfds; i++) {
    const fd = view.getInt32(FRAME_HEADER_SIZE + 4 * i, true);
    if (fd < 0) return { ok: false, reason: `frame carries negative fd ${fd}` };
    fds.push(fd);
  }
  return { ok: true, frame: { channel, fds, body: bytes.subarray(bodyStart) } };
}

/**
 * What both ends of a Wayland connection do alike with frames and
 * arguments (server.ts and client.ts differ only in what a fault costs:
 * wl_display.error on the server, a stopped connection on the client):
 *
 * - receiveFrame: a frame's layout and channel, then its fds installed, as
 *   recvmsg installs SCM_RIGHTS fds before anything reads the bytes;
 * - forEachMessage: the messages of a frame body in order, each header
 *   checked against the frame before the handler sees it;
 * - marshalObject / marshalFd: object and fd arguments going out;
 * - resolveObject: an object argument coming in, looked up in the map;
 * - senderTable: the typed `send` object of a Resource or Proxy.
 *
 * The order of header checks is libwayland's: what a byte stream would
 * decide before it looks at the object (is the message all there, could it
 * ever fit) is checked here; the size's own shape (below the header, not a
 * multiple of 4) only after the object and opcode are known, as
 * wl_connection_demarshal runs after the lookup (docs/protocol.md §5).
 */
import { Channel } from './frame-envelope';
import type { FdHooks } from './connection';
import type { ObjectMap } from './object-map';
import type { ArgSpec, MessageSpec } from './spec';
import { checkHeaderBounds, checkHeaderSize, decodeFrame, HEADER_SIZE, readHeader, type FdQueue, type MessageHeader } from './wire';

/** Close received fds nobody took (a refused message, teardown). */
export function closeFds(hooks: FdHooks, fds: readonly number[]): void {
  const close = hooks.close;
  if (close !== undefined) for (const fd of fds) close(fd);
}

export type ReceivedFrame = { readonly ok: true; readonly body: Uint8Array; readonly queue: FdQueue } | { readonly ok: false; readonly reason: string };

/**
 * Split a received frame and install its fds. `refusedFd` words the fault
 * of an fd the hooks could not install (the fds installed before it are
 * closed again).
 */
export function receiveFrame(bytes: Uint8Array, hooks: FdHooks, refusedFd: (fd: number) => string): ReceivedFrame {
  const decoded = decodeFrame(bytes);
  if (!decoded.ok) return { ok: false, reason: `malformed frame: ${decoded.reason}` };
  const { frame } = decoded;
  if (frame.channel !== Channel.wayland) return { ok: false, reason: `frame for channel ${frame.channel} reached the Wayland connection` };
  const local: number[] = [];
  for (const fd of frame.fds) {
    const mine = hooks.receive?.(fd) ?? fd;
    if (mine < 0) {
      closeFds(hooks, local);
      return { ok: false, reason: refusedFd(fd) };
    }
    local.push(mine);
  }
  return { ok: true, body: frame.body, queue: { fds: local, head: 0 } };
}

/**
 * One message of a frame. `sizeError` is the fault of the header's size
 * (below 8 bytes, not a multiple of 4), or null: the handler reports it
 * once it has looked the object up, and the walk stops after it.
 */
export type MessageHandler = (view: DataView, offset: number, header: MessageHeader, sizeError: string | null) => void;

/**
 * Walk the messages of `body` while `going()` says so. Returns the fault
 * that ends the frame before a handler could see the message (too few
 * bytes for a header, a size past the frame or over the limit), or null.
 */
export function forEachMessage(body: Uint8Array, going: () => boolean, handle: MessageHandler): string | null {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let offset = 0;
  while (offset < body.length && going()) {
    const left = body.length - offset;
    if (left < HEADER_SIZE) return `short frame: ${left} bytes where a header needs 8`;
    const header = readHeader(view, offset);
    const bad = checkHeaderBounds(header, left);
    if (bad !== null) return bad;
    const sizeError = checkHeaderSize(header);
    handle(view, offset, header, sizeError);
    if (sizeError !== null) break;
    offset += header.size;
  }
  return null;
}

/** An object of either end as an argument: a Resource or a Proxy. */
export interface WireObject {
  readonly id: number;
  readonly interface: { readonly name: string };
  readonly destroyed: boolean;
}

/**
 * The id of an object argument going out. `own` tells whether `value` is
 * a live object of this connection (`what` names it in the error). A wrong
 * value is our own bug: it throws.
 */
export function marshalObject<T extends WireObject>(
  spec: MessageSpec,
  arg: ArgSpec,
  value: unknown,
  own: (v: unknown) => v is T,
  what: string,
): number {
  if (value === null && arg.type === 'object' && arg.nullable === true) return 0;
  if (!own(value) || value.destroyed) throw new TypeError(`${spec.name}.${arg.name}: expected a live ${what}`);
  if (arg.interface !== undefined && value.interface.name !== arg.interface) {
    throw new TypeError(`${spec.name}.${arg.name}: expected ${arg.interface}, got ${value.interface.name}`);
  }
  return value.id;
}

/** The fd number to put in the frame for an fd argument (hooks.send may answer a negative errno). */
export function marshalFd(spec: MessageSpec, arg: ArgSpec, value: unknown, hooks: FdHooks): number {
  if (typeof value !== 'number') throw new TypeError(`${spec.name}.${arg.name}: expected an fd`);
  return hooks.send?.(value) ?? value;
}

/**
 * The `send` object of a Resource or Proxy: one function per message,
 * named by its method. `T` is the generated sender type of the same XML
 * as `messages`, which is what makes the cast sound.
 */
export function senderTable<T>(messages: readonly MessageSpec[], send: (spec: MessageSpec, args: unknown[]) => unknown): T {
  const table: Record<string, (...args: unknown[]) => unknown> = {};
  for (const spec of messages) table[spec.method] = (...args) => send(spec, args);
  return table as unknown as T;
}

export type ResolvedObject<T> = { readonly ok: true; readonly target: T | null } | { readonly ok: false; readonly reason: string };

/**
 * An object argument coming in: null for id 0 (each end decides what a null
 * where the XML forbids one costs), the object, or why the id is refused.
 */
export function resolveObject<T extends WireObject>(objects: ObjectMap<T>, arg: ArgSpec, id: number): ResolvedObject<T> {
  if (id === 0) return { ok: true, target: null };
  const target = objects.lookup(id);
  if (target === undefined) return { ok: false, reason: `unknown object ${id} for ${arg.name}` };
  if (arg.interface !== undefined && target.interface.name !== arg.interface) {
    return { ok: false, reason: `object ${id} for ${arg.name} is a ${target.interface.name}, not a ${arg.interface}` };
  }
  return { ok: true, target };
}

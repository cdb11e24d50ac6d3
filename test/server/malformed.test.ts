/**
 * Every kind of malformed input ends the offender alone: it gets
 * wl_display.error (with the code libwayland would use) and a 1002 close,
 * and a client connected beside it keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffClient } from '../../client/core/connection';
import { encodeFrame } from '../../shared/protocol/wire';
import { WlDisplayError } from '../../shared/protocol/generated/wayland';
import { connectClient, findDisplayError, openRaw, startServer, until, type Running } from './helpers';

const u32 = (...words: number[]): Uint8Array => {
  const b = new Uint8Array(words.length * 4);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return b;
};
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const wayland = (body: Uint8Array, fds: number[] = []): Uint8Array => encodeFrame({ channel: 0, fds, body });
const kernel = (text: string | Uint8Array): Uint8Array => concat(u32(1), typeof text === 'string' ? new TextEncoder().encode(text) : text);
/** A message header: object id, then size << 16 | opcode. */
const header = (objectId: number, size: number, opcode: number): Uint8Array => u32(objectId, (size << 16) | opcode);
/** wl_display.get_registry(new_id 2), then wl_registry.bind(name, <string bytes>, version, id 3). */
const bindWithInterfaceBytes = (text: Uint8Array, length = text.length): Uint8Array => {
  const padded = new Uint8Array((text.length + 3) & ~3);
  padded.set(text);
  const size = 8 + 4 + 4 + padded.length + 8;
  return concat(header(1, 12, 1), u32(2), header(2, size, 0), u32(1, length), padded, u32(1, 3));
};

type Case = [name: string, frame: Uint8Array | string | Uint8Array[], code: number];
const openSwSync = kernel('{"type":"call","id":1,"call":"open","path":"/dev/sw_sync"}');
const cases: Case[] = [
  ['a text frame', 'hello', WlDisplayError.invalidMethod],
  ['a frame shorter than its channel word', new Uint8Array([0, 0]), WlDisplayError.invalidMethod],
  ['an unknown channel', u32(7, 0), WlDisplayError.invalidMethod],
  ['a kernel call that is not JSON', kernel('{"type":"call",'), WlDisplayError.invalidMethod],
  ['a kernel call in invalid UTF-8', kernel(new Uint8Array([0xc3, 0x28])), WlDisplayError.invalidMethod],
  ['a kernel call without an id', kernel('{"type":"call","call":"open","path":"/dev/sw_sync"}'), WlDisplayError.invalidMethod],
  ['a Wayland frame shorter than its header', u32(0), WlDisplayError.invalidMethod],
  ['a frame listing more fds than it carries', u32(0, 3, 0), WlDisplayError.invalidMethod],
  ['a short message', wayland(new Uint8Array([1, 0, 0, 0])), WlDisplayError.invalidMethod],
  ['a size that runs past the frame', wayland(concat(header(1, 16, 0), u32(2))), WlDisplayError.invalidMethod],
  ['a size that is not a multiple of 4', wayland(concat(header(1, 10, 0), u32(2))), WlDisplayError.invalidMethod],
  ['an oversized message', wayland(concat(header(1, 8192, 0), new Uint8Array(8184))), WlDisplayError.invalidMethod],
  ['an unknown object', wayland(concat(header(7, 12, 0), u32(2))), WlDisplayError.invalidObject],
  ['an unknown opcode', wayland(concat(header(1, 12, 9), u32(2))), WlDisplayError.invalidMethod],
  ['a new id that skips ahead', wayland(concat(header(1, 12, 0), u32(50))), WlDisplayError.invalidMethod],
  ['a string without its NUL', wayland(bindWithInterfaceBytes(new TextEncoder().encode('wl_output'), 9)), WlDisplayError.invalidMethod],
  ['a string in invalid UTF-8', wayland(bindWithInterfaceBytes(new Uint8Array([0x77, 0xff, 0x6c, 0]))), WlDisplayError.invalidMethod],
  ['an fd the sender does not have', wayland(concat(header(1, 12, 0), u32(2)), [5]), WlDisplayError.invalidMethod],
  // fd 0 is the client's own (it opened it first); wl_display.sync takes no fd.
  ['an fd no message consumes', [openSwSync, wayland(concat(header(1, 12, 0), u32(2)), [0])], WlDisplayError.invalidMethod],
  ['a bind to a global that does not exist', wayland(concat(header(1, 12, 1), u32(2), header(2, 36, 0), u32(99, 10), new TextEncoder().encode('wl_output\0\0\0'), u32(1, 3))), WlDisplayError.invalidObject],
];

let r: Running;
let bystander: HandoffClient;

beforeAll(async () => {
  r = await startServer();
  bystander = await connectClient(r, 'bystander');
});

afterAll(async () => {
  bystander.close();
  await r.app.close();
});

describe('malformed input ends only the offender', () => {
  it.each(cases)('%s', async (_name, frame, code) => {
    const raw = await openRaw(r.wsUrl);
    for (const f of Array.isArray(frame) ? frame : [frame]) raw.ws.send(f);
    const closed = await raw.closed;
    expect(closed.code).toBe(1002);
    const err = findDisplayError(raw.frames);
    expect(err?.code).toBe(code);
    expect(err?.message.length).toBeGreaterThan(0);
    expect(closed.reason).toBe(err?.message.slice(0, closed.reason.length));
    await until(() => r.app.sessions.size === 1, 'the offender to be dropped');
    await bystander.roundtrip();
    expect(await bystander.kernel.dup(99)).toBe(-9);
    expect(bystander.isConnected).toBe(true);
  });

  it('the offender’s process exits and its received fds are closed', async () => {
    const raw = await openRaw(r.wsUrl);
    const before = r.app.kernel.processes().size;
    raw.ws.send(kernel('{"type":"call","id":1,"call":"open","path":"/dev/sw_sync"}'));
    raw.ws.send(kernel('not json'));
    await raw.closed;
    await until(() => r.app.kernel.processes().size === before - 1, 'the process to exit');
    expect(r.app.compositor.process.fdCount).toBe(0);
  });
});

/**
 * Every kind of malformed input ends only the client that sent it: that
 * client gets wl_display.error (with libwayland's code) and is closed; a
 * second client on the same display carries on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EBADF } from '../../shared/kernel/errno';
import type { FdHooks } from '../../shared/protocol/connection';
import {
  wlCompositorInterface,
  wpFifoManagerV1Interface,
  wpLinuxDrmSyncobjManagerV1Interface,
} from '../../shared/protocol/generated/index';
import { encodeFrame } from '../../shared/protocol/wire';
import { le32, listGlobals, makeRig, roundtrip, sendRaw, type Peer, type Rig } from './helpers';

const INVALID_OBJECT = 0;
const INVALID_METHOD = 1;

interface Ids {
  registry: number;
  compositor: number;
  surface: number;
  region: number;
  fifo: number;
  syncobj: number;
  /** The id the next new object must use. */
  next: number;
  names: Map<string, number>;
}

async function prepare(rig: Rig, peer: Peer, compositorVersion = 6): Promise<Ids> {
  const { registry, names } = await listGlobals(rig, peer);
  const compositor = registry.send.bind(names.get('wl_compositor') ?? 0, wlCompositorInterface, compositorVersion);
  const surface = compositor.send.createSurface();
  const region = compositor.send.createRegion();
  const fifo = registry.send.bind(names.get('wp_fifo_manager_v1') ?? 0, wpFifoManagerV1Interface, 1);
  const syncobj = registry.send.bind(names.get('wp_linux_drm_syncobj_manager_v1') ?? 0, wpLinuxDrmSyncobjManagerV1Interface, 1);
  await roundtrip(rig, peer);
  return { registry: registry.id, compositor: compositor.id, surface: surface.id, region: region.id, fifo: fifo.id, syncobj: syncobj.id, next: syncobj.id + 1, names };
}

/** A wire string: length with NUL, bytes, padding. */
function str(bytes: number[], length = bytes.length + 1): number[] {
  const raw = [...bytes, 0];
  while (raw.length % 4 !== 0) raw.push(0);
  const words = [length];
  for (let i = 0; i < raw.length; i += 4) words.push((raw[i] ?? 0) | ((raw[i + 1] ?? 0) << 8) | ((raw[i + 2] ?? 0) << 16) | ((raw[i + 3] ?? 0) << 24));
  return words;
}
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** A message from words: object id, opcode, then argument words (size filled in). */
const msg = (id: number, opcode: number, ...args: number[]): number[] => [id, (((8 + 4 * args.length) << 16) | opcode) >>> 0, ...args];

interface Case {
  name: string;
  compositorVersion?: number;
  fds?: FdHooks;
  send(peer: Peer, ids: Ids): void;
  code: number;
  /** Object the error names; the display (1) unless given. */
  object?: (ids: Ids) => number;
  message: RegExp;
}

const cases: Case[] = [
  { name: 'a frame shorter than its header', send: (p) => p.socket.send(Uint8Array.of(0, 0, 0)), code: INVALID_METHOD, message: /malformed frame/ },
  { name: 'a frame for another channel', send: (p) => p.socket.send(encodeFrame({ channel: 1, fds: [], body: new Uint8Array() })), code: INVALID_METHOD, message: /channel 1/ },
  { name: 'a frame with more than 28 fds', send: (p) => p.socket.send(encodeFrame({ channel: 0, fds: Array.from({ length: 29 }, (_, i) => i), body: new Uint8Array() })), code: INVALID_METHOD, message: /more than 28/ },
  { name: 'a frame cut inside a message header', send: (p, i) => sendRaw(p, [i.surface]), code: INVALID_METHOD, message: /short frame/ },
  { name: 'a size below the header', send: (p, i) => sendRaw(p, [i.surface, (4 << 16) | 6]), code: INVALID_METHOD, message: /below the 8-byte header/ },
  { name: 'a size not a multiple of 4', send: (p, i) => sendRaw(p, [i.surface, (10 << 16) | 6, 0]), code: INVALID_METHOD, message: /multiple of 4/ },
  { name: 'a size past the end of the frame', send: (p, i) => sendRaw(p, [i.surface, (16 << 16) | 6]), code: INVALID_METHOD, message: /runs past the end/ },
  { name: 'a message over 4096 bytes', send: (p, i) => sendRaw(p, [i.surface, ((4100 << 16) | 6) >>> 0]), code: INVALID_METHOD, message: /4096-byte limit/ },
  { name: 'an unknown object', send: (p) => sendRaw(p, msg(99, 0)), code: INVALID_OBJECT, message: /^invalid object 99$/ },
  // libwayland looks the object up, then the opcode and version, before it demarshals (and so checks the size's shape).
  { name: 'an unknown object whose size is below the header (the object is looked up first)', send: (p) => sendRaw(p, [99, (4 << 16) | 0]), code: INVALID_OBJECT, message: /^invalid object 99$/ },
  { name: 'an unknown object whose size is not a multiple of 4 (the object is looked up first)', send: (p) => sendRaw(p, [99, (10 << 16) | 0, 0]), code: INVALID_OBJECT, message: /^invalid object 99$/ },
  { name: 'an unknown opcode whose size is not a multiple of 4 (the opcode is checked first)', send: (p, i) => sendRaw(p, [i.surface, (10 << 16) | 42, 0]), code: INVALID_METHOD, message: /invalid method 42, object wl_surface#\d+/ },
  // The frame model: a message must be whole in its frame and fit libwayland's buffer, whatever its object.
  { name: 'an unknown object whose size runs past the end of the frame', send: (p) => sendRaw(p, [99, (16 << 16) | 0]), code: INVALID_METHOD, message: /runs past the end/ },
  { name: 'an unknown object whose message is over 4096 bytes', send: (p) => sendRaw(p, [99, ((4100 << 16) | 0) >>> 0]), code: INVALID_METHOD, message: /4096-byte limit/ },
  { name: 'an unknown opcode', send: (p, i) => sendRaw(p, msg(i.surface, 42)), code: INVALID_METHOD, message: /invalid method 42, object wl_surface#\d+/ },
  {
    name: 'a request newer than the object version',
    compositorVersion: 4,
    send: (p, i) => sendRaw(p, msg(i.surface, 10, 1, 1)),
    code: INVALID_METHOD,
    message: /invalid method 10 \(since 4 < 5\), object wl_surface#/,
  },
  { name: 'trailing bytes after the arguments', send: (p) => sendRaw(p, msg(1, 0, 50, 0)), code: INVALID_METHOD, message: /left over/ },
  { name: 'an object of the wrong interface', send: (p, i) => sendRaw(p, msg(i.surface, 1, i.region, 0, 0)), code: INVALID_METHOD, message: /is a wl_region, not a wl_buffer/ },
  { name: 'an unknown object as an argument', send: (p, i) => sendRaw(p, msg(i.surface, 1, 77, 0, 0)), code: INVALID_METHOD, message: /unknown object 77/ },
  { name: 'null where the XML forbids it', send: (p, i) => sendRaw(p, msg(i.fifo, 1, i.next, 0)), code: INVALID_METHOD, message: /null object for surface/ },
  { name: 'a new id in the server range', send: (p, i) => sendRaw(p, msg(i.compositor, 0, 0xff000005)), code: INVALID_METHOD, message: /not in the peer's id range/ },
  { name: 'a new id that skips ahead', send: (p, i) => sendRaw(p, msg(i.compositor, 0, i.next + 5)), code: INVALID_METHOD, message: /skips ahead/ },
  { name: 'a new id already in use', send: (p, i) => sendRaw(p, msg(i.compositor, 0, i.surface)), code: INVALID_METHOD, message: /already in use/ },
  { name: 'a null new id', send: (p, i) => sendRaw(p, msg(i.compositor, 0, 0)), code: INVALID_METHOD, message: /null new id/ },
  { name: 'a missing fd', send: (p, i) => sendRaw(p, msg(i.syncobj, 2, i.next)), code: INVALID_METHOD, message: /fd expected/ },
  { name: 'fds no message consumes', send: (p, i) => sendRaw(p, msg(i.surface, 6), [3]), code: INVALID_METHOD, message: /1 fds that no message consumed/ },
  {
    name: 'an fd the sender does not have',
    fds: { receive: (fd) => (fd === 666 ? -EBADF : fd) },
    send: (p, i) => sendRaw(p, msg(i.syncobj, 2, i.next), [666]),
    code: INVALID_METHOD,
    message: /fd 666, which the sender does not have open/,
  },
  { name: 'a string without its NUL', send: (p, i) => sendRaw(p, msg(i.registry, 0, 1, ...str(ascii('abcd'), 4), 1, i.next)), code: INVALID_METHOD, message: /not NUL-terminated/ },
  { name: 'a string with invalid UTF-8', send: (p, i) => sendRaw(p, msg(i.registry, 0, 1, ...str([0xc3, 0x28]), 1, i.next)), code: INVALID_METHOD, message: /not valid UTF-8/ },
  { name: 'a string with an interior NUL', send: (p, i) => sendRaw(p, msg(i.registry, 0, 1, ...str([0x61, 0, 0x62]), 1, i.next)), code: INVALID_METHOD, message: /interior NUL/ },
  { name: 'a string longer than the message', send: (p, i) => sendRaw(p, msg(i.registry, 0, 1, 200, 0, 1, i.next)), code: INVALID_METHOD, message: /runs past the message/ },
  {
    name: 'a bind to an unknown global',
    send: (p, i) => sendRaw(p, msg(i.registry, 0, 99, ...str(ascii('wl_compositor')), 1, i.next)),
    code: INVALID_OBJECT,
    object: (i) => i.registry,
    message: /^invalid global wl_compositor \(99\)$/,
  },
  {
    name: 'a bind with the wrong interface',
    send: (p, i) => sendRaw(p, msg(i.registry, 0, i.names.get('wl_compositor') ?? 0, ...str(ascii('wl_output')), 1, i.next)),
    code: INVALID_OBJECT,
    object: (i) => i.registry,
    message: /invalid interface for global 1: have wl_output, wanted wl_compositor/,
  },
  {
    name: 'a bind above the global version',
    send: (p, i) => sendRaw(p, msg(i.registry, 0, i.names.get('wl_compositor') ?? 0, ...str(ascii('wl_compositor')), 7, i.next)),
    code: INVALID_OBJECT,
    object: (i) => i.registry,
    message: /have 6, wanted 7/,
  },
  {
    name: 'a bind with version 0',
    send: (p, i) => sendRaw(p, msg(i.registry, 0, i.names.get('wl_compositor') ?? 0, ...str(ascii('wl_compositor')), 0, i.next)),
    code: INVALID_OBJECT,
    object: (i) => i.registry,
    message: /0 is not a valid version/,
  },
];

describe('malformed input ends only the offender', () => {
  for (const c of cases) {
    it(`${c.name}: wl_display.error ${c.code === INVALID_OBJECT ? 'invalid_object' : 'invalid_method'}, then close`, async () => {
      const rig = makeRig();
      const bystander = rig.connect();
      const bystanderIds = await prepare(rig, bystander);
      const offender = rig.connect(c.fds === undefined ? {} : { serverFds: c.fds });
      const ids = await prepare(rig, offender, c.compositorVersion);

      c.send(offender, ids);
      sendRaw(offender, msg(ids.surface, 6)); // a commit after the error is never handled
      rig.pump();

      expect(offender.conn.error).toMatchObject({ kind: 'protocol', code: c.code, objectId: c.object?.(ids) ?? 1 });
      expect(offender.conn.error?.message).toMatch(c.message);
      expect(offender.server.destroyed).toBe(true);
      expect(offender.socket.closed).toBe(true);
      expect(rig.display.clients.has(offender.server)).toBe(false);

      expect(rig.display.clients.has(bystander.server)).toBe(true);
      expect(bystander.server.getResource(bystanderIds.surface)?.destroyed).toBe(false);
      await roundtrip(rig, bystander);
      expect(bystander.conn.error).toBeNull();
    });
  }

  it('random garbage frames never throw and never reach another client (seeded)', async () => {
    const rig = makeRig();
    const bystander = rig.connect();
    await prepare(rig, bystander);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat({ max: 12 }), { minLength: 2, maxLength: 12 }).map((w) => le32(w))), { minLength: 1, maxLength: 4 }),
        async (frames) => {
          const offender = rig.connect();
          await prepare(rig, offender);
          expect(() => {
            for (const body of frames) offender.socket.send(encodeFrame({ channel: 0, fds: [], body }));
            rig.pump();
          }).not.toThrow();
          await roundtrip(rig, bystander);
          expect(bystander.conn.error).toBeNull();
        },
      ),
      { seed: 0xbad, numRuns: 60 },
    );
  });
});

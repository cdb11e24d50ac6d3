import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  wlDisplayInterface,
  wlRegistryInterface,
  wlSurfaceInterface,
  zwpLinuxBufferParamsV1Interface,
} from '../../shared/protocol/generated/index';
import type { ArgSpec, ArgType, MessageSpec } from '../../shared/protocol/spec';
import {
  checkHeaderBounds,
  checkHeaderSize,
  decodeFrame,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  readHeader,
  type WireValue,
} from '../../shared/protocol/wire';
import { hex } from './helpers';

const SEED = 0x5eed;

function encode(objectId: number, spec: MessageSpec, args: WireValue[], fds: number[] = []): Uint8Array {
  return encodeMessage(objectId, spec, args, fds);
}

function decode(bytes: Uint8Array, spec: MessageSpec, fds: number[] = []) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeMessage(view, 0, bytes.length, spec, { fds, head: 0 });
}

const request = (spec: { requests: readonly MessageSpec[] }, i: number): MessageSpec => {
  const m = spec.requests[i];
  if (m === undefined) throw new Error('no such request');
  return m;
};

describe('golden bytes (what libwayland puts on the wire)', () => {
  it('wl_display.get_registry(new_id 2) is 01 00 00 00 | 01 00 0c 00 | 02 00 00 00', () => {
    // Word 1 is (12 << 16) | 1 = 0x000c0001; little-endian puts the opcode first.
    expect(hex(encode(1, request(wlDisplayInterface, 1), [2]))).toBe('01000000 01000c00 02000000');
  });

  it('wl_display.sync(new_id 3) is opcode 0, 12 bytes', () => {
    expect(hex(encode(1, request(wlDisplayInterface, 0), [3]))).toBe('01000000 00000c00 03000000');
  });

  it('wl_registry.bind carries name, interface string, version, then id', () => {
    const bytes = encode(2, request(wlRegistryInterface, 0), [1, { interface: 'wl_compositor', version: 4, id: 3 }]);
    // "wl_compositor" is 13 bytes + NUL = 14, padded to 16.
    expect(hex(bytes)).toBe(
      '02000000 00002800 01000000 0e000000 776c5f63 6f6d706f 7369746f 72000000 04000000 03000000',
    );
  });

  it('a string whose length with NUL is 10 is padded to 12 (wl_registry.global)', () => {
    const global = wlRegistryInterface.events[0];
    expect(hex(encode(2, global, [7, 'wl_output', 4]))).toBe(
      '02000000 00002000 07000000 0a000000 776c5f6f 75747075 74000000 04000000',
    );
  });

  it('a string that fills its words exactly gets no padding', () => {
    const global = wlRegistryInterface.events[0];
    // "abc" + NUL = 4 bytes.
    expect(hex(encode(2, global, [1, 'abc', 1]))).toBe('02000000 00001800 01000000 04000000 61626300 01000000');
  });

  it('wl_surface.attach(buffer 5, 0, 0) on surface 3', () => {
    expect(hex(encode(3, request(wlSurfaceInterface, 1), [5, 0, 0]))).toBe(
      '03000000 01001400 05000000 00000000 00000000',
    );
  });

  it('wl_surface.attach(null, -1, 2) writes 0 and two’s complement', () => {
    expect(hex(encode(3, request(wlSurfaceInterface, 1), [0, -1, 2]))).toBe(
      '03000000 01001400 00000000 ffffffff 02000000',
    );
  });

  it('fd arguments take no bytes and go to the fd list in order', () => {
    const fds: number[] = [];
    const add = request(zwpLinuxBufferParamsV1Interface, 1);
    const bytes = encode(9, add, [42, 0, 0, 256, 0, 0], fds);
    expect(hex(bytes)).toBe('09000000 01001c00 00000000 00000000 00010000 00000000 00000000');
    expect(fds).toEqual([42]);
  });

  it('a frame is channel, fd count, fds, then the messages', () => {
    const body = encode(1, request(wlDisplayInterface, 1), [2]);
    expect(hex(encodeFrame({ channel: 0, fds: [5, 6], body }))).toBe(
      '00000000 02000000 05000000 06000000 01000000 01000c00 02000000',
    );
  });
});

// ---- property tests

const argTypes: ArgType[] = ['int', 'uint', 'fixed', 'string', 'object', 'new_id', 'array', 'fd'];

const argCase = fc.constantFrom(...argTypes).chain((type) =>
  fc.record({ nullable: fc.boolean(), typedNewId: fc.boolean() }).chain(({ nullable, typedNewId }) => {
    const spec: ArgSpec = {
      name: 'a',
      type,
      ...(nullable && (type === 'string' || type === 'object') ? { nullable: true } : {}),
      ...((type === 'new_id' && typedNewId) || type === 'object' ? { interface: 'wl_thing' } : {}),
    };
    const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\0'));
    const value: fc.Arbitrary<WireValue> = (() => {
      switch (type) {
        case 'int':
          return fc.integer({ min: -0x80000000, max: 0x7fffffff });
        case 'uint':
          return fc.nat({ max: 0xffffffff });
        case 'fixed':
          return fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((raw) => raw / 256);
        case 'object':
          return spec.nullable === true ? fc.nat({ max: 0xffffffff }) : fc.integer({ min: 1, max: 0xffffffff });
        case 'new_id':
          return spec.interface !== undefined
            ? fc.integer({ min: 1, max: 0xffffffff })
            : fc.record({
                interface: fc.stringMatching(/^[a-z_]{1,30}$/),
                version: fc.integer({ min: 1, max: 0xffffffff }),
                id: fc.integer({ min: 1, max: 0xffffffff }),
              });
        case 'string':
          return spec.nullable === true ? fc.option(text, { nil: null }) : text;
        case 'array':
          return fc.uint8Array({ maxLength: 64 });
        case 'fd':
          return fc.nat({ max: 1000 });
      }
    })();
    return value.map((v) => ({ spec, value: v }));
  }),
);

describe('codec round trip', () => {
  it('every argument type decodes to what was encoded (seeded)', () => {
    fc.assert(
      fc.property(fc.array(argCase, { maxLength: 8 }), fc.nat({ max: 0xffff }), (cases, opcode) => {
        const spec: MessageSpec = {
          name: 'm',
          method: 'm',
          opcode,
          since: 1,
          destructor: false,
          args: cases.map((c, i) => ({ ...c.spec, name: `a${i}` })),
        };
        const values = cases.map((c) => c.value);
        const fds: number[] = [];
        const bytes = encode(77, spec, values, fds);
        expect(bytes.length % 4).toBe(0);
        const view = new DataView(bytes.buffer);
        const header = readHeader(view, 0);
        expect(header).toEqual({ objectId: 77, opcode, size: bytes.length });
        expect(checkHeaderSize(header) ?? checkHeaderBounds(header, bytes.length)).toBeNull();
        const out = decode(bytes, spec, fds);
        expect(out.ok).toBe(true);
        if (out.ok) expect(out.args).toEqual(values);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('decoding arbitrary bytes never throws (seeded)', () => {
    const interfaces: { requests: readonly MessageSpec[] }[] = [wlSurfaceInterface, wlRegistryInterface, zwpLinuxBufferParamsV1Interface];
    const specs = interfaces.flatMap((i) => i.requests);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 128 }), fc.nat(), fc.array(fc.nat(), { maxLength: 3 }), (raw, pick, fds) => {
        const spec = specs[pick % specs.length];
        if (spec === undefined) return;
        const bytes = raw.subarray(0, raw.length & ~3);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        expect(() => decodeMessage(view, 0, bytes.length, spec, { fds, head: 0 })).not.toThrow();
        expect(() => decodeFrame(raw)).not.toThrow();
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('frames round-trip channel, fds and body', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.array(fc.nat({ max: 0x7fffffff }), { maxLength: 28 }), fc.uint8Array({ maxLength: 64 }), (channel, fds, body) => {
        const out = decodeFrame(encodeFrame({ channel, fds, body }));
        expect(out.ok).toBe(true);
        if (out.ok) {
          expect(out.frame.channel).toBe(channel);
          expect(out.frame.fds).toEqual(fds);
          expect([...out.frame.body]).toEqual([...body]);
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('decoder refusals', () => {
  const stringArg: MessageSpec = { name: 'm', method: 'm', opcode: 0, since: 1, destructor: false, args: [{ name: 's', type: 'string' }] };
  const withString = (len: number, bytes: number[]): Uint8Array => {
    const padded = [...bytes];
    while (padded.length % 4 !== 0) padded.push(0);
    const out = new Uint8Array(12 + padded.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, 1, true);
    v.setUint32(4, (out.length << 16) >>> 0, true);
    v.setUint32(8, len, true);
    out.set(padded, 12);
    return out;
  };

  it('a string without its NUL is refused', () => {
    const r = decode(withString(4, [0x61, 0x62, 0x63, 0x64]), stringArg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not NUL-terminated/);
  });

  it('a string with invalid UTF-8 is refused', () => {
    const r = decode(withString(3, [0xc3, 0x28, 0]), stringArg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/UTF-8/);
  });

  it('a null string where the XML forbids it is refused', () => {
    const r = decode(withString(0, []), stringArg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/null string/);
  });

  it('a string longer than the message is refused', () => {
    const r = decode(withString(400, [0x61, 0]), stringArg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/runs past/);
  });

  it('a missing fd is refused and no fd is taken', () => {
    const add = request(zwpLinuxBufferParamsV1Interface, 1);
    const fds: number[] = [];
    const bytes = encode(9, add, [3, 0, 0, 0, 0, 0], fds);
    const r = decode(bytes, add, []);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/fd expected/);
    expect(r.fds).toEqual([]);
  });

  it('trailing bytes after the last argument are refused', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setUint32(4, (16 << 16) >>> 0, true);
    const r = decode(bytes, request(wlDisplayInterface, 1));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/left over/);
  });

  it('headers: under 8, not a multiple of 4, over 4096 and past the frame are refused', () => {
    expect(checkHeaderSize({ objectId: 1, opcode: 0, size: 4 })).toMatch(/below/);
    expect(checkHeaderSize({ objectId: 1, opcode: 0, size: 10 })).toMatch(/multiple of 4/);
    expect(checkHeaderBounds({ objectId: 1, opcode: 0, size: 4100 }, 5000)).toMatch(/4096/);
    expect(checkHeaderBounds({ objectId: 1, opcode: 0, size: 16 }, 12)).toMatch(/past the end/);
  });

  it('encoding a value of the wrong type throws (a bug in our own code)', () => {
    expect(() => encode(1, request(wlSurfaceInterface, 1), [0, 2 ** 31, 0])).toThrow(RangeError);
    expect(() => encode(1, request(wlDisplayInterface, 0), [0])).toThrow(RangeError);
  });
});

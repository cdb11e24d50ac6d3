import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_ARRAY_LENGTH, MAX_VALUE_DEPTH, type KernelValue } from '../../shared/protocol/kernel-channel';
import {
  FAULT,
  decodeKernelCall,
  decodeKernelReply,
  decodeKernelStat,
  decodeValue,
  encodeKernelMessage,
  encodeKernelMessageText,
} from '../../shared/protocol/kernel-channel-codec';
import { Channel, unwrapFrame, wrapFrame } from '../../shared/protocol/frame-envelope';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const wireValue: fc.Arbitrary<KernelValue> = fc.letrec<{ v: KernelValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string(),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string().filter((k) => k !== '$bigint'), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('kernel channel encoding', () => {
  it('round-trips any value with bigints, nested arrays and objects', () => {
    fc.assert(
      fc.property(wireValue, (v) => {
        const text = encodeKernelMessageText({ type: 'event', name: 'x', data: v });
        const back = decodeKernelReply(bytes(text));
        expect(back).toEqual({ ok: true, msg: { type: 'event', name: 'x', data: v } });
      }),
      { seed: 20240603, numRuns: 300 },
    );
  });

  it('tags bigints losslessly beyond 2^53', () => {
    const v = { point: (1n << 64n) - 1n, timeout_nsec: -(1n << 63n), points: [1n, 9007199254740993n] };
    const text = encodeKernelMessageText({ type: 'event', name: 'e', data: v });
    expect(text).toContain('{"$bigint":"18446744073709551615"}');
    expect(decodeValue(JSON.parse(text).data)).toEqual(v);
  });

  it('keeps struct out-fields of a result, nested arrays of structs included', () => {
    const arg = { name: 'f', status: 1, num_fences: 1, sync_fence_info: [{ obj_name: 'tl', timestamp_ns: 5n, status: 1 }] };
    const r = decodeKernelReply(encodeKernelMessage({ type: 'result', id: 3, result: 0, arg }));
    expect(r).toEqual({ ok: true, msg: { type: 'result', id: 3, result: 0, arg } });
  });

  it('a "__proto__" key stays a plain data field', () => {
    const v = decodeValue(JSON.parse('{"__proto__":{"polluted":1}}'));
    expect(v).not.toBe(FAULT);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(v as object)).toEqual(['__proto__']);
  });

  it('a value nested deeper than the limit is a fault', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_VALUE_DEPTH + 1; i++) deep = [deep];
    expect(decodeValue(deep)).toBe(FAULT);
  });

  it('an array longer than the limit is a fault', () => {
    expect(decodeValue(new Array(MAX_ARRAY_LENGTH + 1).fill(0))).toBe(FAULT);
    expect(decodeValue(new Array(MAX_ARRAY_LENGTH).fill(0))).not.toBe(FAULT);
  });

  it('a malformed bigint tag is a fault', () => {
    expect(decodeValue({ $bigint: '12x' })).toBe(FAULT);
    expect(decodeValue({ $bigint: 12 })).toBe(FAULT);
  });
});

describe('kernel channel envelope', () => {
  it('wraps and unwraps a payload on its channel', () => {
    const f = unwrapFrame(wrapFrame(Channel.kernel, bytes('{}')));
    expect(f.ok && f.channel).toBe(Channel.kernel);
    expect(f.ok && new TextDecoder().decode(f.payload)).toBe('{}');
  });

  it.each([
    ['a short frame', new Uint8Array([1, 0])],
    ['an unknown channel', new Uint8Array([7, 0, 0, 0])],
    ['non-zero reserved bytes', new Uint8Array([1, 0, 1, 0])],
  ])('rejects %s', (_name, frame) => {
    expect(unwrapFrame(frame).ok).toBe(false);
  });

  it.each([
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe])],
    ['garbage JSON', bytes('{"type":')],
    ['a JSON array', bytes('[1,2]')],
    ['no id', bytes('{"type":"call","call":"open"}')],
    ['a fractional id', bytes('{"type":"call","id":1.5,"call":"open"}')],
    ['a negative id', bytes('{"type":"call","id":-1,"call":"open"}')],
    ['a result sent by a client', bytes('{"type":"result","id":1,"result":0}')],
    ['no call name', bytes('{"type":"call","id":1,"call":5}')],
  ])('a call with %s is a malformed envelope', (_name, payload) => {
    expect(decodeKernelCall(payload).ok).toBe(false);
  });
});

describe('kernel channel fstat struct', () => {
  it('a result carrying a stat struct decodes to the struct, st_size a bigint', () => {
    const arg = { st_dev: 0, st_ino: 7, st_mode: 0o100600, st_size: 4096n };
    const r = decodeKernelReply(encodeKernelMessage({ type: 'result', id: 1, result: 0, arg }));
    expect(r.ok && r.msg.type === 'result' && decodeKernelStat(r.msg.arg)).toEqual(arg);
  });

  it.each([
    ['no struct', undefined],
    ['a number', 5],
    ['st_size as a number', { st_dev: 0, st_ino: 7, st_mode: 0, st_size: 4096 }],
    ['a negative st_ino', { st_dev: 0, st_ino: -1, st_mode: 0, st_size: 0n }],
    ['a missing st_mode', { st_dev: 0, st_ino: 1, st_size: 0n }],
    ['a negative st_size', { st_dev: 0, st_ino: 1, st_mode: 0, st_size: -1n }],
  ])('a stat reply with %s is malformed', (_name, arg) => {
    expect(decodeKernelStat(arg as KernelValue | undefined)).toBeNull();
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, encodeUtf8 } from '../../shared/protocol/utf8';

const SEED = 0x0708;

describe('utf8', () => {
  it('encoding matches TextEncoder for any string, lone surrogates included (seeded)', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (s) => {
        expect([...encodeUtf8(s)]).toEqual([...enc.encode(s)]);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('decoding agrees with a fatal TextDecoder on arbitrary bytes (seeded)', () => {
    const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        let expected: string | null;
        try {
          expected = dec.decode(bytes);
        } catch {
          expected = null;
        }
        expect(decodeUtf8(bytes)).toBe(expected);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('overlong, surrogate and out-of-range forms are refused', () => {
    expect(decodeUtf8(Uint8Array.from([0xc0, 0xaf]))).toBeNull();
    expect(decodeUtf8(Uint8Array.from([0xed, 0xa0, 0x80]))).toBeNull();
    expect(decodeUtf8(Uint8Array.from([0xf4, 0x90, 0x80, 0x80]))).toBeNull();
    expect(decodeUtf8(Uint8Array.from([0xe2, 0x82]))).toBeNull();
    expect(decodeUtf8(Uint8Array.from([0xe2, 0x82, 0xac]))).toBe('€');
  });
});

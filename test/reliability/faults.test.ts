/**
 * Faults: a client that disconnects at every moment of a handoff (swept
 * over a few frames of modelled time, so the sweep passes through attach,
 * commit with the acquire fence pending, composition, and syncobj waits
 * and polls pending), and a GPU job that never completes. After each, the
 * kernel holds what it held before and every commit ended presented or
 * discarded.
 */
import { describe, expect, it } from 'vitest';
import { disconnectAt, gpuHang } from './faults';
import type { SyncKind } from './deps';

const KINDS: SyncKind[] = ['explicit', 'explicit-fd', 'implicit', 'bridged'];
// 0.25 ms steps over the first ~3 frames at 100 Hz, in a coprime stride so
// every phase of the frame is hit.
const MOMENTS = Array.from({ length: 12 }, (_, i) => BigInt(i) * 2_750_000n);

describe('disconnect at every step of a handoff', () => {
  for (const kind of KINDS) {
    it(`${kind}: objects, fds and pages come back, committed = presented + discarded`, async () => {
      const seen = { fencePending: false, composing: false, latched: false };
      for (const at of MOMENTS) {
        const o = await disconnectAt(kind, at);
        const where = `${kind} at ${Number(at) / 1e6} ms`;
        expect(o.internalErrors, where).toEqual([]);
        expect(o.invariantViolations, where).toEqual([]);
        expect(o.after, where).toEqual(o.before);
        expect(o.ended, where).toBe(o.committed);
        seen.fencePending ||= o.phase.fencePending;
        seen.composing ||= o.phase.composing;
        seen.latched ||= o.phase.latched;
      }
      // The sweep reached the phases it claims to test.
      expect(seen).toEqual({ fencePending: true, composing: true, latched: true });
    });
  }
});

describe('a GPU job that never completes', () => {
  it('times out; the other client keeps presenting; nothing is left once both go', async () => {
    const o = await gpuHang();
    expect(o.hungJobTimedOut).toBe(true);
    expect(o.goodPresentedDuringHang).toBeGreaterThan(30);
    expect(o.internalErrors).toEqual([]);
    expect(o.after).toEqual(o.before);
    for (const b of o.balances) expect(b.ended).toBe(b.committed);
  });
});

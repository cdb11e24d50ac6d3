/**
 * The trace ring's byte bound (issue 9): the ring holds the newest events
 * that fit in maxBytes as well as in capacity, and large fields are kept
 * as summaries, so a client choosing huge labels or buffers cannot make
 * the ring hold more than its byte bound.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../shared/trace/events';
import { createTraceRing, eventAt, firstSeq, pushEvent, ringSize, since, sinceJson } from '../../shared/trace/ring';
import { measureEvent, summarisedFields } from '../../shared/trace/summarise';
import { decodeBatch } from '../../shared/trace/encode';

const fence = (i: number): TraceEvent => ({ type: 'fence.signaled', t: BigInt(i), fence: i, error: 0 });
const labelled = (i: number, label: string): TraceEvent => ({
  type: 'job.done',
  t: BigInt(i),
  job: i,
  pid: 1,
  ring: 'r',
  label,
  fence: i,
});

describe('trace ring byte bound', () => {
  it('drops the oldest events when the next does not fit in maxBytes', () => {
    const one = measureEvent(fence(0));
    const ring = createTraceRing(1000, { maxBytes: one * 3 });
    for (let i = 0; i < 10; i++) pushEvent(ring, fence(i));
    expect(ringSize(ring)).toBe(3);
    expect(firstSeq(ring)).toBe(7);
    expect(ring.bytes).toBeLessThanOrEqual(ring.maxBytes);
    expect(ring.droppedForBytes).toBe(7);
  });

  it('one large event displaces as many small ones as it needs', () => {
    const small = measureEvent(fence(0));
    const ring = createTraceRing(1000, { maxBytes: small * 10, summary: { maxString: 10_000, maxArray: 16 } });
    for (let i = 0; i < 10; i++) pushEvent(ring, fence(i));
    const big = labelled(10, 'x'.repeat(small * 5));
    pushEvent(ring, big);
    expect(eventAt(ring, 10)).toBe(big);
    expect(ring.bytes).toBeLessThanOrEqual(ring.maxBytes);
    expect(ringSize(ring)).toBeLessThan(10);
  });

  it('since reports events dropped for bytes as missed', () => {
    const one = measureEvent(fence(0));
    const ring = createTraceRing(1000, { maxBytes: one * 2 });
    for (let i = 0; i < 5; i++) pushEvent(ring, fence(i));
    const r = since(ring, 0);
    expect(r.missed).toBe(3);
    expect(r.items.map((e) => (e.type === 'fence.signaled' ? e.fence : -1))).toEqual([3, 4]);
  });

  it('a huge label is kept as a summary and counted', () => {
    const ring = createTraceRing(16);
    pushEvent(ring, labelled(0, 'y'.repeat(1 << 20)));
    const kept = eventAt(ring, 0)!;
    expect(summarisedFields(kept)).toEqual({ label: 1 << 20 });
    expect(ring.summarised).toBe(1);
    expect(ring.bytes).toBeLessThan(1000);
  });

  it('a client flooding the ring with 1 MiB labels leaves it within its bound', () => {
    const ring = createTraceRing(65_536, { maxBytes: 1 << 20 });
    const label = 'z'.repeat(1 << 20);
    for (let i = 0; i < 20_000; i++) pushEvent(ring, labelled(i, label));
    expect(ring.bytes).toBeLessThanOrEqual(1 << 20);
    // What a /trace observer is sent is of the same order as the bound.
    expect(sinceJson(ring, 0).items.length).toBeLessThan(3 << 20);
    expect(decodeBatch(sinceJson(ring, ring.next - 1).items)).toHaveLength(1);
  });

  it('the count bound still holds when events are small', () => {
    const ring = createTraceRing(4);
    for (let i = 0; i < 10; i++) pushEvent(ring, fence(i));
    expect(ringSize(ring)).toBe(4);
    expect(ring.droppedForBytes).toBe(0);
  });

  it('maxBytes must be a positive integer', () => {
    expect(() => createTraceRing(4, { maxBytes: 0 })).toThrow(RangeError);
    expect(() => createTraceRing(4, { maxBytes: 1.5 })).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../shared/trace/events';
import { decodeBatch, decodeEvent } from '../../shared/trace/encode';
import {
  createTraceRing,
  droppedCount,
  encodedAt,
  eventAt,
  firstSeq,
  pushEvent,
  ringEvents,
  ringSize,
  since,
  sinceJson,
} from '../../shared/trace/ring';

const ev = (i: number): TraceEvent => ({ type: 'fence.signaled', t: BigInt(i) * 1000n, fence: i, error: 0 });
const fences = (evs: TraceEvent[]): number[] => evs.map((e) => (e.type === 'fence.signaled' ? e.fence : -1));

function filled(capacity: number, n: number) {
  const ring = createTraceRing(capacity);
  for (let i = 0; i < n; i++) pushEvent(ring, ev(i));
  return ring;
}

describe('trace ring', () => {
  it('push returns consecutive seqs from 0', () => {
    const ring = createTraceRing(4);
    expect([pushEvent(ring, ev(0)), pushEvent(ring, ev(1)), pushEvent(ring, ev(2))]).toEqual([0, 1, 2]);
  });

  it('a partly filled ring holds everything and has dropped nothing', () => {
    const ring = filled(4, 3);
    expect(ringSize(ring)).toBe(3);
    expect(droppedCount(ring)).toBe(0);
    expect(fences(ringEvents(ring))).toEqual([0, 1, 2]);
  });

  it('wrapping keeps the newest capacity events, oldest first', () => {
    const ring = filled(4, 10);
    expect(ringSize(ring)).toBe(4);
    expect(firstSeq(ring)).toBe(6);
    expect(droppedCount(ring)).toBe(6);
    expect(fences(ringEvents(ring))).toEqual([6, 7, 8, 9]);
  });

  it('eventAt finds held seqs and not overwritten or future ones', () => {
    const ring = filled(4, 10);
    expect(eventAt(ring, 5)).toBeUndefined();
    expect(eventAt(ring, 10)).toBeUndefined();
    expect(eventAt(ring, 7)).toEqual(ev(7));
  });

  it('since returns events from the asked seq and the next seq to ask for', () => {
    const ring = filled(4, 10);
    const r = since(ring, 8);
    expect(fences(r.items)).toEqual([8, 9]);
    expect(r.missed).toBe(0);
    expect(r.next).toBe(10);
  });

  it('since reports events overwritten before the observer caught up', () => {
    const ring = filled(4, 10);
    const r = since(ring, 3);
    expect(r.missed).toBe(3);
    expect(fences(r.items)).toEqual([6, 7, 8, 9]);
  });

  it('since from next is empty', () => {
    const ring = filled(4, 10);
    expect(since(ring, 10)).toEqual({ missed: 0, next: 10, items: [] });
  });

  it('an event is encoded once and the string is shared', () => {
    const ring = createTraceRing(4);
    const e = ev(1);
    const seq = pushEvent(ring, e);
    const a = encodedAt(ring, seq);
    e.t = 999n; // a re-encode would see this
    expect(encodedAt(ring, seq)).toBe(a);
    expect(decodeEvent(a!)).toEqual(ev(1));
  });

  it('overwriting a slot drops its cached encoding', () => {
    const ring = createTraceRing(2);
    encodedAt(ring, pushEvent(ring, ev(0)));
    pushEvent(ring, ev(1));
    const seq = pushEvent(ring, ev(2));
    expect(decodeEvent(encodedAt(ring, seq)!)).toEqual(ev(2));
  });

  it('sinceJson is a JSON array that decodes back to the events', () => {
    const ring = filled(3, 5);
    const r = sinceJson(ring, 0);
    expect(r.missed).toBe(2);
    expect(decodeBatch(r.items)).toEqual([ev(2), ev(3), ev(4)]);
  });

  it('capacity must be a positive integer', () => {
    expect(() => createTraceRing(0)).toThrow(RangeError);
    expect(() => createTraceRing(1.5)).toThrow(RangeError);
  });
});

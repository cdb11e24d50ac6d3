/**
 * A bounded history of trace events: the newest `capacity` events, numbered
 * by a sequence that never repeats (seq 0 is the first event ever pushed).
 * Observers remember the next seq they want and catch up with since(); what
 * the ring overwrote before they got there is reported as `missed`.
 *
 * Two parallel arrays, preallocated: slot seq % capacity holds the event and
 * its wire string. push() stores a reference and clears the slot's string,
 * so it allocates nothing; the string is built on first request
 * (encodedAt) and then shared by every observer: an event is encoded once.
 */
import type { TraceEvent } from './events';
import { encodeEvent } from './encode';

export interface TraceRing {
  readonly capacity: number;
  readonly events: (TraceEvent | undefined)[];
  readonly encoded: (string | undefined)[];
  /** Seq the next push gets; also how many events were ever pushed. */
  next: number;
}

export function createTraceRing(capacity: number): TraceRing {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`createTraceRing: capacity must be a positive integer, got ${capacity}`);
  }
  return {
    capacity,
    events: new Array<TraceEvent | undefined>(capacity).fill(undefined),
    encoded: new Array<string | undefined>(capacity).fill(undefined),
    next: 0,
  };
}

/** Append an event, overwriting the oldest when full; returns its seq. */
export function pushEvent(ring: TraceRing, ev: TraceEvent): number {
  const seq = ring.next;
  const slot = seq % ring.capacity;
  ring.events[slot] = ev;
  ring.encoded[slot] = undefined;
  ring.next = seq + 1;
  return seq;
}

/** Seq of the oldest event still held (== next when empty). */
export function firstSeq(ring: TraceRing): number {
  return ring.next > ring.capacity ? ring.next - ring.capacity : 0;
}

/** Events held now. */
export function ringSize(ring: TraceRing): number {
  return ring.next - firstSeq(ring);
}

/** Events overwritten since the ring was created. */
export function droppedCount(ring: TraceRing): number {
  return firstSeq(ring);
}

function held(ring: TraceRing, seq: number): boolean {
  return Number.isInteger(seq) && seq >= firstSeq(ring) && seq < ring.next;
}

/** The event with this seq, or undefined if not pushed yet or overwritten. */
export function eventAt(ring: TraceRing, seq: number): TraceEvent | undefined {
  return held(ring, seq) ? ring.events[seq % ring.capacity] : undefined;
}

/** The wire string of the event with this seq, encoded on first request. */
export function encodedAt(ring: TraceRing, seq: number): string | undefined {
  if (!held(ring, seq)) return undefined;
  const slot = seq % ring.capacity;
  let s = ring.encoded[slot];
  if (s === undefined) {
    const ev = ring.events[slot];
    if (ev === undefined) return undefined;
    s = encodeEvent(ev);
    ring.encoded[slot] = s;
  }
  return s;
}

/** Visit held events oldest → newest, from `fromSeq` (clamped to what is held). */
export function forEachEvent(
  ring: TraceRing,
  fn: (ev: TraceEvent, seq: number) => void,
  fromSeq: number = firstSeq(ring),
): void {
  const end = ring.next;
  for (let seq = Math.max(fromSeq, firstSeq(ring)); seq < end; seq++) {
    const ev = ring.events[seq % ring.capacity];
    if (ev !== undefined) fn(ev, seq);
  }
}

/** All held events, oldest → newest (for the Chrome export). */
export function ringEvents(ring: TraceRing): TraceEvent[] {
  const out: TraceEvent[] = [];
  forEachEvent(ring, (ev) => out.push(ev));
  return out;
}

export interface TraceCatchUp<T> {
  /** Events wanted (seq ≥ fromSeq) that the ring had already overwritten. */
  missed: number;
  /** Seq to ask for next time. */
  next: number;
  items: T;
}

/** Events with seq ≥ fromSeq that are still held, and how many were lost. */
export function since(ring: TraceRing, fromSeq: number): TraceCatchUp<TraceEvent[]> {
  const first = firstSeq(ring);
  fromSeq = Math.max(0, fromSeq);
  const events: TraceEvent[] = [];
  forEachEvent(ring, (ev) => events.push(ev), fromSeq);
  return { missed: Math.max(0, first - fromSeq), next: ring.next, items: events };
}

/**
 * since() as one JSON array of wire strings, ready to send as a single
 * WebSocket frame; each event is encoded at most once across all callers.
 */
export function sinceJson(ring: TraceRing, fromSeq: number): TraceCatchUp<string> {
  const first = firstSeq(ring);
  fromSeq = Math.max(0, fromSeq);
  const parts: string[] = [];
  for (let seq = Math.max(fromSeq, first); seq < ring.next; seq++) {
    const s = encodedAt(ring, seq);
    if (s !== undefined) parts.push(s);
  }
  return { missed: Math.max(0, first - fromSeq), next: ring.next, items: `[${parts.join(',')}]` };
}

/**
 * A bounded history of trace events: the newest events that fit both
 * bounds, `capacity` events and `maxBytes` bytes, numbered by a sequence
 * that never repeats (seq 0 is the first event ever pushed). Observers
 * remember the next seq they want and catch up with since(); what the ring
 * dropped before they got there is reported as `missed`.
 *
 * Why bytes as well as events: an event's size is mostly fixed, but a few
 * fields carry what a client chose (a job label, a path, a page list), and
 * a count bound alone let one client make the ring hold gigabytes (issue
 * 9). So every event is summarised on the way in (summarise.ts: large
 * fields cut, their lengths kept) and measured; the oldest events go until
 * the new one fits. `bytes` estimates the wire size of what is held; the
 * heap it costs is that plus the event objects and cached strings, about
 * 2-3x (docs/reliability.md).
 *
 * Parallel arrays, preallocated: slot seq % capacity holds the event, its
 * wire string and its size. push() of a small event stores a reference and
 * clears the slot's string, so it allocates nothing; the string is built on
 * first request (encodedAt) and then shared by every observer: an event is
 * encoded once.
 */
import type { TraceEvent } from './events';
import { encodeEvent } from './encode';
import { DEFAULT_SUMMARY_LIMITS, measureEvent, summariseEvent, type SummaryLimits } from './summarise';

export interface TraceRingOptions {
  /** Bytes of events held at most (their estimated wire size). Default DEFAULT_TRACE_BYTES. */
  maxBytes?: number;
  /** Where a field stops being kept whole. Default DEFAULT_SUMMARY_LIMITS. */
  summary?: SummaryLimits;
}

/**
 * 32 MiB of wire text: 65,536 ordinary events (~150 bytes each) are about
 * 10 MiB, so the byte bound only bites when events are unusually large,
 * and the ring's heap stays under ~100 MB however large they are.
 */
export const DEFAULT_TRACE_BYTES = 32 << 20;

export interface TraceRing {
  readonly capacity: number;
  readonly maxBytes: number;
  readonly summary: SummaryLimits;
  readonly events: (TraceEvent | undefined)[];
  readonly encoded: (string | undefined)[];
  /** Estimated bytes of each held slot. */
  readonly sizes: Uint32Array;
  /** Seq the next push gets; also how many events were ever pushed. */
  next: number;
  /** Seq of the oldest event held (== next when empty). */
  first: number;
  /** Estimated bytes held now (sum of sizes of held slots). */
  bytes: number;
  /** Events dropped to make room in bytes (rather than in count). */
  droppedForBytes: number;
  /** Events kept as a summary because a field was too large. */
  summarised: number;
}

export function createTraceRing(capacity: number, options: TraceRingOptions = {}): TraceRing {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`createTraceRing: capacity must be a positive integer, got ${capacity}`);
  }
  const maxBytes = options.maxBytes ?? DEFAULT_TRACE_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`createTraceRing: maxBytes must be a positive integer, got ${maxBytes}`);
  }
  const summary = options.summary ?? DEFAULT_SUMMARY_LIMITS;
  if (!(summary.maxString >= 1 && summary.maxArray >= 0)) {
    throw new RangeError('createTraceRing: summary limits must be maxString >= 1, maxArray >= 0');
  }
  return {
    capacity,
    maxBytes,
    summary,
    events: new Array<TraceEvent | undefined>(capacity).fill(undefined),
    encoded: new Array<string | undefined>(capacity).fill(undefined),
    sizes: new Uint32Array(capacity),
    next: 0,
    first: 0,
    bytes: 0,
    droppedForBytes: 0,
    summarised: 0,
  };
}

/** Drop the oldest held event. */
function dropOldest(ring: TraceRing): void {
  const slot = ring.first % ring.capacity;
  ring.bytes -= ring.sizes[slot]!;
  ring.sizes[slot] = 0;
  ring.events[slot] = undefined;
  ring.encoded[slot] = undefined;
  ring.first++;
}

/**
 * Append an event, dropping the oldest while the ring is full in count or
 * in bytes; returns its seq. An event larger than maxBytes on its own (only
 * possible with tiny limits) is still kept, alone.
 */
export function pushEvent(ring: TraceRing, ev: TraceEvent): number {
  let kept = ev;
  let size = measureEvent(ev, ring.summary);
  if (size < 0) {
    kept = summariseEvent(ev, ring.summary);
    // Within the limits by construction; the fallback only guards the arithmetic.
    size = Math.max(0, measureEvent(kept, ring.summary));
    ring.summarised++;
  }
  const seq = ring.next;
  if (seq - ring.first >= ring.capacity) dropOldest(ring);
  while (ring.first < seq && ring.bytes + size > ring.maxBytes) {
    dropOldest(ring);
    ring.droppedForBytes++;
  }
  const slot = seq % ring.capacity;
  ring.events[slot] = kept;
  ring.encoded[slot] = undefined;
  ring.sizes[slot] = size;
  ring.bytes += size;
  ring.next = seq + 1;
  return seq;
}

/** Seq of the oldest event still held (== next when empty). */
export function firstSeq(ring: TraceRing): number {
  return ring.first;
}

/** Events held now. */
export function ringSize(ring: TraceRing): number {
  return ring.next - firstSeq(ring);
}

/** Events dropped (for count or bytes) since the ring was created. */
export function droppedCount(ring: TraceRing): number {
  return firstSeq(ring);
}

function held(ring: TraceRing, seq: number): boolean {
  return Number.isInteger(seq) && seq >= firstSeq(ring) && seq < ring.next;
}

/** The event with this seq, or undefined if not pushed yet or dropped. */
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
  /** Events wanted (seq ≥ fromSeq) that the ring had already dropped. */
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

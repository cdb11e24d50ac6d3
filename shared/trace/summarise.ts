/**
 * What the trace ring may keep of one event: its size in bytes (close to
 * the length of its wire string, encode.ts) and, when a field is large, a
 * summary instead of the field.
 *
 * Most fields of a trace event are ids and numbers, but a few carry what a
 * client chose: a vgpu job's `label`, an open()'s path (`what`), a buffer's
 * `pages`, a fence array's `components`, a job's `bos`. Kept whole, one
 * client could make the ring hold megabytes per event for as long as the
 * ring holds the event (issue 9). So a string longer than `maxString`
 * characters is cut to that length, ending in "…" (never `type`, which names
 * the event), an array longer than
 * `maxArray` keeps its first `maxArray` elements, and the event gains one
 * key, `$summarised`, giving each cut field's original length:
 *
 *   { type: 'dmabuf.alloc', ..., pages: [0, 1, …, 255], $summarised: { pages: 65536 } }
 *
 * The event the kernel or compositor emitted is never changed (the
 * validator and metrics see it whole); the ring keeps a shallow copy.
 * Small events, nearly all of them, are kept as they are: no allocation.
 */
import type { TraceEvent } from './events';

/** The key a summarised event gains: field name → original length. */
export const SUMMARISED_KEY = '$summarised';

export interface SummaryLimits {
  /** Longest string field kept whole, in UTF-16 code units. */
  readonly maxString: number;
  /** Longest array field kept whole, in elements. */
  readonly maxArray: number;
}

/**
 * Defaults: a label or path of 256 characters reads whole on any timeline
 * (the kernel's own labels are under 64); 256 pages is a 1 MiB buffer,
 * more than the page's timeline draws for one event.
 */
export const DEFAULT_SUMMARY_LIMITS: SummaryLimits = { maxString: 256, maxArray: 256 };

/** Rough JSON size of a scalar or a small object (an element of `bos`). */
function valueBytes(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'number':
      return 8;
    case 'bigint':
      // "123…" plus the key's entry in the $bigint list
      return 24;
    case 'string':
      return v.length + 2;
    case 'boolean':
      return 5;
    case 'object': {
      if (v === null) return 4;
      if (depth >= 2) return 16;
      let n = 2;
      if (Array.isArray(v)) {
        for (const e of v as unknown[]) n += valueBytes(e, depth + 1) + 1;
        return n;
      }
      const o = v as Record<string, unknown>;
      for (const k in o) n += k.length + 4 + valueBytes(o[k], depth + 1);
      return n;
    }
    default:
      return 0;
  }
}

/**
 * The event's size in bytes (an estimate of its encoded length), or -1
 * when a field is over the limits and the event must be summarised first.
 */
export function measureEvent(ev: TraceEvent, limits: SummaryLimits = DEFAULT_SUMMARY_LIMITS): number {
  const o = ev as unknown as Record<string, unknown>;
  let n = 2;
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'string' && v.length > limits.maxString && k !== 'type') return -1;
    if (Array.isArray(v) && v.length > limits.maxArray) return -1;
    n += k.length + 4 + valueBytes(v, 0);
  }
  return n;
}

/** The first max - 1 code units and "…": max in all, so the cut string is within the limit. */
function cutString(s: string, max: number): string {
  let end = max - 1;
  // Do not split a surrogate pair: the cut string must stay valid UTF-16.
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

/**
 * The event as the ring keeps it: itself when every field is within the
 * limits, else a shallow copy with the large fields cut and `$summarised`
 * saying how long they were.
 */
export function summariseEvent(ev: TraceEvent, limits: SummaryLimits = DEFAULT_SUMMARY_LIMITS): TraceEvent {
  if (measureEvent(ev, limits) >= 0) return ev;
  const out: Record<string, unknown> = {};
  const cut: Record<string, number> = {};
  const o = ev as unknown as Record<string, unknown>;
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'string' && v.length > limits.maxString && k !== 'type') {
      out[k] = cutString(v, limits.maxString);
      cut[k] = v.length;
    } else if (Array.isArray(v) && v.length > limits.maxArray) {
      out[k] = v.slice(0, limits.maxArray);
      cut[k] = v.length;
    } else {
      out[k] = v;
    }
  }
  out[SUMMARISED_KEY] = cut;
  // Same type and fields, only shorter: still the event it was.
  return out as unknown as TraceEvent;
}

/** The original lengths of the fields summariseEvent cut, or undefined if none was. */
export function summarisedFields(ev: TraceEvent): Readonly<Record<string, number>> | undefined {
  const s = (ev as unknown as Record<string, unknown>)[SUMMARISED_KEY];
  return typeof s === 'object' && s !== null ? (s as Record<string, number>) : undefined;
}

/**
 * Frame-timing statistics, pure (no DOM, no clock of its own: every sample
 * carries its time in ms), so vitest checks them and the charts only draw.
 *
 * - SampleRing: the last N (time, value) samples in two Float64Arrays, the
 *   memory of a chart over "the last seconds" that never grows.
 * - SurfaceTiming: one window's presented / discarded / missed counts,
 *   presentation times (fps, frame-time graph) and commit→present latency
 *   in ms and in vblanks (what wp_presentation_feedback tells a client).
 * - CompositorTiming: repaint (latch→flip), composition GPU time (the
 *   display's submit→onSubmittedWorkDone), missed vblanks.
 * - fps, percentile and histogram helpers over those.
 */

export interface SampleRing {
  readonly capacity: number;
  readonly times: Float64Array;
  readonly values: Float64Array;
  /** Index the next sample goes to. */
  head: number;
  size: number;
}

export function createSampleRing(capacity: number): SampleRing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
  return { capacity, times: new Float64Array(capacity), values: new Float64Array(capacity), head: 0, size: 0 };
}

export function pushSample(ring: SampleRing, timeMs: number, value: number): void {
  ring.times[ring.head] = timeMs;
  ring.values[ring.head] = value;
  ring.head = (ring.head + 1) % ring.capacity;
  if (ring.size < ring.capacity) ring.size++;
}

/** Index of the i-th oldest sample kept. */
function at(ring: SampleRing, i: number): number {
  return (ring.head - ring.size + i + ring.capacity) % ring.capacity;
}

/** The samples with time >= sinceMs, oldest first, as [times, values] (uPlot's column layout). */
export function samplesSince(ring: SampleRing, sinceMs: number): [number[], number[]] {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < ring.size; i++) {
    const k = at(ring, i);
    const t = ring.times[k]!;
    if (t < sinceMs) continue;
    ts.push(t);
    vs.push(ring.values[k]!);
  }
  return [ts, vs];
}

/** The values kept, oldest first. */
export function ringValues(ring: SampleRing): number[] {
  const out: number[] = [];
  for (let i = 0; i < ring.size; i++) out.push(ring.values[at(ring, i)]!);
  return out;
}

/**
 * Frames per second over the window (nowMs - windowMs, nowMs]: the number
 * of samples in it, per second of window. A window with no frame is 0 fps
 * (a stalled client must read as stalled, not keep its last figure).
 */
export function fps(ring: SampleRing, nowMs: number, windowMs = 1000): number {
  if (windowMs <= 0) throw new RangeError('fps window must be positive');
  let n = 0;
  for (let i = ring.size - 1; i >= 0; i--) {
    const t = ring.times[at(ring, i)]!;
    if (t <= nowMs - windowMs) break;
    if (t <= nowMs) n++;
  }
  return (n * 1000) / windowMs;
}

/** The p-quantile (0..1) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile must be 0..1, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

export interface Histogram {
  /** Lower edge of each bin. */
  readonly edges: number[];
  readonly counts: number[];
  /** Values at or past the last bin's upper edge (counted there too). */
  readonly overflow: number;
}

/**
 * Counts of `values` in `bins` bins of `width` from 0; the last bin also
 * takes everything beyond it (and says how many in `overflow`), so a
 * chart never hides an outlier. Negative values count in the first bin.
 */
export function histogram(values: readonly number[], width: number, bins: number): Histogram {
  if (!(width > 0) || !Number.isInteger(bins) || bins < 1) throw new RangeError('histogram needs width > 0 and bins >= 1');
  const counts = new Array<number>(bins).fill(0);
  let overflow = 0;
  for (const v of values) {
    let i = Math.floor(v / width);
    if (i < 0) i = 0;
    if (i >= bins) {
      overflow++;
      i = bins - 1;
    }
    counts[i]!++;
  }
  return { edges: counts.map((_, i) => i * width), counts, overflow };
}

/** How many vblank periods a latency spans (a frame shown at the next vblank is 1). */
export function vblanksOf(latencyMs: number, periodMs: number): number {
  if (!(periodMs > 0)) return 0;
  return Math.max(1, Math.ceil(latencyMs / periodMs - 1e-9));
}

/** How many samples the charts keep per series. */
export const TIMING_CAPACITY = 600;

export interface SurfaceTiming {
  presented: number;
  discarded: number;
  missed: number;
  /** Presentation times; value: ms since the previous presentation (frame time). */
  readonly frames: SampleRing;
  /** Presentation times; value: commit→present latency in ms. */
  readonly latencyMs: SampleRing;
  /** Presentation times; value: the latency in vblanks. */
  readonly latencyVblanks: SampleRing;
  lastPresentedMs: number | undefined;
}

export function createSurfaceTiming(capacity = TIMING_CAPACITY): SurfaceTiming {
  return {
    presented: 0,
    discarded: 0,
    missed: 0,
    frames: createSampleRing(capacity),
    latencyMs: createSampleRing(capacity),
    latencyVblanks: createSampleRing(capacity),
    lastPresentedMs: undefined,
  };
}

/** A commit reached the screen at `atMs`, `latencyMs` after it was committed. */
export function recordPresented(s: SurfaceTiming, atMs: number, latencyMs: number, periodMs: number): void {
  s.presented++;
  const dt = s.lastPresentedMs === undefined ? NaN : atMs - s.lastPresentedMs;
  s.lastPresentedMs = atMs;
  pushSample(s.frames, atMs, dt);
  pushSample(s.latencyMs, atMs, latencyMs);
  pushSample(s.latencyVblanks, atMs, vblanksOf(latencyMs, periodMs));
}

export function recordDiscarded(s: SurfaceTiming): void {
  s.discarded++;
}

export function recordMissed(s: SurfaceTiming): void {
  s.missed++;
}

export interface CompositorTiming {
  /** Flip times; value: latch→flip ms. */
  readonly repaintMs: SampleRing;
  /** Done times; value: the display's submit→onSubmittedWorkDone ms. */
  readonly compositionMs: SampleRing;
  missed: number;
  flips: number;
}

export function createCompositorTiming(capacity = TIMING_CAPACITY): CompositorTiming {
  return { repaintMs: createSampleRing(capacity), compositionMs: createSampleRing(capacity), missed: 0, flips: 0 };
}

/** p50 / p95 / max of a ring's values, for a one-line summary. */
export function summary(ring: SampleRing): { p50: number; p95: number; max: number; n: number } {
  const v = ringValues(ring).filter((x) => Number.isFinite(x));
  return { p50: percentile(v, 0.5), p95: percentile(v, 0.95), max: v.length ? Math.max(...v) : NaN, n: v.length };
}

/**
 * Prometheus text exposition format 0.0.4 (what GET /metrics serves):
 * counters, gauges and histograms as plain data, rendered on scrape.
 *
 * Updating a metric is a field write on a Sample ({ value: number }) or
 * observe() on a histogram: no allocation on the hot path. A labelled
 * family makes one Sample per label-value combination on first use
 * (labels()); callers keep that Sample rather than looking it up per event.
 *
 * The compositor's own set (createCompositorMetrics) can be fed directly or
 * from trace events (recordTraceEvent).
 */
import type { KernelEvent } from '../kernel/events';
import type { TraceEvent } from './events';
import type { TraceRing } from './ring';

export interface Sample {
  readonly labelValues: readonly string[];
  value: number;
}

export interface ScalarFamily {
  readonly type: 'counter' | 'gauge';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** In creation order, which is the order they are rendered in. */
  readonly samples: Sample[];
  readonly byKey: Map<string, Sample>;
}

export interface Histogram {
  readonly type: 'histogram';
  readonly name: string;
  readonly help: string;
  /** Upper bounds (le), ascending; +Inf is implicit. */
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; the last one is (last bound, +Inf]. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export type MetricFamily = ScalarFamily | Histogram;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new Error(`metrics: invalid metric name ${JSON.stringify(name)}`);
}

function scalar(type: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[]): ScalarFamily {
  checkName(name);
  for (const l of labelNames) {
    if (!LABEL_NAME.test(l) || l.startsWith('__') || l === 'le') {
      throw new Error(`metrics: invalid label name ${JSON.stringify(l)} on ${name}`);
    }
  }
  const f: ScalarFamily = { type, name, help, labelNames, samples: [], byKey: new Map() };
  // An unlabelled metric exists from the start, so a scrape shows 0, not nothing.
  if (labelNames.length === 0) labels(f);
  return f;
}

export function counter(name: string, help: string, labelNames: readonly string[] = []): ScalarFamily {
  return scalar('counter', name, help, labelNames);
}

export function gauge(name: string, help: string, labelNames: readonly string[] = []): ScalarFamily {
  return scalar('gauge', name, help, labelNames);
}

/** The Sample for these label values (one per label name), made on first use. */
export function labels(family: ScalarFamily, ...labelValues: string[]): Sample {
  if (labelValues.length !== family.labelNames.length) {
    throw new Error(`metrics: ${family.name} takes ${family.labelNames.length} label values, got ${labelValues.length}`);
  }
  // NUL cannot be typed into a label by accident; it keeps ("a,b") and ("a","b") apart.
  const key = labelValues.length === 1 ? labelValues[0]! : labelValues.join('\u0000');
  let s = family.byKey.get(key);
  if (!s) {
    s = { labelValues, value: 0 };
    family.byKey.set(key, s);
    family.samples.push(s);
  }
  return s;
}

export function histogram(name: string, help: string, bounds: readonly number[]): Histogram {
  checkName(name);
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i]!;
    if (Number.isNaN(b) || b === Infinity || (i > 0 && b <= bounds[i - 1]!)) {
      throw new Error(`metrics: ${name} bucket bounds must be finite and strictly ascending`);
    }
  }
  return { type: 'histogram', name, help, bounds, counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 };
}

/** Record one observation: it falls in the first bucket whose bound is ≥ v. */
export function observe(h: Histogram, v: number): void {
  let i = 0;
  while (i < h.bounds.length && v > h.bounds[i]!) i++;
  h.counts[i]!++;
  h.sum += v;
  h.count++;
}

/** A sample value as Prometheus writes it: +Inf, -Inf, NaN or a float. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

/** Label values escape backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and newline (quotes stay as they are). */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelSet(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]!}="${escapeLabelValue(values[i] ?? '')}"`);
  return `{${parts.join(',')}}`;
}

function renderFamily(f: MetricFamily, lines: string[]): void {
  lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
  lines.push(`# TYPE ${f.name} ${f.type}`);
  if (f.type === 'histogram') {
    let cumulative = 0;
    for (let i = 0; i < f.bounds.length; i++) {
      cumulative += f.counts[i]!;
      lines.push(`${f.name}_bucket{le="${formatValue(f.bounds[i]!)}"} ${cumulative}`);
    }
    lines.push(`${f.name}_bucket{le="+Inf"} ${f.count}`);
    lines.push(`${f.name}_sum ${formatValue(f.sum)}`);
    lines.push(`${f.name}_count ${f.count}`);
    return;
  }
  for (const s of f.samples) lines.push(`${f.name}${labelSet(f.labelNames, s.labelValues)} ${formatValue(s.value)}`);
}

/** The exposition text for these families, in order; every line ends in \n. */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) renderFamily(f, lines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The Content-Type to serve the text with. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type HazardKind = Extract<KernelEvent, { type: 'hazard' }>['kind'];

/** Known hazard kinds, shown at 0 from the start; new kinds appear when first seen. */
export const HAZARD_KINDS: readonly HazardKind[] = [
  'read-during-write',
  'write-during-read',
  'write-during-write',
  'use-after-free',
];

/**
 * Latch latency buckets in seconds: sub-millisecond (fence already signalled)
 * through a few 60 Hz frames (16.7 ms each) to a stalled second.
 */
export const LATCH_LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.002, 0.004, 0.008, 0.0167, 0.0334, 0.05, 0.1, 0.25, 0.5, 1,
];

export interface CompositorMetrics {
  readonly clients: Sample;
  readonly framesPresented: Sample;
  readonly framesDiscarded: Sample;
  readonly framesMissed: Sample;
  readonly latchLatency: Histogram;
  readonly hazards: ScalarFamily;
  /** Bounds reached, by limit name (docs/reliability.md), from limit.reached events. */
  readonly limitsReached: ScalarFamily;
  /** The trace ring: bytes held, events dropped for bytes, events kept as summaries. */
  readonly traceBytes: Sample;
  readonly traceDroppedForBytes: Sample;
  readonly traceSummarised: Sample;
  readonly families: readonly MetricFamily[];
}

export function createCompositorMetrics(buckets: readonly number[] = LATCH_LATENCY_BUCKETS): CompositorMetrics {
  const clients = gauge('handoff_clients', 'Clients connected now.');
  const presented = counter('handoff_frames_presented_total', 'Surface commits presented on an output.');
  const discarded = counter('handoff_frames_discarded_total', 'Surface commits replaced before they were presented.');
  const missed = counter('handoff_frames_missed_total', 'Output vblanks whose frame was not ready in time.');
  const latchLatency = histogram(
    'handoff_latch_latency_seconds',
    'Time from a surface commit to the latch of its buffer.',
    buckets,
  );
  const hazards = counter('handoff_hazards_total', 'Buffer access hazards found by the validator.', ['kind']);
  for (const k of HAZARD_KINDS) labels(hazards, k);
  const limitsReached = counter('handoff_limit_reached_total', 'Times a per-client or server bound was reached.', ['limit']);
  const traceBytes = gauge('handoff_trace_bytes', 'Estimated wire bytes of the events the trace ring holds.');
  const traceDropped = counter('handoff_trace_dropped_for_bytes_total', 'Trace events dropped to keep the ring within its byte bound.');
  const traceSummarised = counter('handoff_trace_summarised_total', 'Trace events kept as a summary because a field was too large.');
  return {
    clients: clients.samples[0]!,
    framesPresented: presented.samples[0]!,
    framesDiscarded: discarded.samples[0]!,
    framesMissed: missed.samples[0]!,
    latchLatency,
    hazards,
    limitsReached,
    traceBytes: traceBytes.samples[0]!,
    traceDroppedForBytes: traceDropped.samples[0]!,
    traceSummarised: traceSummarised.samples[0]!,
    families: [clients, presented, discarded, missed, latchLatency, hazards, limitsReached, traceBytes, traceDropped, traceSummarised],
  };
}

/** Update the compositor metrics from one trace event (others are ignored). */
export function recordTraceEvent(m: CompositorMetrics, ev: TraceEvent): void {
  switch (ev.type) {
    case 'client.connect':
      m.clients.value++;
      break;
    case 'client.disconnect':
      m.clients.value--;
      break;
    case 'surface.presentation':
      if (ev.result === 'presented') m.framesPresented.value++;
      else m.framesDiscarded.value++;
      break;
    case 'output.missed':
      m.framesMissed.value++;
      break;
    case 'surface.latch':
      observe(m.latchLatency, Number(ev.latency) / 1e9);
      break;
    case 'hazard':
      labels(m.hazards, ev.kind).value++;
      break;
    case 'limit.reached':
      labels(m.limitsReached, ev.limit).value++;
      break;
    default:
      break;
  }
}

/** Copy the trace ring's own counters into the metrics (call before a scrape). */
export function recordTraceRing(m: CompositorMetrics, ring: TraceRing): void {
  m.traceBytes.value = ring.bytes;
  m.traceDroppedForBytes.value = ring.droppedForBytes;
  m.traceSummarised.value = ring.summarised;
}

export function renderCompositorMetrics(m: CompositorMetrics): string {
  return renderMetrics(m.families);
}

/**
 * Everything the scale benchmark takes from the rest of handoff, in one
 * place: the server app, the compositor, the kernel, the headless client
 * and its socket, and the few compositor fields it reads (per-surface
 * presentation stats, the trace ring). When modules move, only this file
 * changes; the benchmark's other files import from here or from each other.
 */
import type { Compositor } from '../../server/compositor/compositor';
import type { TraceEvent } from '../../shared/trace/events';
import { ringSize } from '../../shared/trace/ring';

export { buildApp } from '../../server/app';
export { Compositor } from '../../server/compositor/compositor';
export { Kernel } from '../../shared/kernel/kernel';
export { connect, type HandoffClient } from '../../client/client';
export { nodeSocket } from '../../client/node-socket';
export type { SocketFactory } from '../../client/socket';
export { HeadlessClient } from '../../client/headless/headless-client';
export type { TraceEvent } from '../../shared/trace/events';

/** Where one surface's presentation counters stand (to cut a window out of its latency ring). */
export interface SurfaceMark {
  readonly key: number;
  readonly presented: number;
}

export function surfaceMarks(c: Compositor): SurfaceMark[] {
  return [...c.surfaces.values()].map((s) => ({ key: s.key, presented: s.stats.presented }));
}

/**
 * commit→present samples (ns, vblanks) recorded since `marks`. A surface
 * keeps its last N samples in a ring at slot (presented - 1) % N
 * (Surface.recordLatency), so the window's samples are the slots of the
 * presentation indices in between, as long as the window held fewer than N.
 */
export function latencySince(c: Compositor, marks: readonly SurfaceMark[]): { ns: number[]; vblanks: number[] } {
  const from = new Map(marks.map((m) => [m.key, m.presented]));
  const ns: number[] = [];
  const vblanks: number[] = [];
  for (const s of c.surfaces.values()) {
    const start = from.get(s.key) ?? 0;
    const lat = s.stats.latencies;
    const cap = Math.max(lat.length, 1);
    const first = Math.max(start, s.stats.presented - cap);
    for (let i = first; i < s.stats.presented; i++) {
      const slot = i % cap;
      const v = lat[slot];
      if (v !== undefined) ns.push(Number(v));
      const vb = s.stats.latencyVblanks[slot];
      if (vb !== undefined) vblanks.push(vb);
    }
  }
  return { ns, vblanks };
}

/** The trace ring's fill: events held now, its capacity, events ever pushed. */
export function traceRingFill(c: Compositor): { held: number; capacity: number; pushed: number } {
  return { held: ringSize(c.trace), capacity: c.trace.capacity, pushed: c.trace.next };
}

/** Subscribe to every trace event (kernel and compositor) as it happens. */
export function observeTrace(c: Compositor, fn: (ev: TraceEvent) => void): () => void {
  return c.observe((ev) => fn(ev));
}

/** The compositor's process and connection count. */
export function clientCount(c: Compositor): number {
  return c.clients.size;
}

/**
 * The output's vblank clock against the host clock: how far behind real
 * time its next vblank is (the clock advances one period per vblank
 * handled, so an event loop that falls behind shows here), and its flips.
 */
export function outputClock(c: Compositor): { behindNs: number; nextVblankNs: number; periodNs: number; flips: number; missed: number } {
  const next = c.output.nextVblank;
  return {
    behindNs: Number(c.now() - next),
    nextVblankNs: Number(next),
    periodNs: Number(c.output.periodNs),
    flips: c.output.stats.flips,
    missed: c.output.stats.missed,
  };
}

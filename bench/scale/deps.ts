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
export { hostClock } from '../../server/host-clock';
export { connect, type HandoffClient } from '../../client/core/connection';
export { nodeSocket } from '../../client/node/node-socket';
export type { SocketFactory } from '../../client/core/socket';
export { HeadlessClient } from '../../client/node/headless-client';
export type { TraceEvent } from '../../shared/trace/events';

/**
 * commit→present samples (ns, vblanks) from the compositor's
 * `surface.presentation` trace events (their `latency` and `refresh`), kept
 * from the last mark() on, at most `max` of them (the oldest go first).
 */
export interface LatencyRecorder {
  mark(): number;
  since(): { ns: number[]; vblanks: number[] };
  stop(): void;
}

export function latencyRecorder(c: Compositor, max = 200_000): LatencyRecorder {
  let ns: number[] = [];
  let vblanks: number[] = [];
  const stop = c.observe((ev) => {
    if (ev.type !== 'surface.presentation' || ev.result !== 'presented' || ev.latency === undefined) return;
    if (ns.length >= max) {
      ns.shift();
      vblanks.shift();
    }
    ns.push(Number(ev.latency));
    // Vblanks as frame-stats.ts counts them: ceil(latency / refresh).
    if (ev.refresh !== undefined && ev.refresh > 0n) vblanks.push(Number((ev.latency + ev.refresh - 1n) / ev.refresh));
  });
  return {
    mark() {
      const held = ns.length;
      ns = [];
      vblanks = [];
      return held;
    },
    since: () => ({ ns: [...ns], vblanks: [...vblanks] }),
    stop,
  };
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

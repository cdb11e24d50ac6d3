/**
 * Time for the kernel model. Nothing in shared/kernel reads a host clock or
 * arms a host timer directly: time arrives through this port, so tests drive
 * a ManualClock and everything is deterministic.
 */

export interface Clock {
  /** CLOCK_MONOTONIC in nanoseconds. */
  now(): bigint;
  /** Call `fire` once when now() reaches `atNs`; returns a cancel function. */
  setTimer(atNs: bigint, fire: () => void): () => void;
}

interface ManualTimer {
  at: bigint;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

function earlier(a: ManualTimer, b: ManualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A clock that moves only when told to. `advance` fires due timers in time
 * order (ties in the order they were set), each with now() equal to its due
 * time, including timers armed by other timers within the same advance.
 * Timers live in a binary heap: a thousand simulated clients arm a lot of them.
 */
export class ManualClock implements Clock {
  private t: bigint;
  private seq = 0;
  private heap: ManualTimer[] = [];
  private live = 0;

  constructor(startNs: bigint = 1_000_000_000n) {
    this.t = startNs;
  }

  now(): bigint {
    return this.t;
  }

  setTimer(atNs: bigint, fire: () => void): () => void {
    const timer: ManualTimer = { at: atNs, seq: this.seq++, fire, cancelled: false };
    this.push(timer);
    this.live++;
    return () => {
      if (!timer.cancelled) {
        timer.cancelled = true;
        this.live--;
      }
    };
  }

  /** Move time forward by `ns`, firing every timer that falls due on the way. */
  advance(ns: bigint): void {
    if (ns < 0n) throw new RangeError('ManualClock.advance: time only moves forward');
    this.advanceTo(this.t + ns);
  }

  /** Move time forward to `atNs` (no-op if already past it). */
  advanceTo(atNs: bigint): void {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > atNs) break;
      this.pop();
      if (top.cancelled) continue;
      top.cancelled = true;
      this.live--;
      if (top.at > this.t) this.t = top.at;
      top.fire();
    }
    if (atNs > this.t) this.t = atNs;
  }

  /** Due time of the next armed timer, if any. */
  nextTimerAt(): bigint | undefined {
    while (this.heap[0]?.cancelled) this.pop();
    return this.heap[0]?.at;
  }

  /** Timers still armed (for tests that check nothing is left waiting). */
  pendingTimers(): number {
    return this.live;
  }

  private push(t: ManualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!earlier(t, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && earlier(h[r]!, h[l]!) ? r : l;
      if (!earlier(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}

/* The host's monotonic clock, reached through globalThis so that this module
 * compiles with neither DOM nor Node types (both provide these). */
interface HostGlobals {
  performance: { now(): number };
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The host's monotonic clock (performance.now) with host timers. */
export function hostClock(): Clock {
  const g = globalThis as unknown as HostGlobals;
  const now = (): bigint => BigInt(Math.round(g.performance.now() * 1e6));
  return {
    now,
    setTimer(atNs, fire) {
      // Host timers overflow past 2^31-1 ms (about 24.8 days): chain them.
      const MAX_MS = 0x7fff_ffff;
      let handle: unknown;
      let cancelled = false;
      const arm = (): void => {
        const ms = Number(atNs - now()) / 1e6;
        if (ms > MAX_MS) {
          handle = g.setTimeout(() => {
            if (!cancelled) arm();
          }, MAX_MS);
        } else {
          handle = g.setTimeout(() => {
            if (!cancelled) fire();
          }, Math.max(0, ms));
        }
      };
      arm();
      return () => {
        cancelled = true;
        g.clearTimeout(handle);
      };
    },
  };
}

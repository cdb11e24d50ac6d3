/**
 * Time for the kernel model. Nothing in shared/kernel reads a host clock or
 * arms a host timer: time arrives through this port, injected by whoever
 * creates the Kernel. Tests drive a ManualClock and everything is
 * deterministic; the server passes the host's clock (server/host-clock.ts).
 */
import * as minHeap from './min-heap';
import type { MinHeapCallbacks } from './min-heap';

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

/** Due first; ties in the order they were set. */
const TIMER_ORDER: MinHeapCallbacks<ManualTimer> = {
  less: (a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq),
};

/**
 * A clock that moves only when told to. `advance` fires due timers in time
 * order (ties in the order they were set), each with now() equal to its due
 * time, including timers armed by other timers within the same advance.
 * Timers live in a min-heap (min-heap.ts): a thousand simulated clients
 * arm a lot of them.
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
    minHeap.push(this.heap, timer, TIMER_ORDER);
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
      minHeap.pop(this.heap, TIMER_ORDER);
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
    while (this.heap[0]?.cancelled) minHeap.pop(this.heap, TIMER_ORDER);
    return this.heap[0]?.at;
  }

  /** Timers still armed (for tests that check nothing is left waiting). */
  pendingTimers(): number {
    return this.live;
  }
}

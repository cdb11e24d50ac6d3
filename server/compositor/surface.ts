/**
 * wl_surface: double-buffered pending state, the content-update queue and
 * the current (latched) state. attach/damage/frame/offset/scale only touch
 * pending state; commit hands it to the compositor, which turns it into a
 * content update with locks (compositor.ts). Extensions (syncobj surface,
 * surface synchronization, fifo, commit timer, presentation feedback)
 * keep their own double-buffered fields here, beside the core ones.
 */
import type { NewId, Resource } from '../../shared/protocol/server';
import { WlSurfaceError, type WlSurfaceRequests } from '../../shared/protocol/generated/wayland';
import { ContentUpdateQueue } from './content-update-queue';
import { DmabufBuffer } from './buffer';
import type { BufferUse, CommitState, TimelinePoint } from './types';

/** What the surface needs from the compositor. */
export interface SurfaceHost {
  commit(surface: Surface): void;
  surfaceDestroyed(surface: Surface): void;
}

export interface SurfacePending {
  /** undefined: nothing attached since the last commit. */
  buffer: DmabufBuffer | null | undefined;
  damaged: boolean;
  frameCallbacks: Resource<'wl_callback'>[];
  feedbacks: Resource<'wp_presentation_feedback'>[];
  scale: number;
  // linux-drm-syncobj-v1 (double-buffered, replacing within a cycle is allowed)
  acquirePoint: TimelinePoint | null;
  releasePoint: TimelinePoint | null;
  // linux-explicit-synchronization-v1
  acquireFenceFd: number;
  bufferRelease: Resource<'zwp_linux_buffer_release_v1'> | null;
  // fifo-v1
  fifoBarrier: boolean;
  fifoWait: boolean;
  // commit-timing-v1
  targetNs: bigint | null;
}

function emptyPending(): SurfacePending {
  return {
    buffer: undefined,
    damaged: false,
    frameCallbacks: [],
    feedbacks: [],
    scale: 1,
    acquirePoint: null,
    releasePoint: null,
    acquireFenceFd: -1,
    bufferRelease: null,
    fifoBarrier: false,
    fifoWait: false,
    targetNs: null,
  };
}

let nextSurfaceKey = 1;

/** Latency samples kept per surface for percentiles. */
export const LATENCY_SAMPLES = 4096;

export type SurfaceRole = { kind: 'none' } | { kind: 'xdg_toplevel'; title: string; appId: string };

export class Surface implements WlSurfaceRequests {
  /** Compositor-wide key (resource ids are per client). */
  readonly key = nextSurfaceKey++;
  /** Set right after construction, when the resource is created with this surface as its implementation. */
  resource!: Resource<'wl_surface'>;
  readonly clientKey: number;
  private readonly host: SurfaceHost;
  pending: SurfacePending = emptyPending();
  readonly queue = new ContentUpdateQueue<CommitState>();
  /** The latched buffer use shown by this surface, if any. */
  current: BufferUse | null = null;
  role: SurfaceRole = { kind: 'none' };
  /** Which explicit-sync extension is bound to this surface, if any. */
  syncobjSurface: Resource<'wp_linux_drm_syncobj_surface_v1'> | null = null;
  syncSurface: Resource<'zwp_linux_surface_synchronization_v1'> | null = null;
  fifo: Resource<'wp_fifo_v1'> | null = null;
  commitTimer: Resource<'wp_commit_timer_v1'> | null = null;
  /** Position on the output (simple cascade placement). */
  x = 0;
  y = 0;
  scale = 1;
  destroyed = false;
  /** Hooks run on the first commit (xdg_surface's initial configure). */
  readonly onCommitHooks: ((s: Surface) => void)[] = [];
  readonly stats = {
    committed: 0,
    presented: 0,
    discarded: 0,
    missed: 0,
    /** commit→present latencies in ns, for percentiles: the last LATENCY_SAMPLES, in no order. */
    latencies: [] as bigint[],
    /** commit→present in vblanks. */
    latencyVblanks: [] as number[],
  };

  constructor(clientKey: number, host: SurfaceHost) {
    this.clientKey = clientKey;
    this.host = host;
  }

  /**
   * Record one commit→present latency. A long run keeps only the last
   * LATENCY_SAMPLES (a ring), so a surface's memory stays bounded.
   */
  recordLatency(ns: bigint, vblanks: number): void {
    const i = this.stats.presented - 1;
    if (this.stats.latencies.length < LATENCY_SAMPLES) {
      this.stats.latencies.push(ns);
      this.stats.latencyVblanks.push(vblanks);
    } else {
      this.stats.latencies[i % LATENCY_SAMPLES] = ns;
      this.stats.latencyVblanks[i % LATENCY_SAMPLES] = vblanks;
    }
  }

  /** Take the pending state for a commit and start the next cycle. */
  takePending(): SurfacePending {
    const p = this.pending;
    p.buffer?.pendingOn.delete(this);
    this.pending = emptyPending();
    // The scale is sticky state, not per-commit.
    this.pending.scale = p.scale;
    return p;
  }

  // ---- wl_surface requests ----

  destroy(resource: Resource<'wl_surface'>): void {
    resource.destroy();
  }

  attach(resource: Resource<'wl_surface'>, buffer: Resource<'wl_buffer'> | null, x: number, y: number): void {
    // Since wl_surface v5 a non-zero offset in attach is a protocol error (use offset).
    if (resource.version >= 5 && (x !== 0 || y !== 0)) {
      resource.postError(WlSurfaceError.invalidOffset, `attach with offset ${x},${y}: use wl_surface.offset`);
      return;
    }
    this.pending.buffer?.pendingOn.delete(this);
    if (buffer === null) {
      this.pending.buffer = null;
      return;
    }
    const impl = buffer.implementation;
    if (!(impl instanceof DmabufBuffer)) {
      resource.postError(WlSurfaceError.invalidSize, 'wl_buffer is not a dma-buf buffer');
      return;
    }
    this.pending.buffer = impl;
    impl.pendingOn.add(this);
  }

  damage(): void {
    this.pending.damaged = true;
  }

  frame(_resource: Resource<'wl_surface'>, callback: NewId<'wl_callback'>): void {
    const cb = callback.create({});
    this.pending.frameCallbacks.push(cb);
  }

  setOpaqueRegion(): void {}

  setInputRegion(): void {}

  commit(): void {
    this.host.commit(this);
  }

  setBufferTransform(resource: Resource<'wl_surface'>, transform: number): void {
    if (transform < 0 || transform > 7) {
      resource.postError(WlSurfaceError.invalidTransform, `buffer transform ${transform} is not a wl_output.transform`);
    }
  }

  setBufferScale(resource: Resource<'wl_surface'>, scale: number): void {
    if (scale < 1) {
      resource.postError(WlSurfaceError.invalidScale, `buffer scale ${scale} must be at least 1`);
      return;
    }
    this.pending.scale = scale;
  }

  damageBuffer(): void {
    this.pending.damaged = true;
  }

  offset(): void {}

  /** The resource is gone (request, or client disconnect). */
  resourceGone(): void {
    this.destroyed = true;
    const p = this.pending;
    p.buffer?.pendingOn.delete(this);
    // Feedback asked for a commit that will never come.
    for (const fb of p.feedbacks) if (!fb.destroyed) fb.send.discarded();
    p.feedbacks = [];
    this.host.surfaceDestroyed(this);
  }
}

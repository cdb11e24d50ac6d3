/**
 * Data shared by the compositor's modules: what one commit carries, how a
 * buffer use ends (its release path), and the composited frames that read
 * buffers. Plain data; the behaviour lives in surface.ts, buffer.ts and
 * compositor.ts.
 */
import type { Resource } from '../../shared/protocol/server';
import type { BufferState } from '../../shared/trace/events';
import type { DmabufBuffer } from './buffer';
import type { Surface } from './surface';

/** Compositor latch policy (DESIGN.md): defined with the other live settings. */
export { LATCH_POLICIES, type LatchPolicy } from '../../shared/control';

/** A timeline imported through wp_linux_drm_syncobj_manager_v1.import_timeline. */
export interface SyncobjTimeline {
  /** syncobj handle on the compositor's DRM fd. */
  readonly handle: number;
  /** References: the timeline object itself and every point that names it. */
  refs: number;
}

export interface TimelinePoint {
  readonly timeline: SyncobjTimeline;
  readonly point: bigint;
}

/** How the client synchronizes one commit. */
export type CommitSync =
  /** No explicit-sync object: the buffer's implicit fences (dma-buf resv). */
  | { readonly kind: 'implicit' }
  /** linux-drm-syncobj-v1: acquire and release timeline points. */
  | { readonly kind: 'syncobj'; readonly acquire: TimelinePoint; readonly release: TimelinePoint }
  /** linux-explicit-synchronization-v1: an acquire sync_file and a release object. */
  | {
      readonly kind: 'sync-file';
      /** The compositor's fd of the acquire sync_file, or -1 if none was set. */
      readonly acquireFd: number;
      readonly release: Resource<'zwp_linux_buffer_release_v1'> | null;
    };

/** One composited frame of an output. */
export interface Frame {
  /** Target vblank sequence. */
  readonly seq: bigint;
  /** The compositor's sync_file fd of the composition job's fence; -1 until submitted. */
  fenceFd: number;
  /** Users of fenceFd: the frame itself until presented, and each buffer use it read. */
  refs: number;
  /** Latched updates this frame presents. */
  readonly updates: LatchedUpdate[];
  /** Updates superseded in the same latch (discarded at flip time, callbacks fired then). */
  readonly superseded: LatchedUpdate[];
}

/** One use of a buffer by one commit: from commit until the compositor is done reading it. */
export interface BufferUse {
  readonly buffer: DmabufBuffer;
  readonly sync: CommitSync;
  /** Frames whose composition read the buffer for this commit. */
  readonly frames: Frame[];
  ended: boolean;
}

/** A commit's content update state (the pending state at commit time). */
export interface CommitState {
  /** undefined: no attach in this commit; null: attach(NULL). */
  readonly buffer: DmabufBuffer | null | undefined;
  readonly use: BufferUse | null;
  readonly frameCallbacks: Resource<'wl_callback'>[];
  readonly feedbacks: Resource<'wp_presentation_feedback'>[];
  readonly fifoBarrier: boolean;
  /** A sync_file to hand the GPU under gpu-wait (compositor's fd), or -1. */
  acquireFd: number;
}

export interface LatchedUpdate {
  readonly surfaceKey: number;
  /** Kept so an update whose surface goes before the flip still ends (discarded). */
  readonly surface: Surface;
  readonly commitSeq: number;
  readonly committedAt: bigint;
  readonly latchedAt: bigint;
  readonly state: CommitState;
}

export type { BufferState };

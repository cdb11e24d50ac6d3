/**
 * Data shared by the compositor's modules: the latch policy, syncobj
 * timelines, how a commit synchronizes its buffer, what a content update
 * carries (CommitState, in surface-state.ts), and a buffer use with the
 * compositions that read it. Plain
 * data; the behaviour lives in buffer-use.ts, commit.ts and repaint.ts.
 */
import type { Resource } from '../../shared/protocol/server';
import type { BufferState } from '../../shared/trace/events';
import type { DmabufBuffer } from './buffer';

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

/**
 * One composition of an output (named OutputFrame so it is not taken for
 * the wire's frame): the fence of its job, shared by every buffer use it read.
 */
export interface OutputFrame {
  /** Target vblank sequence. */
  readonly seq: bigint;
  /** The compositor's sync_file fd of the composition job's fence; -1 until submitted. */
  fenceFd: number;
  /** Users of fenceFd: the frame itself until presented, and each buffer use it read. */
  refs: number;
}

/** One use of a buffer by one commit: from commit until the compositor is done reading it. */
export interface BufferUse {
  readonly buffer: DmabufBuffer;
  readonly sync: CommitSync;
  /** Frames whose composition read the buffer for this commit (the latest only: see sampleUse). */
  readonly frames: OutputFrame[];
  ended: boolean;
}

export type { BufferState };

/**
 * A sync kind as a strategy: how a client of that kind sets up its
 * protocol objects, fences its render submissions, tells the compositor
 * about them at commit, and learns that a buffer may be written again.
 * One module per kind beside this one; index.ts names them. The frame loop
 * that calls these (swapchain-client.ts) is the same for every kind and
 * every renderer.
 *
 * Per frame, in this order:
 *   waitReusable(buf) → renderFences(buf) → [the renderer's submissions]
 *   → rendered(buf, outFenceFd) → commit(buf) → [attach, damage, commit,
 *   flush] → committed(buf)
 */
import type { Proxy } from '../../../shared/protocol/client';
import type { DrmVgpuSubmitSyncobj } from '../../../shared/kernel/vgpu-drm';
import type { ClientEnv } from '../kernel-api';
import type { SwapBuffer } from '../swapchain';

/** What a strategy sets itself up with. */
export interface SyncContext {
  readonly env: ClientEnv;
  /** The window's surface (its role is assigned and configured). */
  readonly surface: Proxy<'wl_surface'>;
  /** The DRM file the client's syncobjs and ring live on. */
  readonly drmFd: number;
}

/** How a frame's render submissions are fenced (fields of drm_vgpu_submit). */
export interface RenderFences {
  /** VGPU_SUBMIT_NO_IMPLICIT, VGPU_SUBMIT_FENCE_FD_IN, VGPU_SUBMIT_FENCE_FD_OUT (as a u32). */
  readonly flags: number;
  /**
   * The sync_file the frame's first submission waits on (FENCE_FD_IN), or
   * -1. The frame loop closes it once that submission is made.
   */
  readonly inFenceFd: number;
  /** syncobj points the frame's last submission signals. */
  readonly outSyncobjs: readonly DrmVgpuSubmitSyncobj[];
}

export interface SyncStrategy {
  /** A buffer was allocated and wrapped in a wl_buffer: its per-buffer protocol objects. */
  addBuffer(buf: SwapBuffer): Promise<void>;
  /** Resolves once `buf` may be written again, learnt the way this kind learns it. */
  waitReusable(buf: SwapBuffer): Promise<void>;
  /** The fences of this frame's render into `buf`. */
  renderFences(buf: SwapBuffer): Promise<RenderFences>;
  /**
   * The frame's submissions were accepted. `outFenceFd` is the last one's
   * sync_file when FENCE_FD_OUT was asked for, else -1; the strategy owns it.
   */
  rendered(buf: SwapBuffer, outFenceFd: number): Promise<void>;
  /** Set this kind's surface state for committing `buf` (before the attach). */
  commit(buf: SwapBuffer): void;
  /** The commit was flushed (fds sent in it were dup'ed by the transport). */
  committed(buf: SwapBuffer): void;
}

/** Bind a kind's protocol objects for a surface; resolves with the strategy. */
export type SyncSetup = (ctx: SyncContext) => Promise<SyncStrategy>;

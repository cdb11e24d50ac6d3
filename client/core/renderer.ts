/**
 * The renderer port: what executes a frame's vgpu job. A SwapchainClient
 * (swapchain-client.ts) owns the window, the buffers, the sync strategy
 * and the frame loop; it submits each frame's render job(s) with
 * DRM_IOCTL_VGPU_SUBMIT, fenced the way its sync kind says. The renderer
 * decides only what the GPU does with them:
 *
 * - the modelled renderer (modelled-renderer.ts) gives each job a
 *   `duration_ns` and leaves it to the simulated engine (ring flags 0);
 * - a real renderer (the page's WebGPU client, Dawn for Node) creates the
 *   ring with VGPU_RING_EXTERNAL and runs the jobs itself: a loop of
 *   DRM_IOCTL_VGPU_JOB_WAIT → draw into the texture of the buffer that job
 *   writes (looked up by the seqno it was told in `submitted`) →
 *   `await queue.onSubmittedWorkDone()` → DRM_IOCTL_VGPU_JOB_DONE
 *   (UAPI-PLAN §2, docs/vgpu.md). Its `duration_ns` is the modelled extra
 *   time JOB_WAIT hands back.
 *
 * A frame may be split into several submissions (`planFrame` returns more
 * than one slice), each submitted when its `ready()` resolves: the naive
 * client's torn frame, where a composition that runs between two slices
 * samples a half-drawn buffer. The first slice carries the frame's
 * in-fence, the last its out-fences; every slice writes the buffer.
 */
import type { KernelApi } from './kernel-api';

/** One buffer of the swapchain, as a renderer sees it. */
export interface RenderBuffer {
  /** Position in the swapchain (0-based). */
  readonly index: number;
  /** The dma-buf: an fd of this process. */
  readonly fd: number;
  /**
   * fstat(fd).st_ino: the dma-buf's identity, the number the kernel's
   * trace events and the compositor's composition jobs call `buf`. null
   * where the kernel could not say (fstat answered -errno).
   */
  readonly ino: number | null;
  /** Bytes (the dma-heap allocation). */
  readonly size: bigint;
  readonly width: number;
  readonly height: number;
  /** Bytes per row. */
  readonly stride: number;
  /** DRM fourcc of the buffer's contents. */
  readonly format: number;
}

/** What a renderer is given once the ring exists and the buffers are allocated. */
export interface RenderTarget {
  readonly kernel: KernelApi;
  /** The DRM file (/dev/dri/card0) that owns the ring. */
  readonly drmFd: number;
  /** The ring the frames' jobs are submitted to (created with `ringFlags`). */
  readonly ring: number;
  readonly buffers: readonly RenderBuffer[];
}

/** One submission of a frame. */
export interface RenderSlice {
  /** drm_vgpu_submit.duration_ns: the job's modelled GPU time. */
  readonly durationNs: bigint;
  /**
   * Resolves when this slice is to be submitted. Absent: at once (after
   * the previous slice's submit returned). The frame waits for it, so a
   * renderer that spaces its slices in time holds its client's frame loop.
   */
  ready?(): Promise<void>;
}

/** A submission the kernel accepted. */
export interface SubmittedJob {
  /** drm_vgpu_submit.fence: the job's seqno on the ring (what JOB_WAIT names). */
  readonly seqno: number;
  readonly buffer: RenderBuffer;
  /** The frame's number, from 1 (the job's trace label says it too). */
  readonly frame: number;
  /** This slice's position in the frame, from 0, and how many the frame has. */
  readonly slice: number;
  readonly slices: number;
}

export interface Renderer {
  /**
   * drm_vgpu_ring_new.flags of the client's ring: 0, the simulated engine
   * runs the jobs; VGPU_RING_EXTERNAL, this renderer does.
   */
  readonly ringFlags: number;
  /** Once, before the first frame. Create textures, start an engine loop. */
  attach?(target: RenderTarget): Promise<void>;
  /** The submissions of frame `frame` into `buffer`: at least one. */
  planFrame(buffer: RenderBuffer, frame: number): readonly RenderSlice[];
  /**
   * A slice's job was submitted. An external engine may learn of the job
   * from JOB_WAIT before this is called (the submit's answer and the job's
   * start travel separately): SubmittedJobs (submitted-jobs.ts) waits for
   * it by seqno.
   */
  submitted?(job: SubmittedJob): void;
  /**
   * The client stopped (its frame loop ended). End the engine loop (a
   * pending JOB_WAIT answers -ECANCELED once the ring is closed with
   * DRM_IOCTL_VGPU_RING_CLOSE or the connection ends); release textures.
   */
  detach?(): Promise<void>;
}

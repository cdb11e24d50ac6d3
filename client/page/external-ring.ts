/**
 * A client's own ring on its own engine (UAPI-PLAN.md §2, docs/vgpu.md):
 * the ring is created with VGPU_RING_EXTERNAL, frames are submitted with
 * DRM_IOCTL_VGPU_SUBMIT as usual, and this loop is the engine:
 *
 *   JOB_WAIT  ── blocks until a job of the ring is running (its
 *                dependencies signalled: the scheduler started it)
 *   run       ── record and submit the render pass(es) for that job,
 *                await queue.onSubmittedWorkDone() (device.lost checked)
 *   JOB_DONE  ── the job's fence signals (with the error, if any); every
 *                acquire point, sync_file and implicit fence downstream
 *                waits on exactly this.
 *
 * Only the DRM file that created the ring can complete its jobs; the
 * model's hang timeout still applies to a job that takes too long.
 *
 * The constants are the agreed uapi; they move to imports from
 * shared/kernel/vgpu-drm.ts when the kernel side lands there.
 */
import { DRM_COMMAND_BASE, drmIowr } from '../../shared/kernel/uapi';
import type { KernelApi } from './client-lib';

export const VGPU_RING_EXTERNAL = 0x1;
export const DRM_IOCTL_VGPU_JOB_WAIT = drmIowr(DRM_COMMAND_BASE + 0x04, 24);
export const DRM_IOCTL_VGPU_JOB_DONE = drmIowr(DRM_COMMAND_BASE + 0x05, 16);

const ECANCELED = 125;

/** struct drm_vgpu_job_wait */
export interface DrmVgpuJobWait {
  ring: number;
  flags: number;
  fence: number;
  pad: number;
  duration_ns: bigint;
}

/** struct drm_vgpu_job_done */
export interface DrmVgpuJobDone {
  ring: number;
  fence: number;
  error: number;
  pad: number;
}

/**
 * Runs one job: `fence` is the job's seqno (DRM_IOCTL_VGPU_SUBMIT's
 * `fence` out), by which the client knows which buffer it writes.
 * Resolves 0, or a positive errno if the GPU work failed.
 */
export type ExternalJobRunner = (fence: number, durationNs: bigint) => Promise<number>;

export interface ExternalRingEngine {
  /** Resolves when the loop ended (ring closed, file released, stop()). */
  readonly finished: Promise<void>;
  /** Jobs completed by this engine. */
  readonly completed: () => number;
  stop(): void;
}

/**
 * The engine loop of an external ring. Errors from the kernel other than
 * -ECANCELED (the ring or file went away) end the loop and reject
 * `finished` with the errno named.
 */
export function runExternalRing(kernel: KernelApi, drmFd: number, ring: number, run: ExternalJobRunner): ExternalRingEngine {
  let running = true;
  let completed = 0;
  const finished = (async () => {
    while (running) {
      const wait: DrmVgpuJobWait = { ring, flags: 0, fence: 0, pad: 0, duration_ns: 0n };
      const r = await kernel.ioctl(drmFd, DRM_IOCTL_VGPU_JOB_WAIT, wait);
      if (r === -ECANCELED) return;
      if (r < 0) throw new Error(`DRM_IOCTL_VGPU_JOB_WAIT: ${r}`);
      let error: number;
      try {
        error = await run(wait.fence, wait.duration_ns);
      } catch {
        error = 5; // EIO: the GPU work could not be done
      }
      const done: DrmVgpuJobDone = { ring, fence: wait.fence, error: error === 0 ? 0 : -Math.abs(error), pad: 0 };
      const d = await kernel.ioctl(drmFd, DRM_IOCTL_VGPU_JOB_DONE, done);
      // -ENOENT: the job was declared hung meanwhile; the kernel ignores
      // late completions, and so does the client.
      if (d === 0) completed++;
    }
  })();
  return {
    finished,
    completed: () => completed,
    stop() {
      running = false;
    },
  };
}

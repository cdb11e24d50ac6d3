/**
 * vgpu-external: rings whose jobs run on the engine of the DRM file that
 * created them (VGPU_RING_EXTERNAL), for a client that drives a real GPU
 * itself (the page's WebGPU device). The scheduler does for such a ring
 * all it does for any other (dependencies, one job at a time in order,
 * the hang timeout, the job's fence in resvs, syncobjs and sync_files);
 * only the execution moves to the client:
 *
 *   DRM_IOCTL_VGPU_JOB_WAIT blocks until the ring's next job has started
 *   (its dependencies signalled; its hang timer runs from then) and hands
 *   it out: its seqno and modelled duration;
 *   DRM_IOCTL_VGPU_JOB_DONE completes the running job (error: 0 or a
 *   negative errno), which signals its fence.
 *
 * NOT LINUX: no upstream driver lets userspace complete a kernel job
 * fence. The nearest is a virtio-gpu host, which executes the guest's
 * command buffers and signals their fences; here the "host" is a process
 * of the same machine, and the kernel keeps the last word (a job declared
 * hung stays hung: a late JOB_DONE is -ENOENT).
 *
 * A closed ring or a released file cancels a pending JOB_WAIT
 * (-ECANCELED); jobs still queued then finish on the simulated engine, as
 * after detachExternalEngine, so a vanished client cannot wedge buffers
 * for longer than the work would have taken.
 */
import { EBUSY, ECANCELED, EINVAL, ENOENT, MAX_ERRNO } from './errno';
import { clearRingEngine, completeJob, type VgpuEngine, type VgpuJobView, type VgpuRing, type VgpuSched } from './vgpu-sched';
import type { DrmVgpuJobDone, DrmVgpuJobWait } from './vgpu-drm';

interface JobWaiter {
  readonly args: DrmVgpuJobWait;
  readonly resolve: (result: number) => void;
}

/** An external ring's engine state. */
interface ExternalRing {
  readonly ring: VgpuRing;
  readonly engine: VgpuEngine;
  /** The running job, until a JOB_WAIT hands it out. */
  ready: VgpuJobView | null;
  /** The JOB_WAIT waiting for the next job (one at a time: a second is -EBUSY). */
  waiter: JobWaiter | null;
}

const externals = new WeakMap<VgpuRing, ExternalRing>();

/** RING_NEW with VGPU_RING_EXTERNAL: the ring's jobs go to its creator from the first on. */
export function externalRingInit(ring: VgpuRing): void {
  const ext: ExternalRing = {
    ring,
    engine: { execute: (job) => jobStarted(ext, job), timedOut: (job) => jobHung(ext, job) },
    ready: null,
    waiter: null,
  };
  ring.engine = ext.engine;
  externals.set(ring, ext);
}

/**
 * The ring is closed or its file released: a pending JOB_WAIT answers
 * -ECANCELED; the running job and the rest finish on the simulated engine.
 */
export function externalRingRelease(sched: VgpuSched, ring: VgpuRing): void {
  const ext = externals.get(ring);
  if (!ext) return;
  externals.delete(ring);
  ext.ready = null;
  const waiter = ext.waiter;
  ext.waiter = null;
  clearRingEngine(sched, ring);
  waiter?.resolve(-ECANCELED);
}

/** The engine's execute: the scheduler started `job`; hand it to a waiting JOB_WAIT, or keep it for the next. */
function jobStarted(ext: ExternalRing, job: VgpuJobView): void {
  const waiter = ext.waiter;
  if (!waiter) {
    ext.ready = job;
    return;
  }
  ext.waiter = null;
  handOut(waiter.args, job);
  waiter.resolve(0);
}

/** The engine's timedOut: the job was declared hung; it is no longer to be handed out. */
function jobHung(ext: ExternalRing, job: VgpuJobView): void {
  if (ext.ready?.id === job.id) ext.ready = null;
}

function handOut(args: DrmVgpuJobWait, job: VgpuJobView): void {
  args.fence = seqno32(job.seqno);
  args.duration_ns = job.durationNs;
}

/** The seqno as the uapi's __u32 fence fields carry it. */
function seqno32(seqno: bigint): number {
  return Number(BigInt.asUintN(32, seqno));
}

/** An open external ring created by the DRM file `owner`. */
function lookupExternal(sched: VgpuSched, owner: object, id: number): ExternalRing | undefined {
  const ring = sched.rings.get(id);
  if (!ring || ring.closed || ring.owner !== owner) return undefined;
  return externals.get(ring);
}

/**
 * DRM_IOCTL_VGPU_JOB_WAIT: 0 with the job's seqno and duration once a job
 * of the ring runs that no JOB_WAIT has had yet (at once if one does).
 * -EINVAL for flags or pad; -ENOENT if `ring` is not an external ring of
 * this file; -EBUSY if a JOB_WAIT on it is pending; -ECANCELED if the ring
 * is closed or the file released while waiting.
 */
export function jobWaitIoctl(sched: VgpuSched, owner: object, args: DrmVgpuJobWait): number | Promise<number> {
  if (args.flags !== 0 || args.pad !== 0) return -EINVAL;
  const ext = lookupExternal(sched, owner, args.ring);
  if (!ext) return -ENOENT;
  if (ext.waiter) return -EBUSY;
  const job = ext.ready;
  if (job) {
    ext.ready = null;
    handOut(args, job);
    return 0;
  }
  return new Promise<number>((resolve) => {
    ext.waiter = { args, resolve };
  });
}

/**
 * DRM_IOCTL_VGPU_JOB_DONE: the running job `fence` of the ring is done
 * (with `error` if it failed); its fence signals. -EINVAL for pad or an
 * error that is not 0 or a negative errno; -ENOENT if `ring` is not an
 * external ring of this file or `fence` is not its running job (never
 * started, already done, or declared hung: late completions are ignored).
 */
export function jobDoneIoctl(sched: VgpuSched, owner: object, args: DrmVgpuJobDone): number {
  if (args.pad !== 0 || args.error > 0 || args.error < -MAX_ERRNO) return -EINVAL;
  const ext = lookupExternal(sched, owner, args.ring);
  if (!ext) return -ENOENT;
  const job = ext.ring.running;
  if (!job || job.engine !== ext.engine || seqno32(job.view.seqno) !== args.fence) return -ENOENT;
  if (ext.ready === job.view) ext.ready = null;
  return completeJob(sched, job.view.id, args.error);
}

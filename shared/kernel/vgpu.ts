/**
 * vgpu: the virtual GPU driver behind /dev/dri/card0, shaped like a real
 * DRM render driver's submit path (msm's msm_gem_submit.c above all; see
 * also panfrost and v3d). Userspace submits jobs with DRM_IOCTL_VGPU_SUBMIT
 * naming the dma-bufs they read or write, explicit dependencies (a
 * sync_file, syncobj points) and what to signal (a new sync_file, syncobj
 * points). Unless told otherwise the driver does implicit sync through the
 * buffers' reservation objects:
 *
 *   - before: the job waits for each buffer's fences at usage_rw(write)
 *     (a write waits for readers and writers, a read only for writers);
 *   - after: the job's fence is added at WRITE (written buffer) or READ.
 *
 * With VGPU_SUBMIT_NO_IMPLICIT there are no implicit waits and the fence
 * is added at BOOKKEEP, as amdgpu (explicit-sync BOs) and xe do for
 * explicitly synced work: memory management still sees the job, implicit
 * sync does not. (msm keeps READ/WRITE even then; the model follows the
 * drivers that make the distinction.)
 *
 * Rings: "gfx" (id 0) is shared by everyone; a process creates its own
 * with DRM_IOCTL_VGPU_RING_NEW (like MSM_SUBMITQUEUE_NEW), e.g. the
 * compositor's, and with VGPU_RING_EXTERNAL one whose jobs it executes
 * itself (vgpu-external.ts: JOB_WAIT, JOB_DONE). Scheduling and engines
 * live in vgpu-sched.ts; the uapi in vgpu-drm.ts; docs/vgpu.md documents
 * it for userspace.
 *
 * Memory: each open of the DRM device allocates the file's GPU page table
 * from the machine's page pool (owner "page table") and frees it once the
 * file is closed and its jobs are done. So the kernel has allocations of
 * its own that reuse freed buffer pages: the stake in König's objection.
 * Jobs do not pin their buffers (as with a GPU VM where buffers stay
 * mapped): what keeps a buffer's pages alive while a job uses them is the
 * job's fence in the buffer's reservation object, nothing else.
 */
import type { DmaFence } from './dma-fence';
import { addFence, DmaResvUsage, getFences, reserveFences, usageRw } from './dma-resv';
import { dmaBufFromFile, type DmaBuf } from './dma-buf';
import { addPoint, find, findFence, replaceFence, type DrmSyncobj } from './drm-syncobj';
import { EBADF, EFAULT, EINVAL, EMFILE, ENOENT, ENOMEM } from './errno';
import { structIoctl, type IoctlDesc } from './file';
import type { DrmFile } from './drm';
import type { Kernel } from './kernel';
import { allocPages, freePages } from './page-pool';
import type { Process } from './process';
import { fdAvailable, installSyncFile, syncFileGetFence } from './sync-file';
import { checkStruct, truncateName, type StructOf, type StructSchema } from './uapi-structs';
import { externalRingInit, externalRingRelease, jobDoneIoctl, jobWaitIoctl } from './vgpu-external';
import {
  DRM_IOCTL_VGPU_JOB_DONE,
  DRM_IOCTL_VGPU_JOB_WAIT,
  DRM_IOCTL_VGPU_RING_CLOSE,
  DRM_IOCTL_VGPU_RING_NEW,
  DRM_IOCTL_VGPU_RING_QUERY,
  DRM_IOCTL_VGPU_SUBMIT,
  VGPU_BO_FLAGS,
  VGPU_BO_WRITE,
  VGPU_RING_EXTERNAL,
  VGPU_RING_FLAGS,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  VGPU_SUBMIT_FLAGS,
  VGPU_SUBMIT_NO_IMPLICIT,
  VGPU_SYNCOBJ_FLAGS,
  VGPU_SYNCOBJ_RESET,
  drm_vgpu_job_done,
  drm_vgpu_job_wait,
  drm_vgpu_ring_close,
  drm_vgpu_ring_new,
  drm_vgpu_ring_query,
  drm_vgpu_submit,
  drm_vgpu_submit_bo,
  drm_vgpu_submit_syncobj,
  submitFlags,
  type DrmVgpuSubmit,
} from './vgpu-drm';
import {
  addDependency,
  depsCreate,
  attachEngine,
  completeJob,
  createSched,
  detachEngine,
  jobCreate,
  jobPush,
  ringClose,
  ringCreate,
  ringStats,
  type VgpuDeps,
  type VgpuEngine,
  type VgpuJob,
  type VgpuJobBo,
  type VgpuJobView,
  type VgpuRing,
  type VgpuRingStats,
  type VgpuSched,
} from './vgpu-sched';

export type { VgpuEngine, VgpuJobBo, VgpuJobView, VgpuRingStats } from './vgpu-sched';

export interface VgpuOptions {
  /** drm_sched's timeout: a job running longer is a hang. Default 2 s. */
  jobTimeoutNs?: bigint;
  /** Kernel-wide rings, ids 0, 1, ... in this order. Default ["gfx"]. */
  rings?: readonly string[];
  /** Pages of GPU page table per DRM file open. Default 1. */
  pageTablePages?: number;
}

/** The page-pool owner label of GPU page tables. */
export const PAGE_TABLE_OWNER = 'page table';

/** kernel.vgpu: the device, for the kernel's own users (the compositor, the browser engine bridge). */
export interface VgpuDevice {
  readonly kernel: Kernel;
  readonly jobTimeoutNs: bigint;
  /** Pages of page table each DRM file open takes. */
  readonly pageTablePages: number;
  /** Scheduler state (for the ioctls and tests; not a userspace interface). */
  readonly sched: VgpuSched;
  /**
   * Run the jobs of the ring named `ring` on `engine` from the next job on
   * (the ring may be created later). Replaces an engine attached before.
   * Job events call it 'display' (the compositor's, in handoff); an
   * external ring's own engine comes first.
   */
  attachExternalEngine(ring: string, engine: VgpuEngine): void;
  /** Back to the simulated engine; a job in flight finishes at start + duration. */
  detachExternalEngine(ring: string): void;
  /**
   * The external engine finished job `jobId` (error: a negative errno if it
   * failed). 0, or -ENOENT if no such job is running on an external engine
   * (e.g. it was already declared hung: late completions are ignored).
   */
  completeJob(jobId: number, error?: number): number;
  /** An unfinished job, as engines see it. */
  job(jobId: number): VgpuJobView | undefined;
  ringStats(ring: string): VgpuRingStats | undefined;
  /** Every ring, open or draining, by id. */
  rings(): VgpuRingStats[];
}

export function createVgpu(kernel: Kernel, options: VgpuOptions): VgpuDevice {
  const timeout = options.jobTimeoutNs ?? 2_000_000_000n;
  const sched = createSched(kernel.core, timeout);
  for (const name of options.rings ?? ['gfx']) {
    const r = ringCreate(sched, truncateName(name), null);
    if (typeof r === 'number') throw new Error(`vgpu: duplicate ring name ${name}`);
  }
  return {
    kernel,
    jobTimeoutNs: timeout,
    pageTablePages: options.pageTablePages ?? 1,
    sched,
    attachExternalEngine: (ring, engine) => attachEngine(sched, ring, engine),
    detachExternalEngine: (ring) => detachEngine(sched, ring),
    completeJob: (jobId, error) => completeJob(sched, jobId, error),
    job: (jobId) => sched.jobs.get(jobId)?.view,
    ringStats(name) {
      const ring = sched.byName.get(name);
      return ring ? ringStats(sched, ring) : undefined;
    },
    rings: () => [...sched.rings.values()].map((r) => ringStats(sched, r)),
  };
}

/** The driver's per-open state (file->driver_priv). */
interface VgpuFile {
  readonly kernel: Kernel;
  pageTable: number[] | null;
  /** Jobs submitted through this file and not finished. */
  inflight: number;
  closed: boolean;
  /** Rings created by RING_NEW on this file. */
  readonly rings: Set<VgpuRing>;
}

const filePrivs = new WeakMap<DrmFile, VgpuFile>();

function vgpuFile(file: DrmFile): VgpuFile {
  const v = filePrivs.get(file);
  if (!v) throw new Error('vgpu: DRM file was not opened through vgpuOpen');
  return v;
}

/**
 * driver->open: give the new DRM file its GPU page table. -ENOMEM when
 * the page pool is exhausted (open(2) fails then).
 */
export function vgpuOpen(kernel: Kernel, file: DrmFile): number {
  const pages = allocPages(kernel.pages, kernel.vgpu.pageTablePages, PAGE_TABLE_OWNER);
  if (!pages) return -ENOMEM;
  filePrivs.set(file, { kernel, pageTable: pages, inflight: 0, closed: false, rings: new Set() });
  return 0;
}

/**
 * driver->postclose: close the file's rings (their queued jobs still
 * run) and free the page table once no job of this file is in flight,
 * since running jobs translate addresses through it.
 */
export function vgpuPostclose(file: DrmFile): void {
  const v = filePrivs.get(file);
  if (!v || v.closed) return;
  v.closed = true;
  const sched = v.kernel.vgpu.sched;
  for (const ring of v.rings) closeRing(sched, ring);
  v.rings.clear();
  maybeFreePageTable(v);
}

/** ringClose, and an external ring's engine goes with it (a pending JOB_WAIT is -ECANCELED). */
function closeRing(sched: VgpuSched, ring: VgpuRing): void {
  ringClose(sched, ring);
  externalRingRelease(sched, ring);
}

function maybeFreePageTable(v: VgpuFile): void {
  if (!v.closed || v.inflight > 0 || !v.pageTable) return;
  freePages(v.kernel.pages, v.pageTable, PAGE_TABLE_OWNER);
  v.pageTable = null;
}

/** A ring this file may submit to: shared, or its own; never a closed one. */
function lookupRing(sched: VgpuSched, v: VgpuFile, id: number): VgpuRing | undefined {
  const ring = sched.rings.get(id);
  if (!ring || ring.closed || (ring.owner !== null && ring.owner !== v)) return undefined;
  return ring;
}

/**
 * copy_from_user of `count` structs from a user array: undefined (-EFAULT)
 * if the array is missing, too short or an element is malformed. A null
 * pointer is fine when nothing is to be read.
 */
function copyArray<S extends StructSchema>(raw: unknown, count: number, schema: S): StructOf<S>[] | undefined {
  if (count === 0) return [];
  if (!Array.isArray(raw) || raw.length < count) return undefined;
  const out: StructOf<S>[] = [];
  for (let i = 0; i < count; i++) {
    const el: unknown = raw[i];
    if (!checkStruct(schema, el)) return undefined;
    out.push(el);
  }
  return out;
}

/** What the in-syncobjs ask for after the push (msm_parse_deps' syncobjs to reset). */
type InSyncobjs = DrmSyncobj[];
/** An out-syncobj and the point it gets the job's fence at (0: replace). */
interface PostDep {
  readonly syncobj: DrmSyncobj;
  readonly point: bigint;
}
/** The looked-up buffers, each once, with the union of its access flags. */
type SubmitBufs = Map<DmaBuf, number>;

/**
 * DRM_IOCTL_VGPU_SUBMIT (msm_ioctl_gem_submit). Checks come in msm's
 * order: pad and flags, the ring, the out-fence fd, the in-fence, the
 * in-syncobjs, the out-syncobjs, then the buffers (all flags, then all
 * fds). Nothing changes unless every check passes. The phases, as msm
 * names them: look up the ring, the in-fence, the in-syncobjs
 * (msm_parse_deps) and the out-syncobjs (msm_parse_post_deps), the buffers
 * (submit_lookup_objects), the implicit dependencies (submit_fence_sync);
 * then, past the point of no return, arm the job, attach its fence to the
 * buffers (submit_attach_object_fences), push it, and post the out-fences
 * (msm_reset_syncobjs, msm_process_post_deps, the sync_file fd).
 */
function vgpuSubmit(file: DrmFile, proc: Process, args: DrmVgpuSubmit): number {
  const v = vgpuFile(file);
  const sched = file.kernel.vgpu.sched;
  const flags = submitFlags(args.flags);
  if (flags === undefined) return -EFAULT;
  if (args.pad !== 0) return -EINVAL;
  if ((flags & ~VGPU_SUBMIT_FLAGS) !== 0) return -EINVAL;
  const ring = lookupRing(sched, v, args.ring);
  if (!ring) return -ENOENT;
  if (flags & VGPU_SUBMIT_FENCE_FD_OUT && !fdAvailable(proc)) return -EMFILE;

  const deps = depsCreate();
  if (flags & VGPU_SUBMIT_FENCE_FD_IN) {
    const inFence = syncFileGetFence(proc.fget(args.fence_fd));
    if (!inFence) return -EINVAL;
    addDependency(deps, inFence);
  }
  const toReset = parseDeps(file, args, deps);
  if (typeof toReset === 'number') return toReset;
  const post = parsePostDeps(file, args);
  if (typeof post === 'number') return post;
  const bufs = lookupObjects(proc, args);
  if (typeof bufs === 'number') return bufs;
  const noImplicit = (flags & VGPU_SUBMIT_NO_IMPLICIT) !== 0;
  const r = fenceSync(bufs, deps, noImplicit);
  if (r < 0) return r;

  // Point of no return: drm_sched_job_arm.
  const job = armJob(v, proc, args, ring, bufs, deps);
  attachObjectFences(bufs, job.fence, noImplicit);
  jobPush(sched, job);
  args.fence = Number(BigInt.asUintN(32, job.view.seqno));
  postDeps(proc, toReset, post, job.fence);
  if (flags & VGPU_SUBMIT_FENCE_FD_OUT) {
    const fd = installSyncFile(proc, job.fence);
    // Checked free above; nothing in between can take it.
    if (fd < 0) throw new Error(`vgpu: out-fence fd vanished (${fd})`);
    args.fence_fd = fd;
  }
  return 0;
}

/** msm_parse_deps: each in-syncobj's fence at its point is a dependency; returns those to reset after the push. */
function parseDeps(file: DrmFile, args: DrmVgpuSubmit, deps: VgpuDeps): InSyncobjs | number {
  const ins = copyArray(args.in_syncobjs, args.nr_in_syncobjs, drm_vgpu_submit_syncobj);
  if (!ins) return -EFAULT;
  const toReset: InSyncobjs = [];
  for (const s of ins) {
    if ((s.flags & ~VGPU_SYNCOBJ_FLAGS) !== 0) return -EINVAL;
    // drm_syncobj_find_fence: -ENOENT unknown handle, -EINVAL point not submitted.
    const f = findFence(file, s.handle, s.point, 0);
    if (typeof f === 'number') return f;
    addDependency(deps, f);
    if (s.flags & VGPU_SYNCOBJ_RESET) {
      const so = find(file, s.handle);
      if (so) toReset.push(so);
    }
  }
  return toReset;
}

/** msm_parse_post_deps: the out-syncobjs, looked up now, signalled after the push. */
function parsePostDeps(file: DrmFile, args: DrmVgpuSubmit): PostDep[] | number {
  const outs = copyArray(args.out_syncobjs, args.nr_out_syncobjs, drm_vgpu_submit_syncobj);
  if (!outs) return -EFAULT;
  const post: PostDep[] = [];
  for (const s of outs) {
    if (s.flags !== 0) return -EINVAL;
    // msm_syncobj_parse_post_deps: an unknown handle is -EINVAL here.
    const so = find(file, s.handle);
    if (!so) return -EINVAL;
    post.push({ syncobj: so, point: s.point });
  }
  return post;
}

/** submit_lookup_objects: every bo's flags, then every fd (-EBADF not open, -EINVAL not a dma-buf). */
function lookupObjects(proc: Process, args: DrmVgpuSubmit): SubmitBufs | number {
  const bos = copyArray(args.bos, args.nr_bos, drm_vgpu_submit_bo);
  if (!bos) return -EFAULT;
  // At least one of READ and WRITE, nothing else (msm's MANDATORY_FLAGS).
  for (const b of bos) if ((b.flags & ~VGPU_BO_FLAGS) !== 0 || (b.flags & VGPU_BO_FLAGS) === 0) return -EINVAL;
  // dma_buf_get: -EBADF for an fd that is not open, -EINVAL for one that
  // is not a dma-buf. A buffer named twice counts once, flags united.
  const bufs: SubmitBufs = new Map();
  for (const b of bos) {
    const f = proc.fget(b.fd);
    if (!f) return -EBADF;
    const buf = dmaBufFromFile(f);
    if (!buf) return -EINVAL;
    bufs.set(buf, (bufs.get(buf) ?? 0) | b.flags);
  }
  return bufs;
}

/**
 * submit_fence_sync: the implicit dependencies (drm_sched_job_add_implicit_dependencies,
 * unless NO_IMPLICIT) and a fence slot reserved in every buffer.
 */
function fenceSync(bufs: SubmitBufs, deps: VgpuDeps, noImplicit: boolean): number {
  if (!noImplicit) {
    for (const [buf, bf] of bufs) {
      for (const f of getFences(buf.resv, usageRw((bf & VGPU_BO_WRITE) !== 0))) addDependency(deps, f);
    }
  }
  for (const buf of bufs.keys()) {
    const r = reserveFences(buf.resv, 1);
    if (r < 0) return r;
  }
  return 0;
}

/** drm_sched_job_arm: the job and its fence exist; the file counts it in flight until it retires. */
function armJob(v: VgpuFile, proc: Process, args: DrmVgpuSubmit, ring: VgpuRing, bufs: SubmitBufs, deps: VgpuDeps): VgpuJob {
  const jobBos: VgpuJobBo[] = [];
  for (const [buf, bf] of bufs) {
    jobBos.push({ buf: buf.id, access: bf & VGPU_BO_WRITE ? 'write' : 'read', size: buf.size, pages: buf.pages });
  }
  const label = truncateName(args.label) || proc.comm;
  const job = jobCreate(v.kernel.vgpu.sched, ring, { pid: proc.pid, label, durationNs: args.duration_ns, bos: jobBos }, deps);
  v.inflight++;
  job.onRetire = () => {
    v.inflight--;
    maybeFreePageTable(v);
  };
  return job;
}

/** submit_attach_object_fences: WRITE or READ as the job uses the buffer; BOOKKEEP when explicitly synced. */
function attachObjectFences(bufs: SubmitBufs, fence: DmaFence, noImplicit: boolean): void {
  for (const [buf, bf] of bufs) {
    const usage = noImplicit ? DmaResvUsage.BOOKKEEP : bf & VGPU_BO_WRITE ? DmaResvUsage.WRITE : DmaResvUsage.READ;
    addFence(buf.resv, fence, usage);
  }
}

/** msm_reset_syncobjs, then msm_process_post_deps: the out-syncobjs get the job's fence. */
function postDeps(proc: Process, toReset: InSyncobjs, post: readonly PostDep[], fence: DmaFence): void {
  for (const so of toReset) replaceFence(so, null, proc.pid);
  for (const p of post) {
    if (p.point === 0n) replaceFence(p.syncobj, fence, proc.pid);
    else addPoint(p.syncobj, fence, p.point, proc.pid);
  }
}

/** DRM_IOCTL_VGPU_RING_NEW (MSM_SUBMITQUEUE_NEW): a ring of one's own; EXTERNAL: run by oneself. */
function vgpuRingNew(file: DrmFile, _proc: Process, args: StructOf<typeof drm_vgpu_ring_new>): number {
  if ((args.flags & ~VGPU_RING_FLAGS) !== 0) return -EINVAL;
  const name = truncateName(args.name);
  if (name === '') return -EINVAL;
  const v = vgpuFile(file);
  const ring = ringCreate(file.kernel.vgpu.sched, name, v);
  if (typeof ring === 'number') return ring;
  if (args.flags & VGPU_RING_EXTERNAL) externalRingInit(ring);
  v.rings.add(ring);
  args.ring = ring.id;
  return 0;
}

/** DRM_IOCTL_VGPU_RING_QUERY: the id of a shared ring, or of one's own, by name. */
function vgpuRingQuery(file: DrmFile, _proc: Process, args: StructOf<typeof drm_vgpu_ring_query>): number {
  if (args.pad !== 0) return -EINVAL;
  const v = vgpuFile(file);
  const ring = file.kernel.vgpu.sched.byName.get(truncateName(args.name));
  if (!ring || (ring.owner !== null && ring.owner !== v)) return -ENOENT;
  args.ring = ring.id;
  return 0;
}

/** DRM_IOCTL_VGPU_RING_CLOSE (MSM_SUBMITQUEUE_CLOSE): only one's own rings. */
function vgpuRingClose(file: DrmFile, _proc: Process, args: StructOf<typeof drm_vgpu_ring_close>): number {
  if (args.pad !== 0) return -EINVAL;
  const v = vgpuFile(file);
  const sched = file.kernel.vgpu.sched;
  const ring = sched.rings.get(args.ring);
  if (!ring || ring.closed || ring.owner !== v) return -ENOENT;
  closeRing(sched, ring);
  v.rings.delete(ring);
  return 0;
}

export const VGPU_IOCTLS: IoctlDesc<DrmFile>[] = [
  structIoctl(DRM_IOCTL_VGPU_SUBMIT, drm_vgpu_submit, (file, proc, arg) => vgpuSubmit(file, proc, arg as DrmVgpuSubmit)),
  structIoctl(DRM_IOCTL_VGPU_RING_NEW, drm_vgpu_ring_new, vgpuRingNew),
  structIoctl(DRM_IOCTL_VGPU_RING_QUERY, drm_vgpu_ring_query, vgpuRingQuery),
  structIoctl(DRM_IOCTL_VGPU_RING_CLOSE, drm_vgpu_ring_close, vgpuRingClose),
  structIoctl(DRM_IOCTL_VGPU_JOB_WAIT, drm_vgpu_job_wait, (file, _proc, arg) =>
    jobWaitIoctl(file.kernel.vgpu.sched, vgpuFile(file), arg),
  ),
  structIoctl(DRM_IOCTL_VGPU_JOB_DONE, drm_vgpu_job_done, (file, _proc, arg) =>
    jobDoneIoctl(file.kernel.vgpu.sched, vgpuFile(file), arg),
  ),
];

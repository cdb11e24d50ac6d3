/**
 * The vgpu's job scheduler, after drivers/gpu/drm/scheduler (drm_sched):
 * rings (a drm_gpu_scheduler with its one entity), jobs with dependency
 * fences, engines that execute them, and the timeout handler.
 *
 * - Each ring is one fence context: its job fences are driver "vgpu",
 *   timeline = the ring's name, seqnos 1, 2, 3, ... in submission order.
 * - Jobs on one ring run one at a time, in order. A job becomes runnable
 *   when every dependency has signaled (fence callbacks, never polling);
 *   the ring starts its head job once that job is runnable.
 * - A dependency that signaled with an error does not cancel the job: it
 *   runs anyway, as drm_sched does for ordinary jobs (only a guilty context
 *   or a killed entity gets -ECANCELED there). One client's GPU hang thus
 *   does not stop a compositor that waited on its fence.
 * - A started job goes to the ring's engine: the ring's own (an external
 *   ring's, vgpu-external.ts), else one attached to its name (the
 *   display's), else the simulated engine, which completes it after its
 *   modelled duration on the injected clock. An external engine is told to
 *   execute it and its owner reports completion through completeJob.
 * - A job still running jobTimeoutNs after it started is a hang
 *   (drm_sched_job_timedout): its fence gets -ETIMEDOUT, signals, and the
 *   ring goes on with the next job. A late completion of it is ignored.
 *
 * This module needs only dma-fence and the clock; the submit ioctl
 * (vgpu.ts) gathers dependencies and buffers and hands jobs over here.
 */
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceOps } from './dma-fence';
import type { KernelCore } from './core';
import { EEXIST, EINVAL, ENOENT, ETIMEDOUT, MAX_ERRNO } from './errno';
import type { JobBoAccess, JobEngineKind, KernelEvent } from './events';

export type VgpuAccess = 'read' | 'write';

/** A buffer as a job sees it: which one, how it is accessed, its pages. */
export interface VgpuJobBo {
  /** The dma-buf's id. */
  readonly buf: number;
  /** 'write' covers read-write. */
  readonly access: VgpuAccess;
  readonly size: bigint;
  /** The physical pages backing the buffer when the job was submitted. */
  readonly pages: readonly number[];
}

/** What an engine is told about a job it executes (plain data). */
export interface VgpuJobView {
  readonly id: number;
  readonly label: string;
  /** The ring's name. */
  readonly ring: string;
  /** The submitting process. */
  readonly pid: number;
  /** Id of the job's fence (as in fence.* events). */
  readonly fence: number;
  readonly seqno: bigint;
  /** Modelled GPU time. */
  readonly durationNs: bigint;
  readonly bos: readonly VgpuJobBo[];
}

/**
 * Executes jobs of a ring. `execute` is called once per job when it
 * starts; the engine's owner later calls completeJob(job.id, error?).
 * `timedOut` (optional) tells it the job was declared hung, so it can stop
 * the work; a completion after that is ignored.
 */
export interface VgpuEngine {
  execute(job: VgpuJobView): void;
  timedOut?(job: VgpuJobView): void;
}

export type VgpuJobState = 'waiting' | 'runnable' | 'running' | 'done';

export interface VgpuJob {
  readonly view: VgpuJobView;
  readonly ring: VgpuRing;
  /** The "finished" fence: what resvs, sync_files and syncobjs get. */
  readonly fence: DmaFence;
  /** Dependencies, one per fence context (drm_sched_job_add_dependency). */
  readonly deps: readonly DmaFence[];
  /** Dependencies not signaled yet. */
  pending: number;
  state: VgpuJobState;
  /** The engine running it (while running). */
  engine: VgpuEngine | null;
  queuedAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  /** The simulated engine's completion timer, cancelled if the job hangs. */
  cancelTimers: (() => void)[];
  /** Driver hook run after the job's fence signaled (retire). */
  onRetire: ((job: VgpuJob) => void) | null;
  /** The bos as job events carry them, built once on first use. */
  eventBos: readonly JobBoAccess[] | null;
}

export interface VgpuRing {
  readonly id: number;
  readonly name: string;
  /** The DRM file that created it; null for kernel-wide rings such as "gfx". */
  readonly owner: object | null;
  readonly context: bigint;
  readonly ops: DmaFenceOps;
  /** Last seqno handed out. */
  seqno: bigint;
  /** Pushed, unfinished jobs in submission order; queue[0] runs first. */
  readonly queue: VgpuJob[];
  running: VgpuJob | null;
  /** Closed rings take no new jobs and disappear once drained. */
  closed: boolean;
  submitted: number;
  completed: number;
  hangs: number;
  /** Summed run time of finished jobs. */
  busyNs: bigint;
  /** The timeout timer is armed. */
  tdrArmed: boolean;
  /** Its own engine (VGPU_RING_EXTERNAL: its creator's), before any attached by name. */
  engine: VgpuEngine | null;
}

export interface VgpuRingStats {
  readonly id: number;
  readonly name: string;
  /** Usable by every DRM file (not created by RING_NEW). */
  readonly shared: boolean;
  readonly closed: boolean;
  /** Jobs pushed and not finished (waiting, runnable or running). */
  readonly queued: number;
  /** Id of the running job, or null when idle. */
  readonly running: number | null;
  readonly submitted: number;
  readonly completed: number;
  readonly hangs: number;
  /** Time the ring's engine spent on jobs, including the running one so far. */
  readonly busyNs: bigint;
}

export interface VgpuSched {
  readonly core: KernelCore;
  readonly timeoutNs: bigint;
  /** Rings by id: open ones and closed ones still draining. */
  readonly rings: Map<number, VgpuRing>;
  /** Open rings by name (names are unique among open rings). */
  readonly byName: Map<string, VgpuRing>;
  /** Unfinished jobs by id. */
  readonly jobs: Map<number, VgpuJob>;
  /** External engines by ring name. */
  readonly engines: Map<string, VgpuEngine>;
  nextRingId: number;
}

/** The built-in engine: a job takes exactly its modelled duration. */
export const simulatedEngine: VgpuEngine = {
  execute() {
    // Driven by the scheduler itself (simulate()), which owns the timer.
  },
};

export function createSched(core: KernelCore, timeoutNs: bigint): VgpuSched {
  return { core, timeoutNs, rings: new Map(), byName: new Map(), jobs: new Map(), engines: new Map(), nextRingId: 0 };
}

/** A new ring with its own fence context, or -EEXIST if the name is taken. */
export function ringCreate(sched: VgpuSched, name: string, owner: object | null): VgpuRing | number {
  if (sched.byName.has(name)) return -EEXIST;
  const ring: VgpuRing = {
    id: sched.nextRingId++,
    name,
    owner,
    context: sched.core.contextAlloc(),
    ops: { driverName: 'vgpu', timelineName: () => name, use64bitSeqno: false },
    seqno: 0n,
    queue: [],
    running: null,
    closed: false,
    submitted: 0,
    completed: 0,
    hangs: 0,
    busyNs: 0n,
    tdrArmed: false,
    engine: null,
  };
  sched.rings.set(ring.id, ring);
  sched.byName.set(name, ring);
  return ring;
}

/**
 * Close a ring (drm_sched_entity_destroy, minus the kill): no new jobs;
 * jobs already pushed still run to completion, then the ring is gone.
 */
export function ringClose(sched: VgpuSched, ring: VgpuRing): void {
  if (ring.closed) return;
  ring.closed = true;
  if (sched.byName.get(ring.name) === ring) sched.byName.delete(ring.name);
  if (ring.queue.length === 0) sched.rings.delete(ring.id);
}

export function ringStats(sched: VgpuSched, ring: VgpuRing): VgpuRingStats {
  const run = ring.running;
  return {
    id: ring.id,
    name: ring.name,
    shared: ring.owner === null,
    closed: ring.closed,
    queued: ring.queue.length,
    running: run ? run.view.id : null,
    submitted: ring.submitted,
    completed: ring.completed,
    hangs: ring.hangs,
    busyNs: ring.busyNs + (run ? sched.core.now() - run.startedAt : 0n),
  };
}

/**
 * A job's dependency list while it is being built (drm_sched_job's
 * dependencies xarray), indexed by fence context.
 */
export interface VgpuDeps {
  readonly fences: DmaFence[];
  readonly byContext: Map<bigint, number>;
}

export function depsCreate(): VgpuDeps {
  return { fences: [], byContext: new Map() };
}

/**
 * drm_sched_job_add_dependency: keep at most one fence per context, the
 * later one, so the list scales with engines rather than buffers. Fences
 * already signaled are dropped at once (they could never hold the job).
 */
export function addDependency(deps: VgpuDeps, fence: DmaFence): void {
  if (dmaFence.isSignaled(fence)) return;
  const i = deps.byContext.get(fence.context);
  if (i === undefined) {
    deps.byContext.set(fence.context, deps.fences.length);
    deps.fences.push(fence);
    return;
  }
  const entry = deps.fences[i];
  if (entry && dmaFence.isLater(fence, entry)) deps.fences[i] = fence;
}

export interface VgpuJobParams {
  readonly pid: number;
  readonly label: string;
  readonly durationNs: bigint;
  readonly bos: readonly VgpuJobBo[];
}

/**
 * drm_sched_job_init + drm_sched_job_arm: a job with its fence (the next
 * seqno of the ring). Not queued yet: the caller attaches the fence where
 * it belongs (resvs, syncobjs, a sync_file) and then calls jobPush.
 */
export function jobCreate(sched: VgpuSched, ring: VgpuRing, params: VgpuJobParams, deps: VgpuDeps): VgpuJob {
  ring.seqno++;
  const fence = dmaFence.init(sched.core, ring.ops, ring.context, ring.seqno);
  const view: VgpuJobView = {
    id: sched.core.allocId(),
    label: params.label,
    ring: ring.name,
    pid: params.pid,
    fence: fence.id,
    seqno: ring.seqno,
    durationNs: params.durationNs,
    bos: params.bos,
  };
  return {
    view,
    ring,
    fence,
    deps: deps.fences.slice(),
    pending: 0,
    state: 'waiting',
    engine: null,
    queuedAt: 0n,
    startedAt: 0n,
    finishedAt: 0n,
    cancelTimers: [],
    onRetire: null,
    eventBos: null,
  };
}

type JobEvent = Extract<KernelEvent, { ring: string }>;
type JobEventType = JobEvent['type'];

/** How job events name an engine: the simulated one, the ring's own (a client's), or one attached by name (the display's). */
function engineKind(ring: VgpuRing, engine: VgpuEngine): JobEngineKind {
  if (engine === simulatedEngine) return 'simulated';
  return engine === ring.engine ? 'client' : 'display';
}

/** A job event; `engine` (on start and done) is the engine that ran it. */
function emitJob(sched: VgpuSched, job: VgpuJob, type: JobEventType, error = 0, engine: VgpuEngine | null = null): void {
  const core = sched.core;
  if (!core.tracing) return;
  const v = job.view;
  const ev: JobEvent = { type, t: core.now(), job: v.id, pid: v.pid, ring: v.ring, label: v.label, fence: v.fence };
  // Buffers where an observer needs them: at queue and start (without
  // pages, which would make every job event as big as its buffers).
  if (type === 'job.queued' || type === 'job.start') ev.bos = job.eventBos ??= v.bos.map((b) => ({ buf: b.buf, access: b.access }));
  if (engine) ev.engine = engineKind(job.ring, engine);
  if (error) ev.error = error;
  core.emit(ev);
}

/**
 * drm_sched_entity_push_job: queue the job on its ring and arm one
 * callback per unsignaled dependency. The ring starts it once it is at
 * the head and runnable, possibly before this returns.
 */
export function jobPush(sched: VgpuSched, job: VgpuJob): void {
  const ring = job.ring;
  job.queuedAt = sched.core.now();
  ring.queue.push(job);
  ring.submitted++;
  sched.jobs.set(job.view.id, job);
  emitJob(sched, job, 'job.queued');
  // One extra count held while arming, dropped by the last call below, so
  // the job turns runnable exactly once, when the last dependency signals.
  job.pending = 1;
  for (const dep of job.deps) {
    const cb = { func: () => depSignaled(sched, job) };
    if (dmaFence.addCallback(dep, cb) === 0) job.pending++;
  }
  depSignaled(sched, job);
}

function depSignaled(sched: VgpuSched, job: VgpuJob): void {
  if (--job.pending > 0 || job.state !== 'waiting') return;
  job.state = 'runnable';
  emitJob(sched, job, 'job.runnable');
  kick(sched, job.ring);
}

/** drm_sched_run_job_work: start the head job if the ring is idle and it is runnable. */
function kick(sched: VgpuSched, ring: VgpuRing): void {
  if (ring.running) return;
  const head = ring.queue[0];
  if (!head || head.state !== 'runnable') return;
  start(sched, head);
}

function start(sched: VgpuSched, job: VgpuJob): void {
  const core = sched.core;
  const ring = job.ring;
  job.state = 'running';
  job.startedAt = core.now();
  ring.running = job;
  const engine = ring.engine ?? sched.engines.get(ring.name) ?? simulatedEngine;
  job.engine = engine;
  emitJob(sched, job, 'job.start', 0, engine);
  if (!ring.tdrArmed) armTdr(sched, ring, job.startedAt + sched.timeoutNs);
  if (engine === simulatedEngine) simulate(sched, job);
  else engine.execute(job.view);
}

/**
 * The ring's timeout timer (drm_sched's work_tdr): one per ring, armed
 * for the running job's deadline and moved on to the next job's when it
 * fires early, never cancelled, so the clock holds one timer per ring
 * rather than one per job.
 */
function armTdr(sched: VgpuSched, ring: VgpuRing, at: bigint): void {
  ring.tdrArmed = true;
  sched.core.clock.setTimer(at, () => tdrFire(sched, ring));
}

function tdrFire(sched: VgpuSched, ring: VgpuRing): void {
  ring.tdrArmed = false;
  const job = ring.running;
  if (!job) return;
  const now = sched.core.now();
  const deadline = job.startedAt + sched.timeoutNs;
  if (deadline > now) return armTdr(sched, ring, deadline);
  // A simulated job due exactly now ran for the timeout, not past it.
  if (job.engine === simulatedEngine && job.startedAt + job.view.durationNs <= now) return finish(sched, job, 0);
  timedOut(sched, job);
}

function simulate(sched: VgpuSched, job: VgpuJob): void {
  const clock = sched.core.clock;
  const end = job.startedAt + job.view.durationNs;
  const at = end > clock.now() ? end : clock.now();
  job.cancelTimers.push(clock.setTimer(at, () => finish(sched, job, 0)));
}

/** drm_sched_job_timedout: the job hung; fail its fence and move on. */
function timedOut(sched: VgpuSched, job: VgpuJob): void {
  if (job.state !== 'running') return;
  const engine = job.engine;
  job.ring.hangs++;
  finish(sched, job, -ETIMEDOUT);
  engine?.timedOut?.(job.view);
}

/**
 * The job is over (done, failed or hung): set the error, retire it from
 * its ring, report it, signal its fence, start the next job.
 */
function finish(sched: VgpuSched, job: VgpuJob, error: number): void {
  if (job.state !== 'running') return;
  const core = sched.core;
  const ring = job.ring;
  const engine = job.engine;
  job.state = 'done';
  job.engine = null;
  for (const cancel of job.cancelTimers.splice(0)) cancel();
  job.finishedAt = core.now();
  ring.running = null;
  if (ring.queue[0] !== job) throw new Error(`vgpu: ring ${ring.name} finished job ${job.view.id} out of order`);
  ring.queue.shift();
  ring.completed++;
  ring.busyNs += job.finishedAt - job.startedAt;
  sched.jobs.delete(job.view.id);
  if (error) dmaFence.setError(job.fence, error);
  // Reported before the fence signals: whatever the signal unblocks
  // (another job on the buffer, a waiting client) comes after the access
  // ended, and an observer must see it in that order.
  emitJob(sched, job, 'job.done', error, engine);
  dmaFence.signal(job.fence);
  job.onRetire?.(job);
  if (ring.closed && ring.queue.length === 0) sched.rings.delete(ring.id);
  else kick(sched, ring);
}

/**
 * An external engine reports that a job it executed is done, with a
 * negative errno if it failed. -ENOENT when no such job is running on an
 * external engine (unknown, finished, declared hung, or simulated);
 * -EINVAL for an error that is not a negative errno.
 */
export function completeJob(sched: VgpuSched, jobId: number, error = 0): number {
  const job = sched.jobs.get(jobId);
  if (!job || job.state !== 'running' || !job.engine || job.engine === simulatedEngine) return -ENOENT;
  if (!Number.isInteger(error) || error > 0 || error < -MAX_ERRNO) return -EINVAL;
  finish(sched, job, error);
  return 0;
}

/**
 * Route the ring named `ringName` (now or once created) to `engine` from
 * its next job on; a job already running stays with its engine.
 */
export function attachEngine(sched: VgpuSched, ringName: string, engine: VgpuEngine): void {
  sched.engines.set(ringName, engine);
}

/**
 * Back to the simulated engine. A job the detached engine is running is
 * handed to the simulated one, which finishes it at its start + duration
 * (at once if that has passed), so a vanished browser cannot wedge a ring
 * for longer than the work would have taken.
 */
export function detachEngine(sched: VgpuSched, ringName: string): void {
  const engine = sched.engines.get(ringName);
  if (!engine) return;
  sched.engines.delete(ringName);
  for (const ring of sched.rings.values()) {
    if (ring.name === ringName) handOverToSimulated(sched, ring, engine);
  }
}

/**
 * The ring's own engine is gone (its ring closed, its file released):
 * as detachEngine, the running job and the rest finish on the simulated
 * engine at start + duration.
 */
export function clearRingEngine(sched: VgpuSched, ring: VgpuRing): void {
  const engine = ring.engine;
  if (!engine) return;
  ring.engine = null;
  handOverToSimulated(sched, ring, engine);
}

function handOverToSimulated(sched: VgpuSched, ring: VgpuRing, engine: VgpuEngine): void {
  const job = ring.running;
  if (job && job.engine === engine) {
    job.engine = simulatedEngine;
    simulate(sched, job);
  }
}

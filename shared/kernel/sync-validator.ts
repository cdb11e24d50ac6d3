/**
 * The sync validator: an observer beside the kernel that knows which GPU
 * job reads or writes which buffer, and which physical pages, while it
 * runs, and reports every access that synchronization should have
 * prevented. It watches the vgpu's job events only; it never changes the
 * kernel's behaviour.
 *
 * The rule for buffers is the one implicit sync enforces: an access must
 * not start before every conflicting access *submitted earlier* to the
 * same buffer has finished (a write conflicts with reads and writes, a read
 * with writes). Whether the ordering came from implicit sync, an in-fence,
 * a syncobj point or a CPU wait does not matter; a job that starts while
 * an earlier conflicting job is still queued or running was not ordered
 * after it by anything:
 *
 *   - read-during-write: a read starts while an earlier writer is unfinished;
 *   - write-during-read: a write starts while an earlier reader is unfinished;
 *   - write-during-write: a write starts while an earlier writer is unfinished.
 *
 * Memory: at submission the validator takes each buffer's pages from the
 * vgpu (kernel.vgpu.job) and notes the first page's generation (the page
 * pool bumps it on every allocation). If, when the job starts or ends, a
 * page no longer backs the job's buffer, the GPU accessed memory that was
 * freed, maybe reused, under it: use-after-free, reported with the pages'
 * new owner ("page table" is the dangerous one: König's elephant). A
 * dma-buf gives all its pages back at once, so while the first page is
 * still the buffer's (same owner buffer, same generation) so are the
 * others: the common case costs O(1) per buffer, whatever its size. When
 * a buffer with unfinished jobs is freed, its pages are watched, and the
 * allocation that takes one of them is reported at once for each running
 * job (the live moment König described: a page table now sits where the
 * shader is writing); queued jobs are reported when they start.
 *
 * Each hazard is kept in `hazards` and emitted as a 'hazard' kernel event,
 * so the trace and the timeline show it with its explanation.
 */
import type { KernelCore } from './core';
import type { JobBoAccess, KernelEvent } from './events';
import type { Kernel } from './kernel';
import { pageBuf, pageGeneration, pageOwner, type PagePool } from './page-pool';

export type Hazard = Extract<KernelEvent, { type: 'hazard' }>;
export type HazardKind = Hazard['kind'];

type JobEvent = Extract<KernelEvent, { ring: string }>;

interface TrackedBo extends JobBoAccess {
  /** The buffer's pages when the job was submitted ([] if unknown). */
  readonly pages: readonly number[];
  /** Generation of pages[0] then. */
  readonly gen0: number;
  /** Already reported as use-after-free for this job. */
  reported: boolean;
}

interface TrackedJob {
  readonly id: number;
  readonly label: string;
  readonly ring: string;
  /** By buffer id. */
  readonly bos: ReadonlyMap<number, TrackedBo>;
  running: boolean;
}

function describe(job: TrackedJob): string {
  return `job ${job.id} "${job.label}" (ring ${job.ring})`;
}

function pageList(pages: readonly number[]): string {
  const shown = pages.slice(0, 8).join(', ');
  return pages.length > 8 ? `${shown}, ... (${pages.length} pages)` : shown;
}

export class SyncValidator {
  /** Every hazard seen, oldest first. */
  readonly hazards: Hazard[] = [];
  private readonly core: KernelCore;
  private readonly kernel: Kernel;
  private readonly pool: PagePool;
  private readonly jobs = new Map<number, TrackedJob>();
  /** Unfinished jobs per buffer id, in submission order. */
  private readonly byBuf = new Map<number, TrackedJob[]>();
  /** Freed pages of buffers with unfinished jobs: page -> buffer id. */
  private readonly watched = new Map<number, number>();
  private readonly watchedByBuf = new Map<number, readonly number[]>();
  private readonly unsubscribe: () => void;

  constructor(kernel: Kernel) {
    this.core = kernel.core;
    this.kernel = kernel;
    this.pool = kernel.pages;
    this.unsubscribe = kernel.subscribe((ev) => this.onEvent(ev));
  }

  /** Stop observing. */
  dispose(): void {
    this.unsubscribe();
  }

  /** Hazards of one kind. */
  ofKind(kind: HazardKind): Hazard[] {
    return this.hazards.filter((h) => h.kind === kind);
  }

  private onEvent(ev: KernelEvent): void {
    switch (ev.type) {
      case 'job.queued':
        this.track(ev);
        break;
      case 'job.start':
        this.started(ev);
        break;
      case 'job.done':
        this.done(ev);
        break;
      case 'pages.free':
        if (ev.buf !== undefined) this.freed(ev.buf, ev.pages);
        break;
      case 'pages.alloc':
        if (this.watched.size > 0) this.reused(ev.pages);
        break;
      default:
        break;
    }
  }

  /**
   * A buffer's pages went back to the pool. If jobs that use it are still
   * unfinished, watch those pages: the moment one is handed out again, a
   * running job is accessing someone else's memory.
   */
  private freed(buf: number, pages: readonly number[]): void {
    if (!this.byBuf.has(buf)) return;
    for (const page of pages) this.watched.set(page, buf);
    this.watchedByBuf.set(buf, pages);
  }

  /** Pages were allocated: report running jobs whose freed buffer pages they were. */
  private reused(pages: readonly number[]): void {
    const bufs = new Set<number>();
    for (const page of pages) {
      const buf = this.watched.get(page);
      if (buf === undefined) continue;
      this.watched.delete(page);
      bufs.add(buf);
    }
    for (const buf of bufs) {
      for (const job of this.byBuf.get(buf) ?? []) {
        const bo = job.bos.get(buf);
        // Queued jobs are reported when they start and touch the pages.
        if (bo && job.running) this.checkPages(job, bo, 'running');
      }
    }
  }

  private unwatch(buf: number): void {
    const pages = this.watchedByBuf.get(buf);
    if (!pages) return;
    this.watchedByBuf.delete(buf);
    for (const page of pages) if (this.watched.get(page) === buf) this.watched.delete(page);
  }

  private track(ev: JobEvent): TrackedJob {
    // The vgpu's own view has the pages; the event only buffers and access.
    const src: readonly (JobBoAccess & { pages?: readonly number[] })[] = this.kernel.vgpu.job(ev.job)?.bos ?? ev.bos ?? [];
    const bos = new Map<number, TrackedBo>();
    for (const bo of src) {
      const pages = bo.pages ?? [];
      const first = pages[0];
      const gen0 = first === undefined ? 0 : pageGeneration(this.pool, first);
      bos.set(bo.buf, { buf: bo.buf, access: bo.access, pages, gen0, reported: false });
    }
    const job: TrackedJob = { id: ev.job, label: ev.label, ring: ev.ring, bos, running: false };
    this.jobs.set(job.id, job);
    for (const bo of bos.values()) {
      let list = this.byBuf.get(bo.buf);
      if (!list) this.byBuf.set(bo.buf, (list = []));
      list.push(job);
    }
    return job;
  }

  private started(ev: JobEvent): void {
    // A job queued before we subscribed is tracked from its start.
    const job = this.jobs.get(ev.job) ?? this.track(ev);
    job.running = true;
    for (const bo of job.bos.values()) {
      for (const other of this.byBuf.get(bo.buf) ?? []) {
        if (other.id >= job.id) continue;
        const otherBo = other.bos.get(bo.buf);
        if (!otherBo || (bo.access === 'read' && otherBo.access === 'read')) continue;
        this.conflict(job, bo, other, otherBo.access);
      }
      this.checkPages(job, bo, 'start');
    }
  }

  private done(ev: JobEvent): void {
    const job = this.jobs.get(ev.job);
    if (!job) return;
    for (const bo of job.bos.values()) this.checkPages(job, bo, 'end');
    this.jobs.delete(job.id);
    for (const bo of job.bos.values()) {
      const list = this.byBuf.get(bo.buf);
      if (!list) continue;
      const i = list.indexOf(job);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) {
        this.byBuf.delete(bo.buf);
        this.unwatch(bo.buf);
      }
    }
  }

  private conflict(job: TrackedJob, bo: TrackedBo, other: TrackedJob, otherAccess: 'read' | 'write'): void {
    const kind: HazardKind =
      bo.access === 'read' ? 'read-during-write' : otherAccess === 'read' ? 'write-during-read' : 'write-during-write';
    const verb = bo.access === 'read' ? 'reading' : 'writing';
    const otherVerb = otherAccess === 'read' ? 'reading' : 'writing';
    const state = other.running ? 'still running' : 'not even started';
    const consequence =
      kind === 'read-during-write'
        ? 'the read may see a half-written or stale buffer'
        : kind === 'write-during-read'
          ? 'the reader may see the new contents half-drawn'
          : 'the two writes race and the result is undefined';
    const explanation =
      `${describe(job)} started ${verb} buffer ${bo.buf} while ${describe(other)}, submitted earlier ` +
      `for ${otherVerb} it, was ${state}: ${consequence}. Nothing made the new job wait for the earlier ` +
      `one's fence (implicit sync skipped or blind to it, and no in-fence or syncobj point covering it).`;
    this.report({ kind, job, buf: bo.buf, other: `job ${other.id} "${other.label}"`, explanation });
  }

  private checkPages(job: TrackedJob, bo: TrackedBo, when: 'start' | 'running' | 'end'): void {
    const first = bo.pages[0];
    if (bo.reported || first === undefined) return;
    if (pageBuf(this.pool, first) === bo.buf && pageGeneration(this.pool, first) === bo.gen0) return;
    const lost: number[] = [];
    /** Pages no longer the buffer's, by their new owner (undefined: free). */
    const byOwner = new Map<string | undefined, number[]>();
    bo.pages.forEach((page) => {
      if (pageBuf(this.pool, page) === bo.buf) return;
      lost.push(page);
      const owner = pageOwner(this.pool, page);
      const list = byOwner.get(owner);
      if (list) list.push(page);
      else byOwner.set(owner, [page]);
    });
    if (lost.length === 0) return;
    bo.reported = true;
    const owners = [...byOwner.keys()].filter((o): o is string => o !== undefined);
    const parts = [...byOwner].map(([owner, pages]) =>
      owner === undefined ? `page(s) ${pageList(pages)} are free` : `page(s) ${pageList(pages)} now belong to "${owner}"`,
    );
    const write = bo.access === 'write';
    const verb = { start: write ? 'started writing' : 'started reading', running: write ? 'is writing' : 'is reading', end: write ? 'wrote' : 'read' }[when];
    const whose = owners.length > 0 ? `owned by ${owners.map((o) => `"${o}"`).join(', ')}` : 'free';
    const harm = write
      ? `the GPU wrote into memory that is no longer the buffer's (now ${whose})`
      : `the GPU read memory that is no longer the buffer's (now ${whose})`;
    const explanation =
      `${describe(job)} ${verb} buffer ${bo.buf} after its memory was freed under it: ${parts.join('; ')}. ` +
      `${harm[0]?.toUpperCase()}${harm.slice(1)}. The buffer was released while this job's fence was still ` +
      `pending: nothing in its reservation object kept the pages alive (the hole König's 2020 NAK is about).`;
    const other = owners.length > 0 ? owners.join(', ') : 'free memory';
    this.report({ kind: 'use-after-free', job, buf: bo.buf, other, pages: lost, explanation });
  }

  private report(h: {
    kind: HazardKind;
    job: TrackedJob;
    buf: number;
    other: string;
    pages?: number[];
    explanation: string;
  }): void {
    const base = {
      type: 'hazard' as const,
      t: this.core.now(),
      kind: h.kind,
      job: h.job.id,
      label: h.job.label,
      buf: h.buf,
      other: h.other,
      explanation: h.explanation,
    };
    const hazard: Hazard = h.pages ? { ...base, pages: h.pages } : base;
    this.hazards.push(hazard);
    if (this.core.tracing) this.core.emit(hazard);
  }
}

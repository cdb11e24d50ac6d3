/**
 * Kernel invariants the fuzzers check after every step, on the in-process
 * Kernel itself (not through the channel):
 *
 * - fd tables: each process's fdCount is the number of its installed fds;
 *   every installed file holds at least as many references as fds point
 *   at it, across all processes (a file with refs 0 in a table is a
 *   use-after-free);
 * - pages: every page handed out is either owned or on the free stack,
 *   never both, never twice;
 * - add-only import: DMA_BUF_IOCTL_IMPORT_SYNC_FILE never replaced or
 *   dropped a fence (the kernel's dmabuf.import event says so);
 * - timeline QUERY monotonic: a syncobj's QUERY never goes back, checked
 *   only across steps that added points in order (an unordered point or a
 *   binary replace may legitimately pull it back: syncobj-timeline.test.ts).
 */
import type { Kernel, KFile, Process } from './deps';
import { freeCount, uapi } from './deps';

export interface Snapshot {
  readonly fds: number;
  readonly processes: number;
  readonly pagesInUse: number;
}

export function snapshot(kernel: Kernel): Snapshot {
  let fds = 0;
  for (const p of kernel.processes().values()) fds += p.fdCount;
  return { fds, processes: kernel.processes().size, pagesInUse: kernel.pages.total - freeCount(kernel.pages) };
}

function processFiles(p: Process): { count: number; files: KFile[] } {
  const files: KFile[] = [];
  // fget answers for any fd; a process never holds fds past its limit.
  for (let fd = 0; fd < p.maxFds && files.length < p.fdCount + 1; fd++) {
    const f = p.fget(fd);
    if (f) files.push(f);
  }
  return { count: files.length, files };
}

/** fd tables and file references; returns what is wrong (empty when sound). */
export function checkFdTables(kernel: Kernel): string[] {
  const bad: string[] = [];
  const uses = new Map<KFile, number>();
  for (const p of kernel.processes().values()) {
    if (p.maxFds > 65_536) continue; // the compositor's raised limit: too many slots to scan per step
    const { count, files } = processFiles(p);
    if (count !== p.fdCount) bad.push(`pid ${p.pid}: fdCount ${p.fdCount} but ${count} fds installed`);
    for (const f of files) uses.set(f, (uses.get(f) ?? 0) + 1);
  }
  for (const [f, n] of uses) {
    if (f.refs < n) bad.push(`file ${f.ops.name}#${f.id}: ${n} fds but refs ${f.refs}`);
  }
  return bad;
}

/** The page pool's bookkeeping. */
export function checkPages(kernel: Kernel): string[] {
  const pool = kernel.pages;
  const bad: string[] = [];
  if (pool.nextFresh > pool.total) bad.push(`nextFresh ${pool.nextFresh} past ${pool.total}`);
  const free = new Set<number>();
  for (const p of pool.freeStack) {
    if (free.has(p)) bad.push(`page ${p} twice on the free stack`);
    free.add(p);
    if (pool.owners[p] !== undefined) bad.push(`free page ${p} has owner ${pool.owners[p]}`);
  }
  let owned = 0;
  for (let p = 0; p < pool.nextFresh; p++) if (pool.owners[p] !== undefined) owned++;
  if (owned + free.size !== pool.nextFresh) bad.push(`${owned} owned + ${free.size} free pages != ${pool.nextFresh} handed out`);
  return bad;
}

/** Watches the kernel's events for the properties that are about history. */
export class KernelWatch {
  readonly violations: string[] = [];
  /** Something this step may legitimately move a QUERY back. */
  private unordered = false;
  private readonly maxPoint = new Map<number, bigint>();
  private readonly query = new Map<string, bigint>();
  readonly unsubscribe: () => void;

  constructor(private readonly kernel: Kernel) {
    this.unsubscribe = kernel.subscribe((ev) => {
      if (ev.type === 'dmabuf.import' && (ev.replace || (ev.dropped?.length ?? 0) > 0)) {
        this.violations.push(`import into buf ${ev.buf} replaced fences (dropped ${String(ev.dropped)})`);
      }
      if (ev.type === 'syncobj.point') {
        const prev = this.maxPoint.get(ev.syncobj) ?? 0n;
        if (ev.point <= prev) this.unordered = true;
        else this.maxPoint.set(ev.syncobj, ev.point);
      }
      if (ev.type === 'syncobj.replace') this.unordered = true;
    });
  }

  /**
   * QUERY every (drm fd, handle) given; a value below the last one seen is
   * a violation unless this step was unordered.
   */
  checkQueries(proc: Process, handles: Iterable<{ fd: number; handle: number }>): void {
    for (const { fd, handle } of handles) {
      const arg = { handles: [handle], points: [0n], count_handles: 1, flags: 0 };
      const r = proc.ioctl(fd, uapi.DRM_IOCTL_SYNCOBJ_QUERY, arg);
      if (r !== 0) continue; // destroyed or never valid: nothing to compare
      const key = `${proc.pid}:${fd}:${handle}`;
      const now = arg.points[0] ?? 0n;
      const before = this.query.get(key);
      if (before !== undefined && now < before && !this.unordered) {
        this.violations.push(`QUERY of pid ${proc.pid} handle ${handle} went back from ${before} to ${now}`);
      }
      this.query.set(key, now);
    }
    this.unordered = false;
  }

  /** All invariants now, plus what the watch saw. */
  check(): string[] {
    return [...checkFdTables(this.kernel), ...checkPages(this.kernel), ...this.violations.splice(0)];
  }
}

/**
 * The kernel model's benchmark cases (issue 2's `npm run bench:kernel`):
 * what each row measures, built on the same calls a program makes.
 *
 * Operations go through Process ioctls on real fds wherever Linux has an
 * ioctl for them (sw_sync, SYNC_IOC_MERGE, DMA_BUF_IOCTL_IMPORT/EXPORT_SYNC_FILE
 * on a dma-heap buffer, DRM syncobj timeline ioctls). Only dma_fence_signal,
 * which has no ioctl, is called directly. Setup that would otherwise cost
 * more than the operation (thousands of fences from distinct contexts
 * already attached to a buffer) uses the in-kernel API a driver uses:
 * "driver fences" with their own context each and no ops->signaled hook,
 * like a GPU's hardware fences, added with dma_resv_reserve_fences +
 * dma_resv_add_fence. Time comes from a ManualClock; no real timers run.
 */
import { ManualClock } from '../shared/kernel/clock';
import type { KernelCore } from '../shared/kernel/core';
import * as dmaFence from '../shared/kernel/dma-fence';
import type { DmaFence, DmaFenceCb, DmaFenceOps } from '../shared/kernel/dma-fence';
import { dmaBufFromFile, type DmaBuf } from '../shared/kernel/dma-buf';
import * as dmaResv from '../shared/kernel/dma-resv';
import { DmaResvUsage } from '../shared/kernel/dma-resv';
import { merge as unwrapMerge } from '../shared/kernel/dma-fence-unwrap';
import { ETIME } from '../shared/kernel/errno';
import { Kernel } from '../shared/kernel/kernel';
import type { Process } from '../shared/kernel/process';
import { installSyncFile } from '../shared/kernel/sync-file';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_WRITE,
  DMA_HEAP_IOCTL_ALLOC,
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
  DRM_IOCTL_SYNCOBJ_QUERY,
  DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
  DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
  SYNC_IOC_MERGE,
} from '../shared/kernel/uapi';
import { timeNs, timeNsAsync, type BenchCase } from './harness';

export const SIZES = [10, 100, 1_000, 10_000] as const;

// ---- plumbing ----

interface Machine {
  readonly clock: ManualClock;
  readonly kernel: Kernel;
  readonly core: KernelCore;
  readonly p: Process;
}

function machine(): Machine {
  const clock = new ManualClock();
  const kernel = new Kernel({ clock, limits: { maxFds: 1 << 16 } });
  return { clock, kernel, core: kernel.core, p: kernel.spawn('bench') };
}

/** Every ioctl here is non-blocking except TIMELINE_WAIT; a failure is a broken benchmark. */
function ok(p: Process, fd: number, request: number, arg: unknown, what: string): void {
  const r = p.ioctl(fd, request, arg);
  if (typeof r !== 'number') throw new Error(`${what}: unexpectedly blocked`);
  if (r < 0) throw new Error(`${what} failed: ${r}`);
}

function closeOk(p: Process, fd: number): void {
  if (p.close(fd) !== 0) throw new Error(`close(${fd}) failed`);
}

/** A GPU-style fence: its own context, signalled by its driver, no ops->signaled poll. */
const driverOps: DmaFenceOps = { driverName: 'bench', timelineName: () => 'ring', use64bitSeqno: false };

function driverFence(core: KernelCore): DmaFence {
  return dmaFence.init(core, driverOps, core.contextAlloc(1), 1n);
}

function driverFences(core: KernelCore, n: number): DmaFence[] {
  const out: DmaFence[] = [];
  for (let i = 0; i < n; i++) out.push(driverFence(core));
  return out;
}

/** DMA_HEAP_IOCTL_ALLOC of one page; returns the buffer fd and its DmaBuf. */
function allocBuffer(m: Machine): { fd: number; buf: DmaBuf } {
  const heap = m.p.open('/dev/dma_heap/system');
  if (heap < 0) throw new Error(`open heap: ${heap}`);
  const data = { len: 4096n, fd: 0, fd_flags: 0, heap_flags: 0n };
  ok(m.p, heap, DMA_HEAP_IOCTL_ALLOC, data, 'DMA_HEAP_IOCTL_ALLOC');
  closeOk(m.p, heap);
  const buf = dmaBufFromFile(m.p.fget(data.fd));
  if (!buf) throw new Error('not a dma-buf');
  return { fd: data.fd, buf };
}

/** What a driver does when it attaches job fences: reserve, then add each. */
function attach(buf: DmaBuf, fences: readonly DmaFence[], usage: DmaResvUsage): void {
  if (fences.length === 0) return;
  if (dmaResv.reserveFences(buf.resv, fences.length) !== 0) throw new Error('reserve');
  for (const f of fences) dmaResv.addFence(buf.resv, f, usage);
}

/** A sync_file fd holding `fence` (the in-kernel sync_file_create + fd_install). */
function syncFileFd(m: Machine, fence: DmaFence): number {
  const fd = installSyncFile(m.p, fence);
  if (fd < 0) throw new Error(`installSyncFile: ${fd}`);
  return fd;
}

function mergeIoctl(p: Process, fd1: number, fd2: number): number {
  const data = { name: '', fd2, fence: -1, flags: 0, pad: 0 };
  ok(p, fd1, SYNC_IOC_MERGE, data, 'SYNC_IOC_MERGE');
  return data.fence;
}

/** open /dev/sw_sync and SW_SYNC_IOC_CREATE_FENCE at `value`: [timeline fd, sync_file fd]. */
function swSyncFence(p: Process, value: number): [number, number] {
  const tl = p.open('/dev/sw_sync');
  if (tl < 0) throw new Error(`open sw_sync: ${tl}`);
  const data = { value, name: 'pt', fence: -1 };
  ok(p, tl, SW_SYNC_IOC_CREATE_FENCE, data, 'SW_SYNC_IOC_CREATE_FENCE');
  return [tl, data.fence];
}

/** Samples per timed region for operations far below a microsecond. */
function batchFor(n: number, perItem: number): number {
  return Math.max(1, Math.ceil(perItem / n));
}

// ---- dma_fence ----

const signalCase: BenchCase = {
  id: 'fence-signal',
  label: 'fence signal, N callbacks',
  sizeName: 'N',
  sizes: SIZES,
  definition:
    'dma_fence_signal (direct call: there is no ioctl) of a pending fence with N callbacks registered by dma_fence_add_callback: N distinct dma_fence_cb sharing one function that increments a counter.',
  linux: 'O(N): the callback list is walked once',
  fixture(n) {
    const m = machine();
    const batch = batchFor(n, 2000);
    let fired = 0;
    // One function, many dma_fence_cb: as kernel callers embed a cb with a common func.
    const func = (): void => {
      fired++;
    };
    return {
      sample() {
        const fences = driverFences(m.core, batch);
        for (const f of fences) {
          for (let i = 0; i < n; i++) dmaFence.addCallback(f, { func } satisfies DmaFenceCb);
        }
        const before = fired;
        const ns = timeNs(() => {
          for (const f of fences) dmaFence.signal(f);
        });
        if (fired - before !== n * batch) throw new Error('not every callback ran');
        return ns / batch;
      },
    };
  },
};

// ---- dma-resv / dma-buf ----

const resvAddCase: BenchCase = {
  id: 'resv-add',
  label: 'resv add (K-th fence)',
  sizeName: 'K',
  sizes: SIZES,
  definition:
    'DMA_BUF_IOCTL_IMPORT_SYNC_FILE(WRITE) of a sync_file holding one pending sw_sync fence (a fresh timeline) into a buffer already holding K-1 pending fences from distinct contexts: dma_resv_add_fence scans the K-1 slots and takes the K-th (appending the first time, later replacing the fence the previous sample left there, signalled after its sample).',
  linux: 'O(K): dma_resv_add_fence scans every slot',
  fixture(k) {
    const m = machine();
    const { fd: bufFd, buf } = allocBuffer(m);
    attach(buf, driverFences(m.core, k - 1), DmaResvUsage.WRITE);
    return {
      sample() {
        const [tl, sf] = swSyncFence(m.p, 1);
        const arg = { flags: DMA_BUF_SYNC_WRITE, fd: sf };
        let r: number | Promise<number> = -1;
        const ns = timeNs(() => {
          r = m.p.ioctl(bufFd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg);
        });
        if (r !== 0 || buf.resv.slots.length !== k) throw new Error(`import: ${String(r)}, ${buf.resv.slots.length} slots`);
        closeOk(m.p, sf);
        closeOk(m.p, tl); // the timeline's close signals its point (-ENOENT)
        return ns;
      },
    };
  },
};

const importCase: BenchCase = {
  id: 'resv-import',
  label: 'import sync_file of K',
  sizeName: 'K',
  sizes: SIZES,
  budgetMs: 2500,
  definition:
    'DMA_BUF_IOCTL_IMPORT_SYNC_FILE(WRITE) of one sync_file whose fence is an array of K pending fences from distinct contexts into an idle buffer: unwrap, dma_resv_reserve_fences(K), then dma_resv_add_fence for each leaf.',
  linux: 'O(K^2): each of the K dma_resv_add_fence calls scans the slots added before it',
  fixture(k) {
    const m = machine();
    const array = unwrapMerge(m.core, driverFences(m.core, k));
    const sf = syncFileFd(m, array);
    let left = 4;
    return {
      left: () => left,
      sample() {
        left--;
        const { fd: bufFd, buf } = allocBuffer(m);
        const arg = { flags: DMA_BUF_SYNC_WRITE, fd: sf };
        let r: number | Promise<number> = -1;
        const ns = timeNs(() => {
          r = m.p.ioctl(bufFd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg);
        });
        if (r !== 0 || buf.resv.slots.length !== k) throw new Error(`import: ${String(r)}, ${buf.resv.slots.length} slots`);
        closeOk(m.p, bufFd);
        return ns;
      },
    };
  },
};

const exportCase: BenchCase = {
  id: 'resv-export',
  label: 'export RW, K fences',
  sizeName: 'K',
  sizes: SIZES,
  definition:
    'DMA_BUF_IOCTL_EXPORT_SYNC_FILE(RW) on a buffer holding K pending fences from distinct contexts at WRITE usage: dma_resv_get_singleton builds a K-fence array and a sync_file fd is installed. The fd is closed after the timed region.',
  linux: 'O(K): one walk of the slots, one array',
  fixture(k) {
    const m = machine();
    const { fd: bufFd, buf } = allocBuffer(m);
    attach(buf, driverFences(m.core, k), DmaResvUsage.WRITE);
    return {
      sample() {
        const arg = { flags: DMA_BUF_SYNC_RW, fd: -1 };
        let r: number | Promise<number> = -1;
        const ns = timeNs(() => {
          r = m.p.ioctl(bufFd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
        });
        if (r !== 0 || arg.fd < 0) throw new Error(`export: ${String(r)}`);
        closeOk(m.p, arg.fd);
        return ns;
      },
    };
  },
};

// ---- sync_file ----

const mergeCase: BenchCase = {
  id: 'merge',
  label: 'merge to M fences',
  sizeName: 'M',
  sizes: SIZES,
  definition:
    'SYNC_IOC_MERGE of a sync_file holding an array of M-1 pending fences from distinct contexts with a sync_file holding one more (a new context): dma_fence_unwrap_merge unwraps, sorts, dedups and builds an M-fence array; the result fd is closed after the timed region. This is the "M-way merge" of the targets.',
  linux: 'O(M log M): unwrap, sort(), one array',
  fixture(mm) {
    const m = machine();
    const a = syncFileFd(m, unwrapMerge(m.core, driverFences(m.core, mm - 1)));
    const b = syncFileFd(m, driverFence(m.core));
    return {
      sample() {
        let out = -1;
        const ns = timeNs(() => {
          out = mergeIoctl(m.p, a, b);
        });
        closeOk(m.p, out);
        return ns;
      },
    };
  },
};

const mergeTreeCase: BenchCase = {
  id: 'merge-tree',
  label: 'merge M sync_files (tree)',
  sizeName: 'M',
  sizes: SIZES,
  budgetMs: 2500,
  definition:
    'Merging M single-fence sync_files (pending, distinct contexts) into one, the way a program must with a binary ioctl: rounds of pairwise SYNC_IOC_MERGE (M-1 ioctls), each input fd closed once merged. Total time for all M-1 merges.',
  linux: 'O(M log^2 M) in total: log M rounds, each merging M fences in all',
  fixture(mm) {
    const m = machine();
    const fences = driverFences(m.core, mm);
    let left = 3;
    return {
      left: () => left,
      sample() {
        left--;
        let fds = fences.map((f) => syncFileFd(m, f));
        const ns = timeNs(() => {
          while (fds.length > 1) {
            const next: number[] = [];
            for (let i = 0; i + 1 < fds.length; i += 2) {
              const a = fds[i] as number;
              const b = fds[i + 1] as number;
              next.push(mergeIoctl(m.p, a, b));
              m.p.close(a);
              m.p.close(b);
            }
            if (fds.length % 2) next.push(fds[fds.length - 1] as number);
            fds = next;
          }
        });
        closeOk(m.p, fds[0] as number);
        return ns;
      },
    };
  },
};

// ---- drm_syncobj timelines ----

interface Timeline {
  readonly m: Machine;
  readonly drm: number;
  readonly handle: number;
  readonly sw: number;
}

/**
 * A syncobj whose timeline has points 1..P, point i holding the i-th point
 * of one sw_sync timeline (all pending): CREATE_FENCE then
 * FD_TO_HANDLE(IMPORT_SYNC_FILE | TIMELINE) at point i, as a driver's
 * submissions would leave it.
 */
function timeline(points: number): Timeline {
  const m = machine();
  const drm = m.p.open('/dev/dri/card0');
  const sw = m.p.open('/dev/sw_sync');
  if (drm < 0 || sw < 0) throw new Error('open');
  const create = { handle: 0, flags: 0 };
  ok(m.p, drm, DRM_IOCTL_SYNCOBJ_CREATE, create, 'SYNCOBJ_CREATE');
  for (let i = 1; i <= points; i++) {
    const data = { value: i, name: 'pt', fence: -1 };
    ok(m.p, sw, SW_SYNC_IOC_CREATE_FENCE, data, 'SW_SYNC_IOC_CREATE_FENCE');
    const imp = {
      handle: create.handle,
      flags: DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE | DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
      fd: data.fence,
      pad: 0,
      point: BigInt(i),
    };
    ok(m.p, drm, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, imp, 'SYNCOBJ_FD_TO_HANDLE');
    closeOk(m.p, data.fence);
  }
  return { m, drm, handle: create.handle, sw };
}

function inc(t: Timeline, by: number): void {
  ok(t.m.p, t.sw, SW_SYNC_IOC_INC, by, 'SW_SYNC_IOC_INC');
}

const queryCase: BenchCase = {
  id: 'timeline-query',
  label: 'timeline QUERY, P points',
  sizeName: 'P',
  sizes: SIZES,
  definition:
    'DRM_IOCTL_SYNCOBJ_QUERY of one syncobj whose timeline has P points (each a distinct sw_sync point), with the first P/2 to 3P/4 signalled; each sample first signals one more point (SW_SYNC_IOC_INC(1), untimed), so the QUERY sees a changed timeline every time.',
  linux: 'O(P): the query walks the chain from its head',
  fixture(p) {
    const t = timeline(p);
    inc(t, p >> 1);
    let left = Math.max(1, p >> 2);
    let signalled = p >> 1;
    const arg = { handles: [t.handle], points: [0n], count_handles: 1, flags: 0 };
    return {
      left: () => left,
      sample() {
        left--;
        inc(t, 1);
        signalled++;
        let r: number | Promise<number> = -1;
        const ns = timeNs(() => {
          r = t.m.p.ioctl(t.drm, DRM_IOCTL_SYNCOBJ_QUERY, arg);
        });
        if (r !== 0 || arg.points[0] !== BigInt(signalled)) throw new Error(`QUERY: ${String(r)}, ${arg.points[0]}`);
        return ns;
      },
    };
  },
};

const waitOneCase: BenchCase = {
  id: 'timeline-wait-one',
  label: 'timeline WAIT 1 of P (poll)',
  sizeName: 'P',
  sizes: SIZES,
  definition:
    'DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT for the first pending point of a P-point timeline whose first P/2 points have signalled, with timeout 0 (a poll): find the point, arm a callback, give up with -ETIME.',
  linux: 'O(P): dma_fence_chain_find_seqno walks from the head',
  fixture(p) {
    const t = timeline(p);
    inc(t, p >> 1);
    const point = BigInt((p >> 1) + 1);
    const arg = {
      handles: [t.handle],
      points: [point],
      timeout_nsec: 0n,
      count_handles: 1,
      flags: 0,
      first_signaled: 0,
      pad: 0,
      deadline_nsec: 0n,
    };
    return {
      sample() {
        let r: number | Promise<number> = 0;
        const ns = timeNs(() => {
          r = t.m.p.ioctl(t.drm, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, arg);
        });
        if (r !== -ETIME) throw new Error(`expected -ETIME, got ${String(r)}`);
        return ns;
      },
    };
  },
};

const waitAllCase: BenchCase = {
  id: 'timeline-wait-all',
  label: 'timeline WAIT_ALL, P points',
  sizeName: 'P',
  sizes: SIZES,
  budgetMs: 2000,
  definition:
    'DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT(WAIT_ALL) on points 1..P of one syncobj (P entries), all pending, then SW_SYNC_IOC_INC(P) signals them all; timed from the ioctl to the resolution of its Promise (entry lookups, P callbacks armed, P signals, completion).',
  linux: 'O(P^2): each entry\'s point lookup walks the chain from its head',
  fixture(p) {
    const t = timeline(p);
    const handles = new Array<number>(p).fill(t.handle);
    const points = Array.from({ length: p }, (_, i) => BigInt(i + 1));
    let left = 1;
    return {
      left: () => left,
      async sample() {
        left--;
        const arg = {
          handles,
          points,
          timeout_nsec: t.m.clock.now() + 10_000_000_000n,
          count_handles: p,
          flags: DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
          first_signaled: 0,
          pad: 0,
          deadline_nsec: 0n,
        };
        let r: number | null = null;
        const ns = await timeNsAsync(async () => {
          const pending = t.m.p.ioctl(t.drm, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, arg);
          inc(t, p);
          r = await pending;
        });
        if (r !== 0) throw new Error(`WAIT_ALL returned ${String(r)}`);
        return ns;
      },
    };
  },
};

const pointAddCase: BenchCase = {
  id: 'timeline-signal',
  label: 'timeline SIGNAL, P-th point',
  sizeName: 'P',
  sizes: SIZES,
  definition:
    'DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL adding point P+i to a syncobj whose timeline already has P pending points (the i-th sample adds the i-th extra point).',
  linux: 'O(P): drm_syncobj_add_point walks the chain to collect',
  fixture(p) {
    const t = timeline(p);
    let next = p + 1;
    let left = Math.max(4, p >> 2);
    return {
      left: () => left,
      sample() {
        left--;
        const arg = { handles: [t.handle], points: [BigInt(next++)], count_handles: 1, flags: 0 };
        let r: number | Promise<number> = -1;
        const ns = timeNs(() => {
          r = t.m.p.ioctl(t.drm, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, arg);
        });
        if (r !== 0) throw new Error(`TIMELINE_SIGNAL: ${String(r)}`);
        return ns;
      },
    };
  },
};

export const CASES: readonly BenchCase[] = [
  signalCase,
  resvAddCase,
  importCase,
  exportCase,
  mergeCase,
  mergeTreeCase,
  queryCase,
  waitOneCase,
  waitAllCase,
  pointAddCase,
];


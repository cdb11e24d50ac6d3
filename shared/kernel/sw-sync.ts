/**
 * sw_sync: a software timeline for tests, the /dev/sw_sync of
 * drivers/dma-buf/sw_sync.c. Each open() creates a timeline: a fresh fence
 * context, a u32 counter starting at 0, named after the opening process.
 *
 * SW_SYNC_IOC_CREATE_FENCE makes a point (a fence with seqno = value) and
 * returns it in a sync_file; SW_SYNC_IOC_INC advances the counter and
 * signals, in order, every point it reached. All comparisons are 32-bit
 * with wrap-around. Closing the timeline fails every pending point with
 * -ENOENT; the fences themselves stay valid (they keep the timeline alive).
 *
 * Linux keeps pending points in an rbtree ordered by wrapped seqno, with a
 * list in tree order to signal from. Here they sit in a min-heap keyed
 * by an absolute (never-wrapping) target: the total increment at which the
 * point is reached. All pending points lie within 2^31 ahead of the
 * counter, so that order is exactly the kernel's, and INC of k points
 * costs O(k log n).
 */
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceOps } from './dma-fence';
import { EMFILE, ENOENT, ENOTTY } from './errno';
import { allocFile, ioctlDispatch, structIoctl, u32Ioctl, type FileOps, type IoctlDesc, type KFile } from './file';
import type { Kernel } from './kernel';
import type { KernelCore } from './core';
import * as minHeap from './min-heap';
import type { MinHeapCallbacks } from './min-heap';
import type { Process } from './process';
import { fdAvailable, installSyncFile } from './sync-file';
import { SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_IOC_INC } from './uapi';
import { sw_sync_create_fence_data, truncateName } from './uapi-structs';

const INT_MAX = 0x7fff_ffff;
/** TASK_COMM_LEN - 1: the timeline is named after get_task_comm(). */
const COMM_MAX_BYTES = 15;

export interface SyncTimeline {
  readonly core: KernelCore;
  /** timeline_fence_ops, bound to this timeline (the kernel's container_of). */
  readonly ops: DmaFenceOps;
  readonly context: bigint;
  readonly name: string;
  /** The u32 counter. */
  value: number;
  /** Sum of every increment so far (value = total mod 2^32). */
  total: bigint;
  /** Pending points, a min-heap on `target`. */
  readonly heap: SyncPt[];
  /** Pending points by u32 seqno: CREATE_FENCE of a pending value returns the same fence. */
  readonly byValue: Map<number, SyncPt>;
}

/** struct sync_pt: a fence of a timeline plus where it waits. */
export interface SyncPt extends DmaFence {
  readonly parent: SyncTimeline;
  /** The `total` at which this point is reached. */
  readonly target: bigint;
}

/** Pending points by target (targets of pending points are distinct: no ties). */
const BY_TARGET: MinHeapCallbacks<SyncPt> = { less: (a, b) => a.target < b.target };

/** Is `fence` a sw_sync point (dma_fence_to_sync_pt)? */
export function toSyncPt(fence: DmaFence): SyncPt | undefined {
  const parent = (fence as Partial<SyncPt>).parent;
  return parent && fence.ops === parent.ops ? (fence as SyncPt) : undefined;
}

/** sync_timeline_create */
export function timelineCreate(core: KernelCore, name: string): SyncTimeline {
  const tl: SyncTimeline = {
    core,
    ops: {
      driverName: 'sw_sync',
      timelineName: () => tl.name,
      use64bitSeqno: false,
      /** timeline_fence_signaled: reached iff the seqno is not later than the counter (32-bit wrap). */
      signaled: (f) => !dmaFence.seqnoIsLater(f.seqno, BigInt(tl.value), false),
    },
    context: core.contextAlloc(1),
    name: truncateName(name),
    value: 0,
    total: 0n,
    heap: [],
    byValue: new Map(),
  };
  return tl;
}

/**
 * sync_pt_create: a reached value gives a fresh fence born signaled (each
 * call a new one); a pending value already on the timeline gives that same
 * fence; otherwise a new pending point.
 */
export function ptCreate(tl: SyncTimeline, value: number): SyncPt {
  const seqno = BigInt(value >>> 0);
  // Distance ahead of the counter, read as int32 like the kernel's compare.
  const ahead = BigInt.asIntN(32, seqno - BigInt(tl.value));
  if (ahead > 0n) {
    const existing = tl.byValue.get(value >>> 0);
    if (existing) return existing;
  }
  const base = dmaFence.init(tl.core, tl.ops, tl.context, seqno);
  const pt: SyncPt = Object.assign(base, { parent: tl, target: tl.total + ahead });
  if (dmaFence.isSignaled(pt)) return pt;
  tl.byValue.set(value >>> 0, pt);
  minHeap.push(tl.heap, pt, BY_TARGET);
  return pt;
}

/**
 * sync_timeline_signal: add `inc` (at most INT_MAX) to the counter and
 * signal the reached points in order.
 */
function timelineSignal(tl: SyncTimeline, inc: number): void {
  tl.value = (tl.value + inc) >>> 0;
  tl.total += BigInt(inc);
  for (;;) {
    const pt = tl.heap[0];
    if (!pt || pt.target > tl.total) break;
    minHeap.pop(tl.heap, BY_TARGET);
    tl.byValue.delete(Number(pt.seqno));
    // -EINVAL if a query already latched it; nothing else to do then.
    dmaFence.signal(pt);
  }
}

/** SW_SYNC_IOC_INC: applied in chunks of INT_MAX, as the kernel does. */
export function timelineInc(tl: SyncTimeline, value: number): void {
  let v = value >>> 0;
  while (v > INT_MAX) {
    timelineSignal(tl, INT_MAX);
    v -= INT_MAX;
  }
  timelineSignal(tl, v);
}

/**
 * Release of the timeline file (sw_sync_debugfs_release): every point
 * still pending fails with -ENOENT and signals, in timeline order. A
 * waiter sees it ready, with the error in its status.
 */
function timelineRelease(tl: SyncTimeline): void {
  for (;;) {
    const pt = minHeap.pop(tl.heap, BY_TARGET);
    if (!pt) break;
    tl.byValue.delete(Number(pt.seqno));
    if (pt.signaled) continue;
    dmaFence.setError(pt, -ENOENT);
    dmaFence.signal(pt);
  }
}

const SW_SYNC_IOCTLS: readonly IoctlDesc<SyncTimeline>[] = [
  /** The fd is reserved first; the `name` field is ignored, as in Linux. */
  structIoctl(SW_SYNC_IOC_CREATE_FENCE, sw_sync_create_fence_data, (tl, proc, data) => {
    if (!fdAvailable(proc)) return -EMFILE;
    const pt = ptCreate(tl, data.value);
    const fd = installSyncFile(proc, pt);
    if (fd < 0) return fd;
    data.fence = fd;
    return 0;
  }),
  u32Ioctl(SW_SYNC_IOC_INC, (tl, _proc, value) => {
    timelineInc(tl, value);
    return 0;
  }),
];

export const swSyncFops: FileOps = {
  name: 'sw_sync',
  devnode: true,
  ioctl: ioctlDispatch(SW_SYNC_IOCTLS, -ENOTTY),
  release(file) {
    timelineRelease(file.priv as SyncTimeline);
  },
};

/** The timeline behind a sw_sync file (tests and the trace use it). */
export function timelineFromFile(file: KFile | undefined): SyncTimeline | undefined {
  return file && file.ops === swSyncFops ? (file.priv as SyncTimeline) : undefined;
}

/** open("/dev/sw_sync"): a new timeline named after the opener's comm. */
export function swSyncOpen(kernel: Kernel, proc: Process): KFile | number {
  return allocFile(swSyncFops, timelineCreate(kernel.core, utf8Prefix(proc.comm, COMM_MAX_BYTES)));
}

/** The longest prefix of `s` that fits in `max` UTF-8 bytes. */
function utf8Prefix(s: string, max: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > max) break;
    bytes += n;
    out += ch;
  }
  return out;
}

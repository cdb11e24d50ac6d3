/**
 * drm_syncobj: a mutable pointer to a dma_fence, shared between processes
 * and drivers (drivers/gpu/drm/drm_syncobj.c). Vulkan fences and
 * semaphores are built on it.
 *
 * Binary use replaces the pointer (NULL, a plain fence); timeline use pushes
 * dma_fence_chain nodes on top of it, one per point (drm_syncobj_add_point),
 * and finds the fence for a point with dma_fence_chain_find_seqno. A
 * syncobj lives as long as something refers to it: a handle in a DRM
 * file's table (handles from 1, lowest free first, per open file), a
 * syncobj fd, or a wait in progress.
 *
 * Waiters for a fence to *appear* (WAIT_FOR_SUBMIT, WAIT_AVAILABLE,
 * TRANSFER) sit on the syncobj's cb_list; every replace or added point
 * hands them the fence at their point. The model keeps that list ordered by
 * point so an added point only visits the waiters it satisfies.
 *
 * This file holds the object, handles, syncobj fds and the in-kernel API
 * drivers use (find, findFence, replaceFence, addPoint); the ioctls are in
 * drm-syncobj-ioctl.ts and drm-syncobj-wait.ts, point lookup in
 * drm-syncobj-timeline.ts.
 */
import type { KernelCore } from './core';
import * as dmaFence from './dma-fence';
import type { DmaFence } from './dma-fence';
import * as dmaFenceChain from './dma-fence-chain';
import type { DrmFile } from './drm';
import { EFAULT, EINVAL, EMFILE, ENOENT, ETIME } from './errno';
import { allocFile, filePriv, structIoctl, type FileOps, type IoctlDesc, type KFile } from './file';
import type { Process } from './process';
import { fdAvailable } from './sync-file';
import { findPoint, noteExtended, recordNode } from './drm-syncobj-timeline';
import * as minHeap from './min-heap';
import { NUMBER_ASCENDING, type MinHeapCallbacks } from './min-heap';
import * as ioctl from './drm-syncobj-ioctl';
import { syncobjTimelineWaitIoctl, syncobjWaitIoctl } from './drm-syncobj-wait';
import {
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_DESTROY,
  DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
  DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
  DRM_IOCTL_SYNCOBJ_QUERY,
  DRM_IOCTL_SYNCOBJ_RESET,
  DRM_IOCTL_SYNCOBJ_SIGNAL,
  DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
  DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
  DRM_IOCTL_SYNCOBJ_TRANSFER,
  DRM_IOCTL_SYNCOBJ_WAIT,
  DRM_SYNCOBJ_CREATE_SIGNALED,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
} from './uapi';
import {
  drm_syncobj_array,
  drm_syncobj_create,
  drm_syncobj_destroy,
  drm_syncobj_handle,
  drm_syncobj_timeline_array,
  drm_syncobj_timeline_wait,
  drm_syncobj_transfer,
  drm_syncobj_wait,
} from './uapi-structs';

/** A waiter on cb_list: wants the fence at `point` as soon as there is one. */
export interface SyncobjWaiter {
  readonly point: bigint;
  /** Called once, already dequeued, with the fence at the point (the stub if collected). */
  readonly func: (fence: DmaFence) => void;
  /** Index in the queue's heap; -1 when not queued. */
  pos: number;
  readonly seq: number;
}

/** cb_list, as a min-heap (min-heap.ts) on (point, arrival). */
export interface WaiterQueue {
  readonly heap: SyncobjWaiter[];
  nextSeq: number;
}

export interface DrmSyncobj {
  /** Kernel-wide id for events and traces. */
  readonly id: number;
  readonly core: KernelCore;
  /** NULL, a plain fence (binary), or a chain node: the head of the timeline. */
  fence: DmaFence | null;
  /** kref: one per handle, per syncobj fd, per wait or transfer in progress. */
  refs: number;
  readonly waiters: WaiterQueue;
}

/** DRM_SYNCOBJ_WAIT_FOR_SUBMIT_TIMEOUT: TRANSFER and drivers wait 5 s for a point to appear. */
export const WAIT_FOR_SUBMIT_TIMEOUT_NS = 5_000_000_000n;

// ---- the object ----

/** drm_syncobj_create: one reference, the caller's. SIGNALED installs a private stub timestamped now. */
export function create(core: KernelCore, flags: number, pid = 0): DrmSyncobj {
  const syncobj: DrmSyncobj = { id: core.allocId(), core, fence: null, refs: 1, waiters: { heap: [], nextSeq: 0 } };
  if (flags & DRM_SYNCOBJ_CREATE_SIGNALED) assignNullHandle(syncobj, pid);
  return syncobj;
}

/** drm_syncobj_get */
export function get(syncobj: DrmSyncobj): DrmSyncobj {
  syncobj.refs++;
  return syncobj;
}

/** drm_syncobj_put: the last reference frees it (drm_syncobj_free drops the fence). */
export function put(syncobj: DrmSyncobj): void {
  if (syncobj.refs <= 0) throw new Error(`drm_syncobj_put on freed syncobj ${syncobj.id}`);
  if (--syncobj.refs === 0) syncobj.fence = null;
}

/** drm_syncobj_assign_null_handle: a fresh signaled private stub, timestamped now (SIGNAL, CREATE_SIGNALED). */
export function assignNullHandle(syncobj: DrmSyncobj, pid = 0): void {
  replaceFence(syncobj, dmaFence.allocatePrivateStub(syncobj.core, syncobj.core.now()), pid);
}

/**
 * drm_syncobj_replace_fence: binary use. Waiters whose point is now
 * available get their fence (a NULL fence satisfies nobody).
 */
export function replaceFence(syncobj: DrmSyncobj, fence: DmaFence | null, pid = 0): void {
  const old = syncobj.fence;
  syncobj.fence = fence;
  if (fence === old) return;
  const core = syncobj.core;
  if (core.tracing) {
    core.emit({ type: 'syncobj.replace', t: core.now(), pid, syncobj: syncobj.id, fence: fence ? fence.id : null });
  }
  wakeWaiters(syncobj);
}

/**
 * drm_syncobj_add_point: timeline use. A chain node wrapping `fence` at
 * `point` goes on top (dma_fence_chain_init's rules: an unordered point
 * starts a new context at max(prev, point)). The event names the fence
 * placed at the point, not the chain node around it.
 */
export function addPoint(syncobj: DrmSyncobj, fence: DmaFence, point: bigint, pid = 0): void {
  const prev = syncobj.fence;
  const chain = dmaFenceChain.init(syncobj.core, prev, fence, point);
  recordNode(chain);
  syncobj.fence = chain;
  const core = syncobj.core;
  if (core.tracing) core.emit({ type: 'syncobj.point', t: core.now(), pid, syncobj: syncobj.id, point, fence: fence.id });
  wakeWaiters(syncobj);
  if (prev) {
    // The kernel walks the whole chain here to collect signaled nodes; one
    // step (the run of signaled nodes right behind) keeps adding O(1)
    // amortized, and every later walk collects as it goes anyway.
    noteExtended(prev);
    dmaFenceChain.walk(prev);
  }
}

/**
 * The fence at `point` right now: dma_fence_chain_find_seqno on the current
 * fence, the stub for a point already collected, -EINVAL when the syncobj
 * is NULL or the point is not submitted (point > 0 on a non-chain fence
 * included).
 */
export function fenceAt(syncobj: DrmSyncobj, point: bigint): DmaFence | number {
  const fence = syncobj.fence;
  if (!fence) return -EINVAL;
  const found = findPoint(fence, point);
  if (typeof found === 'number') return found;
  return found ?? dmaFence.getStub(syncobj.core);
}

// ---- cb_list ----

/** cb_list's order: lowest point first, ties in arrival order; each waiter knows its index. */
const WAITER_ORDER: MinHeapCallbacks<SyncobjWaiter> = {
  less: (a, b) => a.point < b.point || (a.point === b.point && a.seq < b.seq),
  moved: (w, i) => {
    w.pos = i;
  },
};

/**
 * Queue a waiter for the fence at `point` (drm_syncobj_fence_add_wait,
 * after the caller found none yet). Remove it with removeWaiter unless
 * `func` has run.
 */
export function addWaiter(syncobj: DrmSyncobj, point: bigint, func: (fence: DmaFence) => void): SyncobjWaiter {
  const q = syncobj.waiters;
  const w: SyncobjWaiter = { point, func, pos: -1, seq: q.nextSeq++ };
  minHeap.push(q.heap, w, WAITER_ORDER);
  return w;
}

/** drm_syncobj_remove_wait: a no-op if the waiter already fired. */
export function removeWaiter(syncobj: DrmSyncobj, w: SyncobjWaiter): void {
  const heap = syncobj.waiters.heap;
  const i = w.pos;
  if (i < 0 || heap[i] !== w) return;
  w.pos = -1;
  minHeap.del(heap, i, WAITER_ORDER);
}

/**
 * syncobj_wait_syncobj_func for every waiter whose point the new fence
 * provides: point 0 needs any fence, point P a chain head at P or later.
 */
function wakeWaiters(syncobj: DrmSyncobj): void {
  const fence = syncobj.fence;
  const heap = syncobj.waiters.heap;
  if (!fence || heap.length === 0) return;
  const limit = dmaFenceChain.isChain(fence) ? fence.seqno : 0n;
  const ready: [SyncobjWaiter, DmaFence][] = [];
  for (let top = heap[0]; top && top.point <= limit; top = heap[0]) {
    removeWaiter(syncobj, top);
    const found = fenceAt(syncobj, top.point);
    if (typeof found === 'number') throw new Error(`syncobj ${syncobj.id}: point ${top.point} vanished under ${fence.id}`);
    ready.push([top, found]);
  }
  // Callbacks may re-enter (a wait completing, a driver adding a point).
  for (const [w, f] of ready) w.func(f);
}

// ---- handles and fds ----

/** Freed handles of each file, as a min-heap: idr_alloc hands out the lowest free id. */
const freeHandles = new WeakMap<DrmFile, number[]>();

/** drm_syncobj_get_handle: a new handle in `file` (its own reference), lowest free first. */
export function getHandle(file: DrmFile, syncobj: DrmSyncobj): number {
  const free = freeHandles.get(file);
  const handle = (free && minHeap.pop(free, NUMBER_ASCENDING)) ?? file.nextHandle++;
  file.syncobjs.set(handle, get(syncobj));
  return handle;
}

/** drm_syncobj_find: the syncobj behind a handle (no reference taken: the model has no concurrency). */
export function find(file: DrmFile, handle: number): DrmSyncobj | undefined {
  return file.syncobjs.get(handle);
}

/** drm_syncobj_destroy: false if the handle is unknown. */
export function destroyHandle(file: DrmFile, handle: number): boolean {
  const syncobj = file.syncobjs.get(handle);
  if (!syncobj) return false;
  file.syncobjs.delete(handle);
  let free = freeHandles.get(file);
  if (!free) freeHandles.set(file, (free = []));
  minHeap.push(free, handle, NUMBER_ASCENDING);
  put(syncobj);
  return true;
}

/** drm_syncobj_release: the DRM file is closing; its handles go. */
export function syncobjFileRelease(file: DrmFile): void {
  const all = [...file.syncobjs.values()];
  file.syncobjs.clear();
  freeHandles.delete(file);
  for (const syncobj of all) put(syncobj);
}

/** drm_syncobj_array_find: `count` handles, every one known, or -EFAULT / -ENOENT. */
export function arrayFind(file: DrmFile, handles: readonly number[], count: number): DrmSyncobj[] | number {
  if (handles.length < count) return -EFAULT;
  const out: DrmSyncobj[] = [];
  for (let i = 0; i < count; i++) {
    const syncobj = file.syncobjs.get(handles[i] as number);
    if (!syncobj) return -ENOENT;
    out.push(syncobj);
  }
  return out;
}

/** drm_syncobj_file_fops: an opaque fd holding a reference; no ioctls, no poll. */
export const syncobjFops: FileOps = {
  name: 'syncobj',
  release(file) {
    put(file.priv as DrmSyncobj);
  },
};

/** The syncobj behind a syncobj fd's file, if it is one. */
export function syncobjFromFile(file: KFile | undefined): DrmSyncobj | undefined {
  return filePriv<DrmSyncobj>(file, syncobjFops);
}

/** drm_syncobj_get_fd: a new fd (a new file each time) holding a reference, or -EMFILE. */
export function getFd(proc: Process, syncobj: DrmSyncobj): number {
  if (!fdAvailable(proc)) return -EMFILE;
  return proc.installFile(allocFile(syncobjFops, get(syncobj)));
}

// ---- for drivers ----

/**
 * drm_syncobj_find_fence without waiting: -EINVAL for flags other than
 * WAIT_FOR_SUBMIT, -ENOENT for an unknown handle, -EINVAL when the syncobj
 * is NULL or the point is not submitted (even with WAIT_FOR_SUBMIT: use
 * findFenceWait to wait), the stub for a collected point.
 */
export function findFence(file: DrmFile, handle: number, point: bigint, flags: number): DmaFence | number {
  if ((flags & ~DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT) !== 0) return -EINVAL;
  const syncobj = find(file, handle);
  if (!syncobj) return -ENOENT;
  return fenceAt(syncobj, point);
}

/**
 * drm_syncobj_find_fence: like findFence, but with WAIT_FOR_SUBMIT a point
 * not yet there is waited for, up to 5 s, then -ETIME. Returns a Promise
 * only when it has to wait.
 */
export function findFenceWait(
  file: DrmFile,
  handle: number,
  point: bigint,
  flags: number,
): DmaFence | number | Promise<DmaFence | number> {
  if ((flags & ~DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT) !== 0) return -EINVAL;
  const syncobj = find(file, handle);
  if (!syncobj) return -ENOENT;
  const found = fenceAt(syncobj, point);
  if (typeof found !== 'number' || !(flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT)) return found;
  return waitForPoint(syncobj, point, WAIT_FOR_SUBMIT_TIMEOUT_NS);
}

/** Wait (holding a reference) until the syncobj has a fence at `point`, or -ETIME after `timeoutNs`. */
export function waitForPoint(syncobj: DrmSyncobj, point: bigint, timeoutNs: bigint): Promise<DmaFence | number> {
  const clock = syncobj.core.clock;
  get(syncobj);
  return new Promise((resolve) => {
    let cancelTimer: () => void = () => {};
    const waiter = addWaiter(syncobj, point, (fence) => {
      cancelTimer();
      put(syncobj);
      resolve(fence);
    });
    cancelTimer = clock.setTimer(clock.now() + timeoutNs, () => {
      removeWaiter(syncobj, waiter);
      put(syncobj);
      resolve(-ETIME);
    });
  });
}

// ---- the ioctl table (handlers in drm-syncobj-ioctl.ts / -wait.ts, called lazily) ----

export const SYNCOBJ_IOCTLS: IoctlDesc<DrmFile>[] = [
  structIoctl(DRM_IOCTL_SYNCOBJ_CREATE, drm_syncobj_create, (f, p, a) => ioctl.syncobjCreateIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_DESTROY, drm_syncobj_destroy, (f, p, a) => ioctl.syncobjDestroyIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, drm_syncobj_handle, (f, p, a) => ioctl.syncobjHandleToFdIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, drm_syncobj_handle, (f, p, a) => ioctl.syncobjFdToHandleIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_WAIT, drm_syncobj_wait, (f, p, a) => syncobjWaitIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, drm_syncobj_timeline_wait, (f, p, a) => syncobjTimelineWaitIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_RESET, drm_syncobj_array, (f, p, a) => ioctl.syncobjResetIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_SIGNAL, drm_syncobj_array, (f, p, a) => ioctl.syncobjSignalIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, drm_syncobj_timeline_array, (f, p, a) =>
    ioctl.syncobjTimelineSignalIoctl(f, p, a),
  ),
  structIoctl(DRM_IOCTL_SYNCOBJ_QUERY, drm_syncobj_timeline_array, (f, p, a) => ioctl.syncobjQueryIoctl(f, p, a)),
  structIoctl(DRM_IOCTL_SYNCOBJ_TRANSFER, drm_syncobj_transfer, (f, p, a) => ioctl.syncobjTransferIoctl(f, p, a)),
];

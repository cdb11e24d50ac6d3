/**
 * Host-side waits on syncobjs: DRM_IOCTL_SYNCOBJ_WAIT and _TIMELINE_WAIT
 * (drm_syncobj_array_wait_timeout in drm_syncobj.c).
 *
 * The algorithm, as the kernel runs it:
 * 1. Entry check: each entry looks up the fence at its point. A missing one
 *    (NULL, or a point not submitted) fails the whole call with -EINVAL at
 *    once, even if a sibling has signaled, unless WAIT_FOR_SUBMIT or
 *    WAIT_AVAILABLE lets the entry wait for it to appear.
 * 2. An entry is done when its fence has signaled (an error counts), or
 *    with WAIT_AVAILABLE as soon as it has a fence.
 * 3. WAIT_ALL: done when every entry is; otherwise at the first done entry.
 *    first_signaled is the lowest done index at entry, or the first done
 *    index a scan finds after a wake-up; under WAIT_ALL it keeps the entry
 *    check's value (0xFFFFFFFF when nothing was done then).
 * 4. The timeout is an absolute CLOCK_MONOTONIC time; 0 or a time already
 *    past means poll. Running out gives -ETIME.
 * 5. Snapshot: an entry keeps the fence it captured; resetting or replacing
 *    the syncobj afterwards changes nothing, and a reset (NULL) never
 *    satisfies a WAIT_FOR_SUBMIT entry.
 *
 * Model side: a wait that cannot finish at once returns a Promise. It is
 * woken by fence callbacks and by the syncobjs' waiter lists (a fence
 * appearing at the point), plus one clock timer for the deadline; like the
 * kernel's woken task, it re-checks after the current burst of signalling
 * (a microtask), or at the deadline. Completion is counted, not rescanned,
 * so a wait on 10,000 points is linear.
 */
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceCb } from './dma-fence';
import type { DrmFile } from './drm';
import { EFAULT, EINVAL, ETIME } from './errno';
import type { Process } from './process';
import { addWaiter, arrayFind, fenceAt, get, put, removeWaiter, type DrmSyncobj, type SyncobjWaiter } from './drm-syncobj';
import {
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
} from './uapi';
import type { DrmSyncobjTimelineWait, DrmSyncobjWait } from './uapi-structs';

/**
 * WAIT with count_handles == 0. Kernels before the 2025 change (and the IGT
 * of reference/kernel-sync.md) say -EINVAL; the newest kernel and IGT
 * return 0 for both WAIT and TIMELINE_WAIT. handoff pins WAIT at -EINVAL and
 * TIMELINE_WAIT at 0, as kernel-sync.md §4.13 does.
 */
export const WAIT_ZERO_HANDLES_RESULT = -EINVAL;
export const TIMELINE_WAIT_ZERO_HANDLES_RESULT = 0;

/** A deadline this far away is forever (the kernel clamps to MAX_SCHEDULE_TIMEOUT). */
const FOREVER_NS = 1n << 62n;

const WAIT_FLAGS =
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE;
const TIMELINE_WAIT_FLAGS = WAIT_FLAGS | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE;

/** DRM_IOCTL_SYNCOBJ_WAIT: binary; WAIT_AVAILABLE is not a valid flag here. */
export function syncobjWaitIoctl(file: DrmFile, _proc: Process, args: DrmSyncobjWait): number | Promise<number> {
  if ((args.flags & ~WAIT_FLAGS) !== 0) return -EINVAL;
  if (args.count_handles === 0) return WAIT_ZERO_HANDLES_RESULT;
  const syncobjs = arrayFind(file, args.handles, args.count_handles);
  if (typeof syncobjs === 'number') return syncobjs;
  return arrayWait(syncobjs, null, args.timeout_nsec, args.flags, (first) => {
    args.first_signaled = first;
  });
}

/** DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT: a point per handle; a short points array is -EFAULT (after the handles). */
export function syncobjTimelineWaitIoctl(
  file: DrmFile,
  _proc: Process,
  args: DrmSyncobjTimelineWait,
): number | Promise<number> {
  if ((args.flags & ~TIMELINE_WAIT_FLAGS) !== 0) return -EINVAL;
  if (args.count_handles === 0) return TIMELINE_WAIT_ZERO_HANDLES_RESULT;
  const syncobjs = arrayFind(file, args.handles, args.count_handles);
  if (typeof syncobjs === 'number') return syncobjs;
  if (args.points.length < args.count_handles) return -EFAULT;
  return arrayWait(syncobjs, args.points, args.timeout_nsec, args.flags, (first) => {
    args.first_signaled = first;
  });
}

interface Entry {
  readonly syncobj: DrmSyncobj;
  readonly point: bigint;
  /** The captured fence; null while waiting for one to appear. */
  fence: DmaFence | null;
  /** Our callback on `fence`, once registered. */
  cb: DmaFenceCb | null;
  /** Our place on the syncobj's waiter list, while queued. */
  waiter: SyncobjWaiter | null;
  done: boolean;
}

/**
 * drm_syncobj_array_wait_timeout. `setFirst` writes first_signaled on
 * success. Returns a number when the outcome is known now (an error,
 * success at entry, a poll), else a Promise.
 */
export function arrayWait(
  syncobjs: readonly DrmSyncobj[],
  points: readonly bigint[] | null,
  timeoutNsec: bigint,
  flags: number,
  setFirst: (first: number) => void,
): number | Promise<number> {
  const first = syncobjs[0];
  if (!first) return 0;
  const clock = first.core.clock;
  // drm_timeout_abs_to_jiffies: 0 or a time not after now means poll.
  const now = clock.now();
  const deadline = timeoutNsec === 0n || timeoutNsec <= now ? null : timeoutNsec;

  const all = (flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL) !== 0;
  const available = (flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE) !== 0;
  const forSubmit = (flags & (DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE)) !== 0;
  const count = syncobjs.length;
  let firstSignaled = 0xffff_ffff;

  // 1. Entry check.
  const entries: Entry[] = [];
  let signaledCount = 0;
  for (let i = 0; i < count; i++) {
    const syncobj = syncobjs[i] as DrmSyncobj;
    const point = points?.[i] ?? 0n;
    const found = fenceAt(syncobj, point);
    const fence = typeof found === 'number' ? null : found;
    if (!fence && !forSubmit) return -EINVAL;
    entries.push({ syncobj, point, fence, cb: null, waiter: null, done: false });
    if (fence && (available || dmaFence.isSignaled(fence))) {
      if (signaledCount === 0) firstSignaled = i;
      signaledCount++;
    }
  }
  if (signaledCount === count || (signaledCount > 0 && !all)) {
    setFirst(firstSignaled);
    return 0;
  }

  // 2. Arm: waiter lists for missing fences, callbacks on the rest.
  let doneCount = 0;
  let finished = false;
  let scheduled = false;
  let resolvePromise: ((r: number) => void) | null = null;
  let result: number | null = null;
  let cancelTimer: (() => void) | null = null;
  const captured: number[] = [];

  const finish = (r: number): void => {
    if (finished) return;
    finished = true;
    cancelTimer?.();
    for (const e of entries) {
      if (e.waiter) removeWaiter(e.syncobj, e.waiter);
      if (e.cb && e.fence) dmaFence.removeCallback(e.fence, e.cb);
      e.waiter = null;
      e.cb = null;
    }
    if (r === 0) setFirst(firstSignaled);
    result = r;
    if (resolvePromise) {
      for (const s of syncobjs) put(s);
      resolvePromise(r);
    }
  };

  const markDone = (e: Entry): void => {
    if (e.done) return;
    e.done = true;
    doneCount++;
  };

  /** The kernel's `available || is_signaled || add_callback failed` test, arming the callback. */
  const check = (e: Entry): boolean => {
    const fence = e.fence;
    if (!fence) return false;
    if (e.done) return true;
    if (available || dmaFence.isSignaled(fence)) {
      markDone(e);
      return true;
    }
    if (!e.cb) {
      const cb: DmaFenceCb = {
        func: () => {
          markDone(e);
          schedule();
        },
      };
      if (dmaFence.addCallback(fence, cb) !== 0) {
        markDone(e);
        return true;
      }
      e.cb = cb;
    }
    return false;
  };

  /** Re-check after a wake-up: new fences first, then the completion rule. */
  const evaluate = (): void => {
    if (finished) return;
    for (const i of captured.splice(0)) check(entries[i] as Entry);
    if (all) {
      if (doneCount === count) finish(0);
      return;
    }
    if (doneCount === 0) return;
    // ANY: the lowest index found done by an in-order scan.
    for (let i = 0; i < count; i++) {
      const e = entries[i] as Entry;
      if (e.fence && (e.done || available || dmaFence.isSignaled(e.fence))) {
        firstSignaled = i;
        finish(0);
        return;
      }
    }
  };

  function schedule(): void {
    if (scheduled || finished) return;
    scheduled = true;
    void Promise.resolve().then(() => {
      scheduled = false;
      evaluate();
    });
  }

  if (forSubmit) {
    entries.forEach((e, i) => {
      if (e.fence) return;
      e.waiter = addWaiter(e.syncobj, e.point, (fence) => {
        e.waiter = null;
        e.fence = fence;
        captured.push(i);
        schedule();
      });
    });
  }
  // The first pass of the wait loop: arm callbacks in index order; ANY
  // stops at the first entry found done.
  for (let i = 0; i < count && !finished; i++) {
    const e = entries[i] as Entry;
    if (check(e) && !all) {
      firstSignaled = i;
      finish(0);
    }
  }
  if (!finished && all && doneCount === count) finish(0);
  if (!finished && deadline === null) finish(-ETIME);
  if (result !== null) return result;

  // 3. Sleep: a Promise, holding the syncobjs, until done or the deadline.
  for (const s of syncobjs) get(s);
  return new Promise<number>((resolve) => {
    resolvePromise = resolve;
    if (deadline !== null && deadline - now < FOREVER_NS) {
      cancelTimer = clock.setTimer(deadline, () => {
        cancelTimer = null;
        evaluate();
        finish(-ETIME);
      });
    }
  });
}

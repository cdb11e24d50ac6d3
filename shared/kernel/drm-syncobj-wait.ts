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
import type { Clock } from './clock';
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

/** The entry check's outcome: the entries, and which were done already. */
interface EntryCheck {
  readonly entries: Entry[];
  readonly signaledCount: number;
  /** The lowest done index, or 0xFFFFFFFF. */
  readonly firstSignaled: number;
}

/** A wait that did not finish at entry: the kernel's stack frame of drm_syncobj_array_wait_timeout. */
interface ArrayWait {
  readonly syncobjs: readonly DrmSyncobj[];
  readonly entries: readonly Entry[];
  /** WAIT_ALL */
  readonly all: boolean;
  /** WAIT_AVAILABLE: a fence at the point is enough. */
  readonly available: boolean;
  readonly setFirst: (first: number) => void;
  firstSignaled: number;
  /** Entries marked done (counted, not rescanned). */
  doneCount: number;
  /** Indices of entries whose fence appeared since the last re-check. */
  readonly captured: number[];
  /** A re-check is queued for the end of the current burst of signalling. */
  scheduled: boolean;
  finished: boolean;
  /** The outcome, once finished. */
  result: number | null;
  /** Set once the wait sleeps (returned a Promise). */
  resolve: ((r: number) => void) | null;
  cancelTimer: (() => void) | null;
}

/**
 * drm_syncobj_array_wait_timeout. `setFirst` writes first_signaled on
 * success. Returns a number when the outcome is known now (an error,
 * success at entry, a poll), else a Promise. Its steps, in the kernel's
 * order: the entry check (lookupEntries), the syncobj waiters for points
 * not yet submitted (addSubmitWaiters), the wait loop's first pass
 * (firstPass), then sleep (sleepUntilDone) with re-checks (recheck) on
 * each wake-up, and the cleanup (finish → cleanupEntries).
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

  const checked = lookupEntries(syncobjs, points, available, forSubmit);
  if (typeof checked === 'number') return checked;
  const { entries, signaledCount, firstSignaled } = checked;
  if (signaledCount === syncobjs.length || (signaledCount > 0 && !all)) {
    setFirst(firstSignaled);
    return 0;
  }

  const w: ArrayWait = {
    syncobjs,
    entries,
    all,
    available,
    setFirst,
    firstSignaled,
    doneCount: 0,
    captured: [],
    scheduled: false,
    finished: false,
    result: null,
    resolve: null,
    cancelTimer: null,
  };
  if (forSubmit) addSubmitWaiters(w);
  firstPass(w);
  if (!w.finished && deadline === null) finish(w, -ETIME);
  if (w.result !== null) return w.result;
  return sleepUntilDone(w, clock, now, deadline);
}

/**
 * 1. The entry check: each entry looks up the fence at its point; a missing
 * one is -EINVAL at once unless the entry may wait for it to appear.
 */
function lookupEntries(
  syncobjs: readonly DrmSyncobj[],
  points: readonly bigint[] | null,
  available: boolean,
  forSubmit: boolean,
): EntryCheck | number {
  const entries: Entry[] = [];
  let signaledCount = 0;
  let firstSignaled = 0xffff_ffff;
  for (let i = 0; i < syncobjs.length; i++) {
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
  return { entries, signaledCount, firstSignaled };
}

/** 2. drm_syncobj_fence_add_wait for every entry without a fence: its point may appear later. */
function addSubmitWaiters(w: ArrayWait): void {
  w.entries.forEach((e, i) => {
    if (e.fence) return;
    e.waiter = addWaiter(e.syncobj, e.point, (fence) => {
      e.waiter = null;
      e.fence = fence;
      w.captured.push(i);
      scheduleRecheck(w);
    });
  });
}

/** 3. The wait loop's first pass: arm callbacks in index order; ANY stops at the first entry found done. */
function firstPass(w: ArrayWait): void {
  const count = w.entries.length;
  for (let i = 0; i < count && !w.finished; i++) {
    if (entryDone(w, w.entries[i] as Entry) && !w.all) {
      w.firstSignaled = i;
      finish(w, 0);
    }
  }
  if (!w.finished && w.all && w.doneCount === count) finish(w, 0);
}

/** 4. Sleep: a Promise, holding the syncobjs, until done or the deadline. */
function sleepUntilDone(w: ArrayWait, clock: Clock, now: bigint, deadline: bigint | null): Promise<number> {
  for (const s of w.syncobjs) get(s);
  return new Promise<number>((resolve) => {
    w.resolve = resolve;
    if (deadline !== null && deadline - now < FOREVER_NS) {
      w.cancelTimer = clock.setTimer(deadline, () => {
        w.cancelTimer = null;
        recheck(w);
        finish(w, -ETIME);
      });
    }
  });
}

function markDone(w: ArrayWait, e: Entry): void {
  if (e.done) return;
  e.done = true;
  w.doneCount++;
}

/** The kernel's `available || is_signaled || add_callback failed` test, arming the callback. */
function entryDone(w: ArrayWait, e: Entry): boolean {
  const fence = e.fence;
  if (!fence) return false;
  if (e.done) return true;
  if (w.available || dmaFence.isSignaled(fence)) {
    markDone(w, e);
    return true;
  }
  if (!e.cb) {
    const cb: DmaFenceCb = {
      func: () => {
        markDone(w, e);
        scheduleRecheck(w);
      },
    };
    if (dmaFence.addCallback(fence, cb) !== 0) {
      markDone(w, e);
      return true;
    }
    e.cb = cb;
  }
  return false;
}

/** The woken task runs after the current burst of signalling: one microtask per burst. */
function scheduleRecheck(w: ArrayWait): void {
  if (w.scheduled || w.finished) return;
  w.scheduled = true;
  void Promise.resolve().then(() => {
    w.scheduled = false;
    recheck(w);
  });
}

/** Re-check after a wake-up: new fences first, then the completion rule. */
function recheck(w: ArrayWait): void {
  if (w.finished) return;
  const entries = w.entries;
  for (const i of w.captured.splice(0)) entryDone(w, entries[i] as Entry);
  if (w.all) {
    if (w.doneCount === entries.length) finish(w, 0);
    return;
  }
  if (w.doneCount === 0) return;
  // ANY: the lowest index found done by an in-order scan.
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry;
    if (e.fence && (e.done || w.available || dmaFence.isSignaled(e.fence))) {
      w.firstSignaled = i;
      finish(w, 0);
      return;
    }
  }
}

/** The end of the wait, once: cleanup, first_signaled on success, wake the sleeper. */
function finish(w: ArrayWait, r: number): void {
  if (w.finished) return;
  w.finished = true;
  w.cancelTimer?.();
  cleanupEntries(w);
  if (r === 0) w.setFirst(w.firstSignaled);
  w.result = r;
  if (w.resolve) {
    for (const s of w.syncobjs) put(s);
    w.resolve(r);
  }
}

/** The cleanup_entries label: off the waiter lists, callbacks removed. */
function cleanupEntries(w: ArrayWait): void {
  for (const e of w.entries) {
    if (e.waiter) removeWaiter(e.syncobj, e.waiter);
    if (e.cb && e.fence) dmaFence.removeCallback(e.fence, e.cb);
    e.waiter = null;
    e.cb = null;
  }
}

/**
 * The drm_syncobj ioctls other than the host waits (drm_syncobj.c's
 * *_ioctl functions): create/destroy, fd import/export (the syncobj itself
 * or a sync_file of its fence at a point), reset/signal, timeline signal,
 * query and transfer.
 *
 * Error codes are Linux's, inconsistencies included: an unknown handle is
 * -EINVAL for DESTROY and the plain HANDLE_TO_FD, but -ENOENT everywhere
 * else; array ioctls look every handle up before touching any, so a bad
 * one leaves the others unmodified. Checks run in the kernel's order
 * (padding, flags, count, handles, then user arrays).
 */
import * as dmaFence from './dma-fence';
import type { DmaFence } from './dma-fence';
import { toChain } from './dma-fence-chain';
import { merge } from './dma-fence-unwrap';
import type { DrmFile } from './drm';
import { EFAULT, EINVAL, EMFILE, ENOENT } from './errno';
import type { Process } from './process';
import { installSyncFile, fdAvailable, syncFileGetFence } from './sync-file';
import { queryPoint } from './drm-syncobj-timeline';
import {
  addPoint,
  arrayFind,
  assignNullHandle,
  create,
  destroyHandle,
  find,
  findFence,
  findFenceWait,
  get,
  getFd,
  getHandle,
  put,
  replaceFence,
  syncobjFromFile,
} from './drm-syncobj';
import {
  DRM_SYNCOBJ_CREATE_SIGNALED,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
  DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED,
} from './uapi';
import type {
  DrmSyncobjArray,
  DrmSyncobjCreate,
  DrmSyncobjDestroy,
  DrmSyncobjHandle,
  DrmSyncobjTimelineArray,
  DrmSyncobjTransfer,
} from './uapi-structs';

/** DRM_IOCTL_SYNCOBJ_CREATE: flags other than CREATE_SIGNALED are -EINVAL. */
export function syncobjCreateIoctl(file: DrmFile, proc: Process, args: DrmSyncobjCreate): number {
  if ((args.flags & ~DRM_SYNCOBJ_CREATE_SIGNALED) !== 0) return -EINVAL;
  const syncobj = create(file.kernel.core, args.flags, proc.pid);
  args.handle = getHandle(file, syncobj);
  put(syncobj);
  return 0;
}

/** DRM_IOCTL_SYNCOBJ_DESTROY: pad first; an unknown handle is -EINVAL (idr_remove found nothing). */
export function syncobjDestroyIoctl(file: DrmFile, _proc: Process, args: DrmSyncobjDestroy): number {
  if (args.pad !== 0) return -EINVAL;
  return destroyHandle(file, args.handle) ? 0 : -EINVAL;
}

/**
 * DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD. The point counts only with the TIMELINE
 * flag. EXPORT_SYNC_FILE: a sync_file of the fence at the point, a
 * snapshot (-EMFILE first, as the fd is reserved first; unknown handle
 * -ENOENT; NULL or unsubmitted point -EINVAL; a collected point is the
 * stub). Otherwise a syncobj fd: a non-zero point -EINVAL, an unknown
 * handle -EINVAL.
 */
export function syncobjHandleToFdIoctl(file: DrmFile, proc: Process, args: DrmSyncobjHandle): number {
  if (args.pad !== 0) return -EINVAL;
  const valid = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE | DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE;
  if ((args.flags & ~valid) !== 0) return -EINVAL;
  const point = args.flags & DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE ? args.point : 0n;
  if (args.flags & DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE) {
    if (!fdAvailable(proc)) return -EMFILE;
    const fence = findFence(file, args.handle, point, 0);
    if (typeof fence === 'number') return fence;
    const fd = installSyncFile(proc, fence);
    if (fd < 0) return fd;
    args.fd = fd;
    return 0;
  }
  if (args.point !== 0n) return -EINVAL; // the raw field, as Linux tests args->point
  const syncobj = find(file, args.handle);
  if (!syncobj) return -EINVAL;
  const fd = getFd(proc, syncobj);
  if (fd < 0) return fd;
  args.fd = fd;
  return 0;
}

/**
 * DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE. IMPORT_SYNC_FILE: the sync_file's fence
 * replaces the syncobj's (point 0) or becomes a new timeline point (point
 * > 0 with TIMELINE); not a sync_file -EINVAL, unknown handle -ENOENT.
 * Otherwise the fd must be a syncobj fd (-EINVAL) and gets a new handle,
 * never an existing one.
 */
export function syncobjFdToHandleIoctl(file: DrmFile, proc: Process, args: DrmSyncobjHandle): number {
  if (args.pad !== 0) return -EINVAL;
  const valid = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE | DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE;
  if ((args.flags & ~valid) !== 0) return -EINVAL;
  const point = args.flags & DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE ? args.point : 0n;
  if (args.flags & DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE) {
    const fence = syncFileGetFence(proc.fget(args.fd));
    if (!fence) return -EINVAL;
    const syncobj = find(file, args.handle);
    if (!syncobj) return -ENOENT;
    if (point !== 0n) addPoint(syncobj, fence, point, proc.pid);
    else replaceFence(syncobj, fence, proc.pid);
    return 0;
  }
  if (args.point !== 0n) return -EINVAL; // the raw field, as Linux tests args->point
  const syncobj = syncobjFromFile(proc.fget(args.fd));
  if (!syncobj) return -EINVAL;
  args.handle = getHandle(file, syncobj);
  return 0;
}

/** DRM_IOCTL_SYNCOBJ_RESET: every fence to NULL; pad, count 0 -EINVAL; any unknown handle -ENOENT, nothing reset. */
export function syncobjResetIoctl(file: DrmFile, proc: Process, args: DrmSyncobjArray): number {
  if (args.pad !== 0) return -EINVAL;
  if (args.count_handles === 0) return -EINVAL;
  const syncobjs = arrayFind(file, args.handles, args.count_handles);
  if (typeof syncobjs === 'number') return syncobjs;
  for (const syncobj of syncobjs) replaceFence(syncobj, null, proc.pid);
  return 0;
}

/** DRM_IOCTL_SYNCOBJ_SIGNAL: every fence to a fresh signaled private stub; errors as RESET. */
export function syncobjSignalIoctl(file: DrmFile, proc: Process, args: DrmSyncobjArray): number {
  if (args.pad !== 0) return -EINVAL;
  if (args.count_handles === 0) return -EINVAL;
  const syncobjs = arrayFind(file, args.handles, args.count_handles);
  if (typeof syncobjs === 'number') return syncobjs;
  for (const syncobj of syncobjs) assignNullHandle(syncobj, proc.pid);
  return 0;
}

/**
 * DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL: each syncobj gets a chain node around
 * the signaled stub at its point (NULL points: all 0; point 0 is a chain
 * node too, not a replace). flags != 0 or count 0 -EINVAL, unknown handle
 * -ENOENT, then a short points array -EFAULT.
 */
export function syncobjTimelineSignalIoctl(file: DrmFile, proc: Process, args: DrmSyncobjTimelineArray): number {
  if (args.flags !== 0) return -EINVAL;
  if (args.count_handles === 0) return -EINVAL;
  const syncobjs = arrayFind(file, args.handles, args.count_handles);
  if (typeof syncobjs === 'number') return syncobjs;
  const points = args.points;
  if (points && points.length < args.count_handles) return -EFAULT;
  const stub = dmaFence.getStub(file.kernel.core);
  syncobjs.forEach((syncobj, i) => addPoint(syncobj, stub, points?.[i] ?? 0n, proc.pid));
  return 0;
}

/**
 * DRM_IOCTL_SYNCOBJ_QUERY: per syncobj, 0 if its fence is not a chain;
 * with LAST_SUBMITTED the head's seqno; otherwise the highest point up to
 * which everything has completed. Written entry by entry: a points array
 * too short (or NULL) ends with -EFAULT after the entries that fit.
 */
export function syncobjQueryIoctl(file: DrmFile, _proc: Process, args: DrmSyncobjTimelineArray): number {
  if ((args.flags & ~DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) !== 0) return -EINVAL;
  if (args.count_handles === 0) return -EINVAL;
  const syncobjs = arrayFind(file, args.handles, args.count_handles);
  if (typeof syncobjs === 'number') return syncobjs;
  const out = args.points;
  const lastSubmitted = (args.flags & DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) !== 0;
  for (const [i, syncobj] of syncobjs.entries()) {
    const fence = syncobj.fence;
    const point = lastSubmitted ? (toChain(fence)?.seqno ?? 0n) : queryPoint(fence);
    if (!out || i >= out.length) return -EFAULT;
    out[i] = point;
  }
  return 0;
}

/**
 * DRM_IOCTL_SYNCOBJ_TRANSFER: pad -EINVAL; the destination is looked up
 * first (-ENOENT), then drm_syncobj_find_fence on the source (flags other
 * than WAIT_FOR_SUBMIT -EINVAL, unknown -ENOENT, missing point -EINVAL, or
 * with WAIT_FOR_SUBMIT a wait of up to 5 s then -ETIME: a Promise). dst
 * point 0 replaces the destination's fence with the source fence as it
 * is; a dst point > 0 adds a chain point holding unwrap_merge(source).
 */
export function syncobjTransferIoctl(
  file: DrmFile,
  proc: Process,
  args: DrmSyncobjTransfer,
): number | Promise<number> {
  if (args.pad !== 0) return -EINVAL;
  const dst = find(file, args.dst_handle);
  if (!dst) return -ENOENT;
  const dstPoint = args.dst_point;
  const finish = (src: DmaFence | number): number => {
    if (typeof src === 'number') return src;
    if (dstPoint !== 0n) addPoint(dst, merge(file.kernel.core, [src]), dstPoint, proc.pid);
    else replaceFence(dst, src, proc.pid);
    return 0;
  };
  const src = findFenceWait(file, args.src_handle, args.src_point, args.flags);
  if (!(src instanceof Promise)) return finish(src);
  // The destination stays alive through the wait, whatever its handle does.
  get(dst);
  return src.then((f) => {
    try {
      return finish(f);
    } finally {
      put(dst);
    }
  });
}

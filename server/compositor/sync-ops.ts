/**
 * The compositor's own syscalls, as a real compositor makes them: every
 * handoff goes through sync_file fds in the compositor's process, so each
 * ioctl below shows up in the trace under "compositor". Thin wrappers that
 * turn a negative errno into a thrown error where the compositor has no
 * sensible way to go on (its own fds are wrong), and pass client-caused
 * failures back as numbers.
 */
import type { Process } from '../../shared/kernel/process';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DRM_IOCTL_SYNCOBJ_DESTROY,
  DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
  DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
  DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
  POLLIN,
  SYNC_IOC_MERGE,
} from '../../shared/kernel/uapi';
import { errnoName } from '../../shared/kernel/errno';
import type { SyncobjTimeline } from './types';

/** A synchronous ioctl: blocking requests are never used here. */
function ioctlNow(proc: Process, fd: number, request: number, arg: unknown): number {
  const r = proc.ioctl(fd, request, arg);
  if (typeof r !== 'number') throw new Error('compositor: unexpected blocking ioctl');
  return r;
}

export class KernelCallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed: ${errnoName(errno)}`);
  }
}

/** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a snapshot of the buffer's fences (fd or -errno). */
export function exportSyncFile(proc: Process, dmabufFd: number, flags: number): number {
  const arg = { flags, fd: -1 };
  const r = ioctlNow(proc, dmabufFd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
  return r < 0 ? r : arg.fd;
}

/** DMA_BUF_IOCTL_IMPORT_SYNC_FILE: add the sync_file's fences to the buffer (0 or -errno). */
export function importSyncFile(proc: Process, dmabufFd: number, flags: number, syncFileFd: number): number {
  return ioctlNow(proc, dmabufFd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags, fd: syncFileFd });
}

/** SYNC_IOC_MERGE of two sync_files into a new one (fd or -errno). */
export function mergeSyncFiles(proc: Process, a: number, b: number, name: string): number {
  const arg = { name, fd2: b, fence: -1, flags: 0, pad: 0 };
  const r = ioctlNow(proc, a, SYNC_IOC_MERGE, arg);
  return r < 0 ? r : arg.fence;
}

/**
 * The one fence merge: every sync_file in `fds` (negative entries skipped)
 * as one new fd the caller closes, or -1 when there is none. A failed dup
 * or merge throws: going on would drop the earlier fences and let a buffer
 * be reused, or a composition start, before they signal.
 */
export function mergeFences(proc: Process, fds: Iterable<number>, name: string): number {
  let fd = -1;
  for (const f of fds) {
    if (f < 0) continue;
    if (fd < 0) {
      fd = mustSucceed('dup', proc.dup(f));
      continue;
    }
    const merged = mergeSyncFiles(proc, fd, f, name);
    proc.close(fd);
    fd = mustSucceed('SYNC_IOC_MERGE', merged);
  }
  return fd;
}

/** A call on the compositor's own fds that cannot fail unless the compositor is wrong: throw if it did. */
export function mustSucceed(call: string, r: number): number {
  if (r < 0) throw new KernelCallError(call, r);
  return r;
}

/** DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE of a syncobj fd (handle or -errno). */
export function syncobjFdToHandle(proc: Process, drmFd: number, syncobjFd: number): number {
  const arg = { handle: 0, flags: 0, fd: syncobjFd, pad: 0, point: 0n };
  const r = ioctlNow(proc, drmFd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, arg);
  return r < 0 ? r : arg.handle;
}

export function syncobjDestroy(proc: Process, drmFd: number, handle: number): number {
  return ioctlNow(proc, drmFd, DRM_IOCTL_SYNCOBJ_DESTROY, { handle, pad: 0 });
}

/**
 * HANDLE_TO_FD with EXPORT_SYNC_FILE | TIMELINE: the fence at a timeline
 * point as a sync_file (fd, or -EINVAL while the point is not submitted).
 */
export function syncobjExportPoint(proc: Process, drmFd: number, handle: number, point: bigint): number {
  const arg = {
    handle,
    flags: DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE | DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
    fd: -1,
    pad: 0,
    point,
  };
  const r = ioctlNow(proc, drmFd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, arg);
  return r < 0 ? r : arg.fd;
}

/** FD_TO_HANDLE with IMPORT_SYNC_FILE | TIMELINE: the sync_file's fence becomes the point. */
export function syncobjImportPoint(proc: Process, drmFd: number, handle: number, point: bigint, syncFileFd: number): number {
  return ioctlNow(proc, drmFd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, {
    handle,
    flags: DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE | DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
    fd: syncFileFd,
    pad: 0,
    point,
  });
}

/** DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL of one point (0 or -errno). */
export function syncobjSignalPoint(proc: Process, drmFd: number, handle: number, point: bigint): number {
  return ioctlNow(proc, drmFd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, { handles: [handle], points: [point], count_handles: 1, flags: 0 });
}

/**
 * Wait until `fd` is readable (a sync_file signaled, error or not), then
 * call `done`. Returns a cancel function; `done` is not called after it.
 */
export function whenReadable(proc: Process, fd: number, done: () => void): () => void {
  return proc.watch(fd, POLLIN, () => done());
}

/** Drop one reference to an imported timeline; the last one destroys its syncobj handle. */
export function timelineUnref(proc: Process, drmFd: number, timeline: SyncobjTimeline): void {
  timeline.refs--;
  if (timeline.refs === 0) syncobjDestroy(proc, drmFd, timeline.handle);
}

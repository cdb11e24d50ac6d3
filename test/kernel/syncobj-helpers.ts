/**
 * What the IGT syncobj tests do through igt_syncobj.h and sw_sync.h,
 * written against the model's process API: every call is an ioctl on an
 * fd, as a real program would make it. Helpers that expect success throw
 * on an error so a test fails where the setup went wrong.
 */
import { ManualClock } from '../../shared/kernel/clock';
import { Kernel } from '../../shared/kernel/kernel';
import type { Process } from '../../shared/kernel/process';
import type { DrmFile } from '../../shared/kernel/drm';
import { find, type DrmSyncobj } from '../../shared/kernel/drm-syncobj';
import type { DmaFence } from '../../shared/kernel/dma-fence';
import { syncFileGetFence } from '../../shared/kernel/sync-file';
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
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
} from '../../shared/kernel/uapi';

export const SHORT_TIME_NSEC = 100_000_000n;

export type Result = number | Promise<number>;

function ok(r: Result, what: string): number {
  if (typeof r !== 'number') throw new Error(`${what}: unexpectedly blocked`);
  if (r < 0) throw new Error(`${what} failed: ${r}`);
  return r;
}

export class SyncobjEnv {
  readonly clock = new ManualClock();
  readonly kernel: Kernel;
  readonly proc: Process;
  readonly fd: number;

  constructor(comm = 'igt', maxFds?: number) {
    this.kernel = new Kernel(maxFds ? { clock: this.clock, limits: { maxFds } } : { clock: this.clock });
    this.proc = this.kernel.spawn(comm);
    this.fd = this.proc.open('/dev/dri/card0');
    if (this.fd < 0) throw new Error(`open card0: ${this.fd}`);
  }

  /** Kernel side, for assertions a program could not make: the syncobj behind a handle. */
  syncobj(handle: number): DrmSyncobj {
    const so = find(this.proc.fget(this.fd)?.priv as DrmFile, handle);
    if (!so) throw new Error(`no syncobj ${handle}`);
    return so;
  }

  /** Kernel side: the fence a sync_file fd holds. */
  fenceOf(fd: number): DmaFence {
    const f = syncFileGetFence(this.proc.fget(fd));
    if (!f) throw new Error(`fd ${fd} is not a sync_file`);
    return f;
  }

  now(): bigint {
    return this.clock.now();
  }

  /** An absolute timeout `ns` from now (IGT's short_timeout for the default). */
  timeout(ns: bigint = SHORT_TIME_NSEC): bigint {
    return this.clock.now() + ns;
  }

  ioctl(request: number, arg: unknown): Result {
    return this.proc.ioctl(this.fd, request, arg);
  }

  create(flags = 0): number {
    const args = { handle: 0, flags };
    ok(this.ioctl(DRM_IOCTL_SYNCOBJ_CREATE, args), 'SYNCOBJ_CREATE');
    return args.handle;
  }

  destroy(handle: number): Result {
    return this.ioctl(DRM_IOCTL_SYNCOBJ_DESTROY, { handle, pad: 0 });
  }

  handleToFd(handle: number, flags = 0, point = 0n): { r: Result; fd: number } {
    const args = { handle, flags, fd: -1, pad: 0, point };
    const r = this.ioctl(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, args);
    return { r, fd: args.fd };
  }

  fdToHandle(fd: number, flags = 0, handle = 0, point = 0n): { r: Result; handle: number } {
    const args = { handle, flags, fd, pad: 0, point };
    const r = this.ioctl(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, args);
    return { r, handle: args.handle };
  }

  /** syncobj_export_sync_file (at a timeline point when point > 0). */
  exportSyncFile(handle: number, point = 0n): number {
    const flags =
      DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE | (point ? DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE : 0);
    const { r, fd } = this.handleToFd(handle, flags, point);
    ok(r, 'export sync_file');
    return fd;
  }

  /** syncobj_import_sync_file (at a timeline point when point > 0). */
  importSyncFile(handle: number, syncFd: number, point = 0n): Result {
    const flags =
      DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE | (point ? DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE : 0);
    return this.fdToHandle(syncFd, flags, handle, point).r;
  }

  reset(handles: number[]): Result {
    return this.ioctl(DRM_IOCTL_SYNCOBJ_RESET, { handles, count_handles: handles.length, pad: 0 });
  }

  signal(handles: number[]): Result {
    return this.ioctl(DRM_IOCTL_SYNCOBJ_SIGNAL, { handles, count_handles: handles.length, pad: 0 });
  }

  timelineSignal(handles: number[], points: bigint[] | null): Result {
    return this.ioctl(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, { handles, points, count_handles: handles.length, flags: 0 });
  }

  /** QUERY one or more handles; throws on error. */
  query(handles: number[], flags = 0): bigint[] {
    const points = handles.map(() => 0n);
    ok(this.ioctl(DRM_IOCTL_SYNCOBJ_QUERY, { handles, points, count_handles: handles.length, flags }), 'QUERY');
    return points;
  }

  query1(handle: number, flags = 0): bigint {
    return this.query([handle], flags)[0] as bigint;
  }

  /** DRM_IOCTL_SYNCOBJ_WAIT; `args` gets first_signaled. */
  wait(handles: number[], timeout_nsec: bigint, flags: number) {
    const args = {
      handles,
      timeout_nsec,
      count_handles: handles.length,
      flags,
      first_signaled: 0,
      pad: 0,
      deadline_nsec: 0n,
    };
    return { r: this.ioctl(DRM_IOCTL_SYNCOBJ_WAIT, args), args };
  }

  /** DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT; `args` gets first_signaled. */
  timelineWait(handles: number[], points: bigint[], timeout_nsec: bigint, flags: number) {
    const args = {
      handles,
      points,
      timeout_nsec,
      count_handles: handles.length,
      flags,
      first_signaled: 0,
      pad: 0,
      deadline_nsec: 0n,
    };
    return { r: this.ioctl(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, args), args };
  }

  transfer(dst: number, dstPoint: bigint, src: number, srcPoint: bigint, flags = 0): Result {
    return this.ioctl(DRM_IOCTL_SYNCOBJ_TRANSFER, {
      src_handle: src,
      dst_handle: dst,
      src_point: srcPoint,
      dst_point: dstPoint,
      flags,
      pad: 0,
    });
  }

  // ---- sw_sync ----

  timeline(): number {
    const tl = this.proc.open('/dev/sw_sync');
    if (tl < 0) throw new Error(`open sw_sync: ${tl}`);
    return tl;
  }

  swFence(tl: number, value: number): number {
    const args = { value, name: 'igt', fence: -1 };
    ok(this.proc.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, args), 'SW_SYNC_IOC_CREATE_FENCE');
    return args.fence;
  }

  inc(tl: number, n = 1): void {
    ok(this.proc.ioctl(tl, SW_SYNC_IOC_INC, n), 'SW_SYNC_IOC_INC');
  }

  /**
   * syncobj_attach_sw_sync: a fresh timeline with a fence at 1, put into the
   * syncobj at `point` (point > 0 the IGT way: import into a temporary
   * binary syncobj, transfer it to the point). Returns the timeline fd.
   */
  attach(handle: number, point = 0n): number {
    const tl = this.timeline();
    const fence = this.swFence(tl, 1);
    if (point === 0n) {
      ok(this.importSyncFile(handle, fence), 'import sync_file');
    } else {
      const tmp = this.create();
      ok(this.importSyncFile(tmp, fence), 'import sync_file');
      ok(this.transfer(handle, point, tmp, 0n), 'binary to timeline');
      ok(this.destroy(tmp), 'destroy');
    }
    this.proc.close(fence);
    return tl;
  }

  /** syncobj_trigger: attach and signal at once. */
  trigger(handle: number, point = 0n): void {
    const tl = this.attach(handle, point);
    this.inc(tl, 1);
    this.proc.close(tl);
  }

  /** A point backed by a sw_sync fence of `tl` at `value` (IGT: import + binary_to_timeline). */
  attachFence(handle: number, point: bigint, tl: number, value: number): void {
    const fence = this.swFence(tl, value);
    const tmp = this.create();
    ok(this.importSyncFile(tmp, fence), 'import sync_file');
    ok(this.transfer(handle, point, tmp, 0n), 'binary to timeline');
    ok(this.destroy(tmp), 'destroy');
    this.proc.close(fence);
  }
}

/** Let queued microtasks (a wait's re-check) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Whether a promise has settled yet, without waiting for it. */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}

/**
 * Userspace helpers for the sync tests, in the shape of IGT's lib/sw_sync.c
 * and lib/dmabuf_sync_file.c: each wraps one ioctl and returns the fd or a
 * negative errno.
 */
import { Kernel, type KernelOptions } from '../../shared/kernel/kernel';
import { ManualClock } from '../../shared/kernel/clock';
import type { Process } from '../../shared/kernel/process';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_HEAP_IOCTL_ALLOC,
  POLLIN,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_MERGE,
} from '../../shared/kernel/uapi';
import type { SyncFenceInfo, SyncFileInfo } from '../../shared/kernel/uapi-structs';

export function machine(opts: Omit<KernelOptions, 'clock'> = {}) {
  const clock = new ManualClock();
  const kernel = new Kernel({ clock, ...opts });
  return { clock, kernel, p: kernel.spawn('igt') };
}

/** A plain number result: every ioctl used here is non-blocking. */
export function ioctlSync(p: Process, fd: number, request: number, arg?: unknown): number {
  const r = p.ioctl(fd, request, arg);
  if (typeof r !== 'number') throw new Error('unexpected blocking ioctl');
  return r;
}

export function createFence(p: Process, timeline: number, value: number): number {
  const data = { value, name: 'fence', fence: -1 };
  const r = ioctlSync(p, timeline, SW_SYNC_IOC_CREATE_FENCE, data);
  return r < 0 ? r : data.fence;
}

export function inc(p: Process, timeline: number, count: number): number {
  return ioctlSync(p, timeline, SW_SYNC_IOC_INC, count);
}

export function merge(p: Process, fd1: number, fd2: number, name = ''): number {
  const data = { name, fd2, fence: -1, flags: 0, pad: 0 };
  const r = ioctlSync(p, fd1, SYNC_IOC_MERGE, data);
  return r < 0 ? r : data.fence;
}

export interface FileInfo {
  name: string;
  status: number;
  fences: SyncFenceInfo[];
}

/** FILE_INFO in IGT's two steps: count, then fetch exactly that many. */
export function fileInfo(p: Process, fd: number): FileInfo {
  const count: SyncFileInfo = { name: '', status: 0, flags: 0, num_fences: 0, pad: 0, sync_fence_info: [] };
  const r0 = ioctlSync(p, fd, SYNC_IOC_FILE_INFO, count);
  if (r0 < 0) throw new Error(`FILE_INFO count: ${r0}`);
  const full: SyncFileInfo = { ...count, num_fences: count.num_fences, sync_fence_info: [] };
  const r1 = ioctlSync(p, fd, SYNC_IOC_FILE_INFO, full);
  if (r1 < 0) throw new Error(`FILE_INFO: ${r1}`);
  return { name: full.name, status: full.status, fences: full.sync_fence_info as SyncFenceInfo[] };
}

/** IGT sync_fence_status: the single entry's status. */
export function fenceStatus(p: Process, fd: number): number {
  const info = fileInfo(p, fd);
  if (info.fences.length !== 1) throw new Error(`expected one fence, got ${info.fences.length}`);
  return info.fences[0]!.status;
}

/** IGT sync_fence_count_status: entries with the given status (1, 0 or an error). */
export function countStatus(p: Process, fd: number, status: number): number {
  return fileInfo(p, fd).fences.filter((f) => f.status === status).length;
}

/** poll with timeout 0: is the fd readable? */
export async function readable(p: Process, fd: number): Promise<boolean> {
  const pfd = { fd, events: POLLIN, revents: 0 };
  await p.poll([pfd], 0);
  return (pfd.revents & POLLIN) !== 0;
}

export function allocBuf(p: Process, heap: number, len = 4096n): number {
  const data = { len, fd: 0, fd_flags: 0, heap_flags: 0n };
  const r = ioctlSync(p, heap, DMA_HEAP_IOCTL_ALLOC, data);
  return r < 0 ? r : data.fd;
}

export function exportSyncFile(p: Process, buf: number, flags: number): number {
  const arg = { flags, fd: -1 };
  const r = ioctlSync(p, buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
  return r < 0 ? r : arg.fd;
}

export function importSyncFile(p: Process, buf: number, flags: number, fd: number): number {
  return ioctlSync(p, buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags, fd });
}

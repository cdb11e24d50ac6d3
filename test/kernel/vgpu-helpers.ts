/**
 * Shared setup for the vgpu, sync-validator and elephant tests: a kernel on
 * a manual clock and small wrappers over the uapi, so each test reads as
 * the sequence of syscalls it checks.
 */
import { expect } from 'vitest';
import { ManualClock } from '../../shared/kernel/clock';
import { Kernel, type KernelOptions } from '../../shared/kernel/kernel';
import type { Process } from '../../shared/kernel/process';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_HEAP_IOCTL_ALLOC,
  POLLIN,
  POLLOUT,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
  SYNC_IOC_FILE_INFO,
} from '../../shared/kernel/uapi';
import type { SyncFenceInfo } from '../../shared/kernel/uapi-structs';
import { DRM_IOCTL_VGPU_RING_NEW, DRM_IOCTL_VGPU_SUBMIT, type DrmVgpuSubmit } from '../../shared/kernel/vgpu-drm';

export const MS = 1_000_000n;

export function setup(options: Omit<KernelOptions, 'clock'> = {}) {
  const clock = new ManualClock(0n);
  const kernel = new Kernel({ ...options, clock });
  return { clock, kernel };
}

/** A process with /dev/dri/card0 and the system heap open. */
export function client(kernel: Kernel, comm: string) {
  const p = kernel.spawn(comm);
  const drm = p.open('/dev/dri/card0');
  const heap = p.open('/dev/dma_heap/system');
  expect(drm).toBeGreaterThanOrEqual(0);
  expect(heap).toBeGreaterThanOrEqual(0);
  return { p, drm, heap };
}

/** DMA_HEAP_IOCTL_ALLOC: a dma-buf fd. */
export function alloc(p: Process, heap: number, len = 4096n): number {
  const a = { len, fd: -1, fd_flags: 0, heap_flags: 0n };
  expect(p.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, a)).toBe(0);
  return a.fd;
}

/** A struct drm_vgpu_submit with every field at its neutral value. */
export function submitArgs(over: Partial<DrmVgpuSubmit> = {}): DrmVgpuSubmit {
  return {
    flags: 0,
    ring: 0,
    nr_bos: over.bos?.length ?? 0,
    bos: [],
    nr_in_syncobjs: over.in_syncobjs?.length ?? 0,
    in_syncobjs: [],
    nr_out_syncobjs: over.out_syncobjs?.length ?? 0,
    out_syncobjs: [],
    duration_ns: 1n * MS,
    fence_fd: -1,
    fence: 0,
    pad: 0,
    label: '',
    ...over,
  };
}

/** DRM_IOCTL_VGPU_SUBMIT; returns the ioctl result and the (written) args. */
export function submit(p: Process, drm: number, over: Partial<DrmVgpuSubmit> = {}) {
  const args = submitArgs(over);
  const r = p.ioctl(drm, DRM_IOCTL_VGPU_SUBMIT, args);
  return { r, args };
}

/** A submit that must succeed; its written args (fence, fence_fd). */
export function submitOk(p: Process, drm: number, over: Partial<DrmVgpuSubmit> = {}): DrmVgpuSubmit {
  const { r, args } = submit(p, drm, over);
  expect(r).toBe(0);
  return args;
}

/** DRM_IOCTL_VGPU_RING_NEW; the new ring's id. */
export function ringNew(p: Process, drm: number, name: string): number {
  const a = { name, flags: 0, ring: 0 };
  expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, a)).toBe(0);
  return a.ring;
}

/** A sw_sync point as a sync_file fd, and a way to signal it. */
export function swFence(p: Process) {
  const tl = p.open('/dev/sw_sync');
  const cf = { value: 1, name: 'pt', fence: -1 };
  expect(p.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf)).toBe(0);
  return { fd: cf.fence, signal: () => expect(p.ioctl(tl, SW_SYNC_IOC_INC, 1)).toBe(0) };
}

/** SYNC_IOC_FILE_INFO of a sync_file fd with one fence: its entry. */
export function fenceInfo(p: Process, fd: number): SyncFenceInfo {
  const info = { name: '', status: 0, flags: 0, num_fences: 1, pad: 0, sync_fence_info: [] as unknown[] };
  expect(p.ioctl(fd, SYNC_IOC_FILE_INFO, info)).toBe(0);
  return info.sync_fence_info[0] as SyncFenceInfo;
}

/** Poll readiness of a dma-buf right now: [may read (POLLIN), may write (POLLOUT)]. */
export async function pollNow(p: Process, fd: number): Promise<[boolean, boolean]> {
  const pfd = { fd, events: POLLIN | POLLOUT, revents: 0 };
  await p.poll([pfd], 0);
  return [(pfd.revents & POLLIN) !== 0, (pfd.revents & POLLOUT) !== 0];
}

/** DMA_BUF_IOCTL_EXPORT_SYNC_FILE; the sync_file fd. */
export function exportSync(p: Process, fd: number, flags: number): number {
  const ex = { flags, fd: -1 };
  expect(p.ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, ex)).toBe(0);
  return ex.fd;
}

/**
 * Hand-driven protocol for compositor tests: a window, dma-buf wl_buffers,
 * syncobj timelines and sync_files made with the client's own syscalls,
 * step by step, so a test can commit exactly the sequence it needs.
 */
import type { Proxy } from '../../../shared/protocol/client';
import { wlCompositorInterface } from '../../../shared/protocol/generated/wayland';
import { xdgWmBaseInterface } from '../../../shared/protocol/generated/xdg-shell';
import { zwpLinuxDmabufV1Interface } from '../../../shared/protocol/generated/linux-dmabuf-v1';
import {
  DMA_HEAP_IOCTL_ALLOC,
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
  DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
  DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
  DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
  SW_SYNC_IOC_CREATE_FENCE,
} from '../../../shared/kernel/uapi';
import type { Harness, TestClient } from './harness';
import type { Process } from '../../../shared/kernel/process';
import type { DmaFence } from '../../../shared/kernel/dma-fence';
import { dmaBufFromFile } from '../../../shared/kernel/dma-buf';
import { syncFileGetFence } from '../../../shared/kernel/sync-file';
import type { TraceEvent } from '../../../shared/trace/events';
import {
  DRM_IOCTL_VGPU_RING_NEW,
  DRM_IOCTL_VGPU_SUBMIT,
  VGPU_BO_WRITE,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  VGPU_SUBMIT_NO_IMPLICIT,
} from '../../../shared/kernel/vgpu-drm';

export { DRM_FORMAT_ARGB8888 as ARGB8888 } from '../../../shared/protocol/drm-fourcc';
import { DRM_FORMAT_ARGB8888 } from '../../../shared/protocol/drm-fourcc';

export interface Window {
  surface: Proxy<'wl_surface'>;
}

export function openWindow(c: TestClient): Window {
  const compositor = c.env.bind(wlCompositorInterface, 6);
  const wm = c.env.bind(xdgWmBaseInterface, 5);
  const surface = compositor.send.createSurface();
  const xs = wm.send.getXdgSurface(surface);
  xs.setListener({ configure: (serial) => xs.send.ackConfigure(serial) });
  xs.send.getToplevel().send.setTitle(c.name);
  surface.send.commit();
  c.env.flush();
  return { surface };
}

export interface TestBuffer {
  fd: number;
  proxy: Proxy<'wl_buffer'>;
  released: number;
}

export function makeBuffer(c: TestClient, width = 16, height = 16): TestBuffer {
  const heap = c.proc.open('/dev/dma_heap/system');
  const alloc = { len: BigInt(width * height * 4), fd: 0, fd_flags: 0, heap_flags: 0n };
  if (c.proc.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, alloc) !== 0) throw new Error('alloc failed');
  c.proc.close(heap);
  const dmabuf = c.env.bind(zwpLinuxDmabufV1Interface, 3);
  const params = dmabuf.send.createParams();
  params.send.add(alloc.fd, 0, 0, width * 4, 0, 0);
  const proxy = params.send.createImmed(width, height, DRM_FORMAT_ARGB8888, 0);
  const b: TestBuffer = { fd: alloc.fd, proxy, released: 0 };
  proxy.setListener({ release: () => b.released++ });
  c.env.flush();
  return b;
}

export interface Timeline {
  handle: number;
  fd: number;
}

export function syncobjTimeline(c: TestClient, drmFd: number): Timeline {
  const create = { handle: 0, flags: 0 };
  c.proc.ioctl(drmFd, DRM_IOCTL_SYNCOBJ_CREATE, create);
  const h2f = { handle: create.handle, flags: 0, fd: -1, pad: 0, point: 0n };
  c.proc.ioctl(drmFd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, h2f);
  return { handle: create.handle, fd: h2f.fd };
}

export function signalPoint(c: TestClient, drmFd: number, tl: Timeline, point: bigint): void {
  c.proc.ioctl(drmFd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, { handles: [tl.handle], points: [point], count_handles: 1, flags: 0 });
}

/** Put an unsignaled sw_sync fence at a timeline point; returns the sw_sync timeline fd (INC it to signal). */
export function pendingPoint(c: TestClient, drmFd: number, tl: Timeline, point: bigint): number {
  const sw = c.proc.open('/dev/sw_sync');
  const cf = { value: 1, name: 'acquire', fence: -1 };
  c.proc.ioctl(sw, SW_SYNC_IOC_CREATE_FENCE, cf);
  c.proc.ioctl(drmFd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, {
    handle: tl.handle,
    flags: DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE | DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE,
    fd: cf.fence,
    pad: 0,
    point,
  });
  c.proc.close(cf.fence);
  return sw;
}

/** An unsignaled sw_sync fence as a sync_file fd, and the timeline fd to INC. */
export function pendingSyncFile(c: TestClient): { fence: number; timeline: number } {
  const sw = c.proc.open('/dev/sw_sync');
  const cf = { value: 1, name: 'acquire', fence: -1 };
  c.proc.ioctl(sw, SW_SYNC_IOC_CREATE_FENCE, cf);
  return { fence: cf.fence, timeline: sw };
}

export const hi = (v: bigint): number => Number(v >> 32n);
export const lo = (v: bigint): number => Number(v & 0xffff_ffffn);

/** The kernel's dma-buf id behind a client's buffer fd (the `buf` of job and resv events). */
export function dmabufId(c: TestClient, fd: number): number {
  const buf = dmaBufFromFile(c.proc.fget(fd));
  if (!buf) throw new Error(`fd ${fd} is not a dma-buf`);
  return buf.id;
}

/** The fence behind a sync_file fd of `proc`. */
export function fenceOf(proc: Process, fd: number): DmaFence {
  const f = syncFileGetFence(proc.fget(fd));
  if (!f) throw new Error(`fd ${fd} is not a sync_file`);
  return f;
}

/** Every trace event (kernel and compositor) from now on, in order. */
export function recordTrace(h: Harness): TraceEvent[] {
  const events: TraceEvent[] = [];
  h.compositor.observe((e) => events.push(e));
  return events;
}

export type JobEvent = Extract<TraceEvent, { type: 'job.queued' | 'job.runnable' | 'job.start' | 'job.done' }>;

/** job.start events of `ring` whose buffers include `buf`. */
export function jobsReading(events: readonly TraceEvent[], buf: number, ring = 'compositor'): JobEvent[] {
  const out: JobEvent[] = [];
  for (const e of events) if (e.type === 'job.start' && e.ring === ring && e.bos?.some((b) => b.buf === buf)) out.push(e);
  return out;
}

/** When job `job` completed, or undefined if it has not. */
export function jobDoneAt(events: readonly TraceEvent[], job: number): bigint | undefined {
  for (const e of events) if (e.type === 'job.done' && e.job === job) return e.t;
  return undefined;
}

export interface Gpu {
  drm: number;
  ring: number;
}

/** The client's own DRM fd and vgpu ring ("render-<name>"). */
export function gpuRing(c: TestClient): Gpu {
  const drm = c.proc.open('/dev/dri/card0');
  const arg = { name: `render-${c.name}`, flags: 0, ring: 0 };
  if (c.proc.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, arg) !== 0) throw new Error('DRM_IOCTL_VGPU_RING_NEW failed');
  return { drm, ring: arg.ring };
}

/**
 * Submit a job that writes `bufFd` for `durationNs`. Implicitly synced
 * unless `explicit` (then NO_IMPLICIT); `inFence` is a sync_file it waits
 * for. Returns the job's out-fence sync_file fd when `outFence`, else -1.
 */
export function submitWrite(
  c: TestClient,
  gpu: Gpu,
  bufFd: number,
  durationNs: bigint,
  opts: { explicit?: boolean; inFence?: number; outFence?: boolean; label?: string } = {},
): number {
  let flags = 0;
  if (opts.explicit) flags |= VGPU_SUBMIT_NO_IMPLICIT;
  if (opts.inFence !== undefined) flags |= VGPU_SUBMIT_FENCE_FD_IN;
  if (opts.outFence) flags |= VGPU_SUBMIT_FENCE_FD_OUT;
  const arg = {
    flags: flags >>> 0,
    ring: gpu.ring,
    bos: [{ fd: bufFd, flags: VGPU_BO_WRITE }],
    in_syncobjs: null,
    out_syncobjs: null,
    duration_ns: durationNs,
    nr_bos: 1,
    nr_in_syncobjs: 0,
    nr_out_syncobjs: 0,
    fence_fd: opts.inFence ?? -1,
    fence: 0,
    pad: 0,
    label: opts.label ?? `${c.name} write`,
  };
  const r = c.proc.ioctl(gpu.drm, DRM_IOCTL_VGPU_SUBMIT, arg);
  if (r !== 0) throw new Error(`DRM_IOCTL_VGPU_SUBMIT failed (${String(r)})`);
  return opts.outFence ? arg.fence_fd : -1;
}

/** The trace event(s) whose `type` can be T (job events share one member). */
export type EventOf<T extends TraceEvent['type'], E = TraceEvent> = E extends { type: infer U } ? (T extends U ? E & { type: T } : never) : never;

/** Events of one type, typed. */
export function ofType<T extends TraceEvent['type']>(events: readonly TraceEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

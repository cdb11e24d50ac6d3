/**
 * dma-buf: a buffer shared between devices and processes through a file
 * descriptor, with its reservation object (drivers/dma-buf/dma-buf.c,
 * include/uapi/linux/dma-buf.h).
 *
 * Userspace takes part in implicit sync through three doors:
 * - poll(): POLLIN when no writer is pending ("may read"), POLLOUT when no
 *   access at all is pending ("may write"); BOOKKEEP fences never count;
 * - DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a snapshot of the fences a new access
 *   must wait for, as a sync_file (the signaled stub when idle);
 * - DMA_BUF_IOCTL_IMPORT_SYNC_FILE: attach a sync_file's fences to the
 *   buffer at READ or WRITE usage. Add-only: nothing userspace does can
 *   shrink the set of work a waiter must wait for (kernel-sync.md §3).
 *
 * Memory lifetime: the buffer's pages go back to the page pool only when
 * the last reference to its file is gone AND every fence in its
 * reservation object (all usages, BOOKKEEP included) has signaled. That
 * stands in for the references a real driver holds on a buffer while its
 * GPU jobs run, and it is exactly what an import that *replaces* fences
 * (kernel.legacyReplaceImport, the 2020 RFC) breaks: replaced fences stop
 * protecting the pages, which are then reused while a job still writes.
 */
import type { KernelCore } from './core';
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceCb } from './dma-fence';
import { unwrap } from './dma-fence-unwrap';
import * as dmaResv from './dma-resv';
import { DmaResvUsage, type DmaResv } from './dma-resv';
import { EINVAL, EMFILE, ENOTTY } from './errno';
import { ANON_INODE_MODE, DMABUF_FS_DEV, allocFile, filePriv, fput, getFile, ioctlDispatch, structIoctl, type FileOps, type IoctlDesc, type KFile, type PollTable } from './file';
import { freePages, type PagePool } from './page-pool';
import type { Process } from './process';
import { fdAvailable, installSyncFile, syncFileGetFence } from './sync-file';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_VALID_FLAGS_MASK,
  DMA_BUF_SYNC_WRITE,
  POLLIN,
  POLLOUT,
} from './uapi';
import { dma_buf_export_sync_file, dma_buf_import_sync_file, dma_buf_sync } from './uapi-structs';

/** Page-pool owner label of dma-buf backing pages. */
export const DMABUF_PAGE_OWNER = 'dma-buf';

/** struct dma_buf_poll_cb_t: one armed fence callback per poll direction. */
interface PollCb {
  /** The direction it is armed for (POLLIN or POLLOUT); 0 when idle. */
  active: number;
  /** The fence it is armed on, while active. */
  fence: DmaFence | null;
  readonly cb: DmaFenceCb;
}

interface PollWaiter {
  readonly events: number;
  readonly wake: () => void;
}

export interface DmaBuf {
  readonly id: number;
  readonly core: KernelCore;
  readonly pool: PagePool;
  /** Bytes, a multiple of the page size. */
  readonly size: bigint;
  readonly resv: DmaResv;
  /** Backing pages, in buffer order. */
  readonly pages: readonly number[];
  /** The exporter (the heap's name). */
  readonly exporter: string;
  /** The buffer's one file; every fd for it (dup, SCM_RIGHTS) shares it. */
  file: KFile;
  /** The last file reference is gone. */
  released: boolean;
  /** The pages went back to the pool. */
  freed: boolean;
  /** dmabuf->poll: waiting polls. */
  readonly pollWaiters: Set<PollWaiter>;
  readonly cbIn: PollCb;
  readonly cbOut: PollCb;
}

/** The DmaBuf behind a file, if it is a dma-buf file (is_dma_buf_file). */
export function dmaBufFromFile(file: KFile | undefined): DmaBuf | undefined {
  return filePriv<DmaBuf>(file, dmaBufFops);
}

export interface DmaBufExportInfo {
  /** Kernel object id, allocated by the exporter before it took the pages. */
  readonly id: number;
  readonly size: bigint;
  readonly pages: readonly number[];
  readonly exporter: string;
}

/** dma_buf_export: wrap pages the exporter owns into a buffer with a file (one reference). */
export function dmaBufExport(core: KernelCore, pool: PagePool, info: DmaBufExportInfo): DmaBuf {
  const buf: DmaBuf = {
    id: info.id,
    core,
    pool,
    size: info.size,
    resv: dmaResv.create(core, info.id),
    pages: info.pages,
    exporter: info.exporter,
    file: undefined as unknown as KFile, // set right below: the file needs the buffer as its private data
    released: false,
    freed: false,
    pollWaiters: new Set(),
    cbIn: { active: 0, fence: null, cb: { func: () => pollCbFired(buf, buf.cbIn) } },
    cbOut: { active: 0, fence: null, cb: { func: () => pollCbFired(buf, buf.cbOut) } },
  };
  buf.file = allocFile(dmaBufFops, buf);
  return buf;
}

/** dma_buf_fd: install the buffer's file reference in `proc`; -EMFILE drops it. */
export function dmaBufFd(proc: Process, buf: DmaBuf): number {
  return proc.installFile(buf.file);
}

// ---- memory lifetime ----

/** Distinct unsignaled fences of the resv at every usage, BOOKKEEP included. */
function pendingFences(resv: DmaResv): DmaFence[] {
  const out = new Set<DmaFence>();
  for (const { fence } of dmaResv.entries(resv)) if (!dmaFence.isSignaled(fence)) out.add(fence);
  return [...out];
}

/** Last file reference gone: free the pages now, or once every fence has signaled. */
function dmaBufRelease(buf: DmaBuf): void {
  buf.released = true;
  const pending = pendingFences(buf.resv);
  const core = buf.core;
  if (core.tracing) core.emit({ type: 'dmabuf.release', t: core.now(), buf: buf.id, pendingFences: pending.length });
  freeWhenIdle(buf, pending);
}

/**
 * Wait, with fence callbacks, for `pending`; then look again (a kernel
 * user may have added fences meanwhile) and free once nothing is pending.
 */
function freeWhenIdle(buf: DmaBuf, pending: readonly DmaFence[]): void {
  if (pending.length === 0) {
    buf.freed = true;
    freePages(buf.pool, buf.pages, DMABUF_PAGE_OWNER);
    return;
  }
  // One count per armed callback plus one for this loop, so a fence that
  // signals while we arm the rest cannot trigger the re-check early.
  let count = 1;
  const done = (): void => {
    if (--count === 0) freeWhenIdle(buf, pendingFences(buf.resv));
  };
  for (const f of pending) {
    count++;
    if (dmaFence.addCallback(f, { func: done }) !== 0) count--;
  }
  done();
}

// ---- poll ----

/**
 * dma_buf_poll_add_cb: arm `dcb` on the first unsignaled fence a new
 * access of this kind must wait for. False when there is none.
 */
function pollAddCb(resv: DmaResv, write: boolean, dcb: PollCb): boolean {
  for (const f of dmaResv.getFences(resv, dmaResv.usageRw(write))) {
    if (dmaFence.addCallback(f, dcb.cb) === 0) {
      dcb.fence = f;
      return true;
    }
  }
  return false;
}

/**
 * dma_buf_poll_cb: the armed fence signaled. Idle the direction first
 * (the woken polls re-poll synchronously here and must be able to re-arm),
 * wake the polls interested in it, and drop the file reference taken when
 * arming.
 */
function pollCbFired(buf: DmaBuf, dcb: PollCb): void {
  const mask = dcb.active;
  dcb.active = 0;
  dcb.fence = null;
  for (const w of [...buf.pollWaiters]) if (w.events & mask) w.wake();
  fput(buf.file);
}

/**
 * dma_buf_poll. For each requested direction: if its callback is already
 * armed the direction is not ready; else arm it on the first pending
 * fence (holding a file reference until it fires) and report ready only
 * if there was none. POLLIN looks at usage_rw(false) = WRITE, POLLOUT at
 * usage_rw(true) = READ; BOOKKEEP is never looked at.
 */
function dmaBufPoll(buf: DmaBuf, requested: number, pt: PollTable | null): number {
  if (pt) {
    const w: PollWaiter = { events: requested, wake: () => pt.wake() };
    buf.pollWaiters.add(w);
    pt.onCancel(() => buf.pollWaiters.delete(w));
  }
  let events = requested & (POLLIN | POLLOUT);
  if (!events) return 0;
  for (const [bit, dcb, write] of [
    [POLLOUT, buf.cbOut, true],
    [POLLIN, buf.cbIn, false],
  ] as const) {
    if (!(events & bit)) continue;
    if (dcb.active) {
      events &= ~bit;
      continue;
    }
    dcb.active = bit;
    getFile(buf.file);
    if (pollAddCb(buf.resv, write, dcb)) {
      events &= ~bit;
    } else {
      // No fence to wait for: dma_buf_poll_cb(NULL, ...) right away. The
      // only poll it could wake is this one, which is about to see the
      // direction ready anyway, so the wake is skipped (the model's wake
      // would re-enter this scan).
      dcb.active = 0;
      fput(buf.file);
    }
  }
  return events;
}

// ---- ioctls ----

/** Export and import share their flag checks: only READ/WRITE bits, at least one. */
function syncFileFlagsValid(flags: number): boolean {
  return (flags & ~DMA_BUF_SYNC_RW) === 0 && (flags & DMA_BUF_SYNC_RW) !== 0;
}

/**
 * DMA_BUF_IOCTL_EXPORT_SYNC_FILE: flags, then the fd reservation, then a
 * snapshot at usage_rw(flags & WRITE): READ waits for writers (and KERNEL
 * fences), WRITE or RW for everyone. None → the global signaled stub, one
 * → that fence itself, several → a new array (dma_resv_get_singleton).
 */
function exportSyncFile(buf: DmaBuf, proc: Process, flags: number): { fd: number; fence?: DmaFence } {
  if (!syncFileFlagsValid(flags)) return { fd: -EINVAL };
  if (!fdAvailable(proc)) return { fd: -EMFILE };
  const usage = dmaResv.usageRw((flags & DMA_BUF_SYNC_WRITE) !== 0);
  const fence = dmaResv.getSingleton(buf.resv, usage) ?? dmaFence.getStub(buf.core);
  return { fd: installSyncFile(proc, fence), fence };
}

/**
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: flags (-EINVAL), then the fd must be a
 * sync_file (-EINVAL, whatever else it is). Usage WRITE if the WRITE bit
 * is set (so RW means WRITE), else READ: never KERNEL, never BOOKKEEP.
 * The sync_file's fence is unwrapped into its leaves, slots reserved for
 * all of them, and each is added with dma_resv_add_fence, which replaces
 * only a signaled fence or an older one of the same context at an equal
 * or weaker usage. Returns the imported leaves (and, in legacy mode, the
 * fences it dropped).
 */
function importSyncFile(
  buf: DmaBuf,
  proc: Process,
  flags: number,
  fd: number,
): number | { leaves: DmaFence[]; dropped: DmaFence[] } {
  if (!syncFileFlagsValid(flags)) return -EINVAL;
  const fence = syncFileGetFence(proc.fget(fd));
  if (!fence) return -EINVAL;
  const usage = flags & DMA_BUF_SYNC_WRITE ? DmaResvUsage.WRITE : DmaResvUsage.READ;
  const leaves = unwrap(fence);
  if (leaves.length === 0) return { leaves, dropped: [] };
  const dropped = buf.core.legacyReplaceImport ? legacyDropFences(buf.resv, usage) : [];
  const r = dmaResv.reserveFences(buf.resv, leaves.length);
  if (r < 0) return r;
  for (const f of leaves) dmaResv.addFence(buf.resv, f, usage);
  if (dropped.length > 0) legacyRearmPoll(buf, dropped);
  return { leaves, dropped };
}

/**
 * NOT LINUX: the 2020 RFC's import (kernel.legacyReplaceImport), kept only
 * to show why Linux refused it. The RFC set the imported fence with the
 * reservation object of the time, which had one exclusive slot plus
 * shared slots:
 * - a WRITE import was dma_resv_add_excl_fence, which replaced the
 *   exclusive fence and dropped every shared one. In today's usages the
 *   exclusive slot held KERNEL (moves, clears) and WRITE fences and the
 *   shared slots READ fences, so a WRITE import drops every fence at
 *   KERNEL, WRITE and READ;
 * - a READ import stood for "replace the buffer's readers": it drops the
 *   READ fences and keeps KERNEL and WRITE.
 * BOOKKEEP fences are kept: that usage did not exist then, and the fences
 * it holds today (page-table updates, explicitly synced submissions) never
 * took part in implicit sync, which is all the RFC touched. This keeps the
 * exploit about what König objected to: a process makes a busy buffer
 * look idle (poll, export, implicit-sync waits all see only its own
 * fence), and the dropped fences no longer keep the pages alive.
 *
 * The dropped slots are simply removed from the reservation object; no
 * Linux function does that, which is the point. Returns the dropped
 * (still pending) fences.
 */
function legacyDropFences(resv: DmaResv, usage: DmaResvUsage): DmaFence[] {
  const drop = (u: DmaResvUsage): boolean => (usage === DmaResvUsage.WRITE ? u <= DmaResvUsage.READ : u === DmaResvUsage.READ);
  const dropped = resv.slots.filter((e) => drop(e.usage) && !dmaFence.isSignaled(e.fence)).map((e) => e.fence);
  resv.slots = resv.slots.filter((e) => !drop(e.usage));
  return dropped;
}

/**
 * NOT LINUX, legacy mode only: a poll callback armed on a fence the import
 * dropped fires now, so pollers re-poll and see what the replacement made
 * of the buffer. (Linux never needs this: without removal, an armed fence
 * stays in, or is covered within, the wait set until it signals.)
 */
function legacyRearmPoll(buf: DmaBuf, dropped: readonly DmaFence[]): void {
  for (const dcb of [buf.cbOut, buf.cbIn]) {
    if (dcb.active && dcb.fence && dropped.includes(dcb.fence) && dmaFence.removeCallback(dcb.fence, dcb.cb)) {
      pollCbFired(buf, dcb);
    }
  }
}

/**
 * DMA_BUF_IOCTL_SYNC: CPU access bracketing. Flags must fit READ|WRITE|END
 * and name READ or WRITE (-EINVAL). START waits, like
 * dma_buf_begin_cpu_access, for the fences a CPU access of that kind must
 * wait for; END returns at once.
 */
function syncIoctl(buf: DmaBuf, flags: bigint): number | Promise<number> {
  if ((flags & ~BigInt(DMA_BUF_SYNC_VALID_FLAGS_MASK)) !== 0n) return -EINVAL;
  const rw = Number(flags & BigInt(DMA_BUF_SYNC_RW));
  if (rw === 0) return -EINVAL;
  if (flags & BigInt(DMA_BUF_SYNC_END)) return 0;
  const pending = dmaResv.getFences(buf.resv, dmaResv.usageRw((rw & DMA_BUF_SYNC_WRITE) !== 0));
  if (pending.length === 0) return 0;
  return new Promise((resolve) => {
    let left = pending.length;
    for (const f of pending) dmaFence.onSignaled(f, () => --left === 0 && resolve(0));
  });
}

const DMA_BUF_IOCTLS: readonly IoctlDesc<DmaBuf>[] = [
  structIoctl(DMA_BUF_IOCTL_SYNC, dma_buf_sync, (buf, _proc, arg) => syncIoctl(buf, arg.flags)),
  structIoctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE, dma_buf_export_sync_file, (buf, proc, arg) => {
    const { fd, fence } = exportSyncFile(buf, proc, arg.flags);
    if (fd < 0) return fd;
    arg.fd = fd;
    const core = buf.core;
    if (core.tracing && fence) {
      core.emit({ type: 'dmabuf.export', t: core.now(), pid: proc.pid, buf: buf.id, flags: arg.flags, fence: fence.id });
    }
    return 0;
  }),
  structIoctl(DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dma_buf_import_sync_file, (buf, proc, arg) => {
    const r = importSyncFile(buf, proc, arg.flags, arg.fd);
    if (typeof r === 'number') return r;
    const core = buf.core;
    if (core.tracing) {
      core.emit({
        type: 'dmabuf.import',
        t: core.now(),
        pid: proc.pid,
        buf: buf.id,
        flags: arg.flags,
        fences: r.leaves.map((f) => f.id),
        replace: core.legacyReplaceImport,
        ...(r.dropped.length > 0 ? { dropped: r.dropped.map((f) => f.id) } : {}),
      });
    }
    return 0;
  }),
];

export const dmaBufFops: FileOps = {
  name: 'dmabuf',
  ioctl: ioctlDispatch(DMA_BUF_IOCTLS, -ENOTTY),
  poll(file, events, pt) {
    return dmaBufPoll(file.priv as DmaBuf, events, pt);
  },
  release(file) {
    dmaBufRelease(file.priv as DmaBuf);
  },
  /** dma_buf_getfile's inode: on the dma-buf filesystem, numbered by the buffer, i_size its size. */
  getattr(file) {
    const buf = file.priv as DmaBuf;
    return { st_dev: DMABUF_FS_DEV, st_ino: buf.id, st_mode: ANON_INODE_MODE, st_size: buf.size };
  },
};

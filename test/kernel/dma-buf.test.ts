import { describe, expect, it } from 'vitest';
import * as dmaFence from '../../shared/kernel/dma-fence';
import type { DmaFence } from '../../shared/kernel/dma-fence';
import { dmaBufFromFile } from '../../shared/kernel/dma-buf';
import * as dmaResv from '../../shared/kernel/dma-resv';
import { DmaResvUsage } from '../../shared/kernel/dma-resv';
import { EINVAL, EMFILE, ENOTTY } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import { allocPages, pageGeneration, pageOwner } from '../../shared/kernel/page-pool';
import type { Process } from '../../shared/kernel/process';
import { syncFileGetFence } from '../../shared/kernel/sync-file';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_WRITE,
  POLLIN,
  POLLOUT,
} from '../../shared/kernel/uapi';
import {
  allocBuf,
  createFence,
  exportSyncFile,
  fenceStatus,
  fileInfo,
  importSyncFile,
  inc,
  ioctlSync,
  machine,
  merge,
} from './sync-helpers';

const READ = DMA_BUF_SYNC_READ;
const WRITE = DMA_BUF_SYNC_WRITE;
const RW = DMA_BUF_SYNC_RW;

function setup(opts: Parameters<typeof machine>[0] = {}) {
  const m = machine(opts);
  const { p } = m;
  const heap = p.open('/dev/dma_heap/system');
  const buf = allocBuf(p, heap);
  const tl = p.open('/dev/sw_sync');
  return { ...m, heap, buf, tl };
}

function fenceOf(p: Process, fd: number): DmaFence {
  const f = syncFileGetFence(p.fget(fd));
  if (!f) throw new Error(`fd ${fd} is not a sync_file`);
  return f;
}

/** A kernel user attaching a fence directly (a driver's job, a move). */
function attach(p: Process, bufFd: number, fence: DmaFence, usage: DmaResvUsage): void {
  const buf = dmaBufFromFile(p.fget(bufFd))!;
  dmaResv.reserveFences(buf.resv, 1);
  dmaResv.addFence(buf.resv, fence, usage);
}

async function pollMask(p: Process, fd: number, events: number): Promise<number> {
  const pfd = { fd, events, revents: 0 };
  await p.poll([pfd], 0);
  return pfd.revents;
}

describe('DMA_BUF_IOCTL_EXPORT_SYNC_FILE', () => {
  it('export of an idle buffer is the signaled stub', () => {
    const { p, buf } = setup();
    const fd = exportSyncFile(p, buf, RW);
    const info = fileInfo(p, fd);
    expect(info.fences).toEqual([
      { obj_name: 'stub', driver_name: 'stub', status: 1, flags: 0, timestamp_ns: expect.any(BigInt) as unknown },
    ]);
    expect(fenceOf(p, fd)).toBe(dmaFence.getStub(fenceOf(p, fd).core));
  });

  it('a single pending fence is exported as itself, not wrapped', () => {
    const { p, buf, tl } = setup();
    const f = createFence(p, tl, 1);
    importSyncFile(p, buf, WRITE, f);
    const ex = exportSyncFile(p, buf, READ);
    expect(fenceOf(p, ex)).toBe(fenceOf(p, f));
    expect(fileInfo(p, ex).fences[0]!.driver_name).toBe('sw_sync');
  });

  it('export READ sees writers only; export WRITE and RW see readers and writers', () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    const writer = createFence(p, tl, 1);
    const reader = createFence(p, t2, 1);
    importSyncFile(p, buf, WRITE, writer);
    importSyncFile(p, buf, READ, reader);
    expect(fenceOf(p, exportSyncFile(p, buf, READ))).toBe(fenceOf(p, writer));
    expect(fileInfo(p, exportSyncFile(p, buf, WRITE)).fences.length).toBe(2);
    expect(fileInfo(p, exportSyncFile(p, buf, RW)).fences.length).toBe(2);
  });

  it('a READ export of a buffer with only readers is the stub (IGT export-multiwait)', () => {
    const { p, buf, tl } = setup();
    importSyncFile(p, buf, READ, createFence(p, tl, 1));
    expect(fileInfo(p, exportSyncFile(p, buf, READ)).fences[0]!.driver_name).toBe('stub');
    expect(fenceStatus(p, exportSyncFile(p, buf, WRITE))).toBe(0);
  });

  it('KERNEL fences are seen by every export; BOOKKEEP fences by none', () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    const move = fenceOf(p, createFence(p, tl, 1));
    const pt = fenceOf(p, createFence(p, t2, 1));
    attach(p, buf, move, DmaResvUsage.KERNEL);
    attach(p, buf, pt, DmaResvUsage.BOOKKEEP);
    expect(fenceOf(p, exportSyncFile(p, buf, READ))).toBe(move);
    expect(fenceOf(p, exportSyncFile(p, buf, WRITE))).toBe(move);
  });

  it('export is a snapshot: fences attached later are not in it (IGT export-wait-after-attach)', () => {
    const { p, buf, tl } = setup();
    const ex = exportSyncFile(p, buf, RW);
    importSyncFile(p, buf, WRITE, createFence(p, tl, 1));
    expect(fenceStatus(p, ex)).toBe(1);
  });

  it('signaled fences are left out of the export', () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    importSyncFile(p, buf, WRITE, createFence(p, tl, 1));
    const pending = createFence(p, t2, 1);
    importSyncFile(p, buf, WRITE, pending);
    inc(p, tl, 1);
    expect(fenceOf(p, exportSyncFile(p, buf, RW))).toBe(fenceOf(p, pending));
  });

  it('an export fence signals when the attached work does (IGT export-basic)', async () => {
    const { p, buf, tl } = setup();
    importSyncFile(p, buf, WRITE, createFence(p, tl, 1));
    const ex = exportSyncFile(p, buf, RW);
    expect(fenceStatus(p, ex)).toBe(0);
    inc(p, tl, 1);
    expect(fenceStatus(p, ex)).toBe(1);
  });

  it('flags outside READ|WRITE, or with neither, are EINVAL', () => {
    const { p, buf } = setup();
    expect(exportSyncFile(p, buf, 0)).toBe(-EINVAL);
    expect(exportSyncFile(p, buf, DMA_BUF_SYNC_END | READ)).toBe(-EINVAL);
    expect(exportSyncFile(p, buf, 8)).toBe(-EINVAL);
  });

  it('export without a free fd is EMFILE', () => {
    const { kernel } = machine({ limits: { maxFds: 2 } });
    const p = kernel.spawn('igt');
    const heap = p.open('/dev/dma_heap/system');
    const buf = allocBuf(p, heap);
    expect(exportSyncFile(p, buf, READ)).toBe(-EMFILE);
  });
});

describe('DMA_BUF_IOCTL_IMPORT_SYNC_FILE', () => {
  it('import then export sees the imported fence (IGT import-basic)', () => {
    const { p, buf, tl } = setup();
    const f = createFence(p, tl, 1);
    expect(importSyncFile(p, buf, WRITE, f)).toBe(0);
    expect(fenceOf(p, exportSyncFile(p, buf, READ))).toBe(fenceOf(p, f));
  });

  it('import READ adds a reader: a READ export ignores it, a WRITE export waits', () => {
    const { p, buf, tl } = setup();
    importSyncFile(p, buf, READ, createFence(p, tl, 1));
    expect(fenceStatus(p, exportSyncFile(p, buf, READ))).toBe(1);
    expect(fenceStatus(p, exportSyncFile(p, buf, WRITE))).toBe(0);
  });

  it('import RW is a WRITE import', () => {
    const { p, buf, tl } = setup();
    importSyncFile(p, buf, RW, createFence(p, tl, 1));
    expect(fenceStatus(p, exportSyncFile(p, buf, READ))).toBe(0);
  });

  it('an imported merge is unwrapped: the resv holds its leaves, never the array', () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    const a = createFence(p, tl, 1);
    const b = createFence(p, t2, 1);
    importSyncFile(p, buf, WRITE, merge(p, a, b));
    const resv = dmaBufFromFile(p.fget(buf))!.resv;
    expect([...dmaResv.entries(resv)].map((e) => e.fence)).toEqual([fenceOf(p, a), fenceOf(p, b)]);
  });

  it('import adds beside existing fences (IGT import-existing-*)', () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    const existing = fenceOf(p, createFence(p, tl, 1));
    attach(p, buf, existing, DmaResvUsage.WRITE);
    importSyncFile(p, buf, WRITE, createFence(p, t2, 1));
    expect(fileInfo(p, exportSyncFile(p, buf, READ)).fences.length).toBe(2);
    inc(p, t2, 1);
    expect(fenceOf(p, exportSyncFile(p, buf, READ))).toBe(existing);
  });

  it('importing an older fence of a context does not evict the newer one', () => {
    const { p, buf, tl } = setup();
    const older = createFence(p, tl, 1);
    const newer = createFence(p, tl, 2);
    importSyncFile(p, buf, WRITE, newer);
    importSyncFile(p, buf, WRITE, older);
    inc(p, tl, 1);
    expect(fenceStatus(p, exportSyncFile(p, buf, READ))).toBe(0);
  });

  it('import promotes a BOOKKEEP fence so that implicit sync sees it', () => {
    const { p, buf, tl } = setup();
    const fd = createFence(p, tl, 1);
    attach(p, buf, fenceOf(p, fd), DmaResvUsage.BOOKKEEP);
    expect(fenceStatus(p, exportSyncFile(p, buf, RW))).toBe(1);
    importSyncFile(p, buf, WRITE, fd);
    expect(fenceOf(p, exportSyncFile(p, buf, READ))).toBe(fenceOf(p, fd));
    const resv = dmaBufFromFile(p.fget(buf))!.resv;
    expect([...dmaResv.entries(resv)].length).toBe(1);
  });

  it('an fd that is not a sync_file is EINVAL', () => {
    const { p, buf, tl } = setup();
    expect(importSyncFile(p, buf, WRITE, -1)).toBe(-EINVAL);
    expect(importSyncFile(p, buf, WRITE, tl)).toBe(-EINVAL);
    expect(importSyncFile(p, buf, WRITE, buf)).toBe(-EINVAL);
    expect(importSyncFile(p, buf, WRITE, 999)).toBe(-EINVAL);
  });

  it('flags outside READ|WRITE, or with neither, are EINVAL', () => {
    const { p, buf, tl } = setup();
    const f = createFence(p, tl, 1);
    expect(importSyncFile(p, buf, 0, f)).toBe(-EINVAL);
    expect(importSyncFile(p, buf, WRITE | 4, f)).toBe(-EINVAL);
    expect(fenceStatus(p, exportSyncFile(p, buf, RW))).toBe(1);
  });

  it('import and export emit events', () => {
    const { p, buf, tl, kernel } = setup();
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const f = createFence(p, tl, 1);
    importSyncFile(p, buf, WRITE, f);
    exportSyncFile(p, buf, READ);
    const id = dmaBufFromFile(p.fget(buf))!.id;
    const fid = fenceOf(p, f).id;
    expect(events.find((e) => e.type === 'dmabuf.import')).toMatchObject({ pid: p.pid, buf: id, flags: WRITE, fences: [fid], replace: false });
    expect(events.find((e) => e.type === 'dmabuf.export')).toMatchObject({ pid: p.pid, buf: id, flags: READ, fence: fid });
  });
});

describe('dma-buf poll', () => {
  it('an idle buffer is readable and writable', async () => {
    const { p, buf } = setup();
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
  });

  it('POLLIN waits for writers; POLLOUT waits for readers and writers', async () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    importSyncFile(p, buf, READ, createFence(p, tl, 1));
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(POLLIN);
    importSyncFile(p, buf, WRITE, createFence(p, t2, 1));
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(0);
    inc(p, t2, 1);
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(POLLIN);
    inc(p, tl, 1);
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
  });

  it('only the requested events are reported', async () => {
    const { p, buf } = setup();
    expect(await pollMask(p, buf, POLLOUT)).toBe(POLLOUT);
    expect(await pollMask(p, buf, 0x40)).toBe(0);
  });

  it('BOOKKEEP fences are invisible to poll; KERNEL fences block both directions', async () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    attach(p, buf, fenceOf(p, createFence(p, tl, 1)), DmaResvUsage.BOOKKEEP);
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
    attach(p, buf, fenceOf(p, createFence(p, t2, 1)), DmaResvUsage.KERNEL);
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(0);
  });

  it('a blocked poll wakes when the last writer signals', async () => {
    const { p, buf, tl } = setup();
    const t2 = p.open('/dev/sw_sync');
    importSyncFile(p, buf, WRITE, createFence(p, tl, 1));
    importSyncFile(p, buf, WRITE, createFence(p, t2, 1));
    const pfd = { fd: buf, events: POLLIN, revents: 0 };
    let n = -1;
    const done = p.poll([pfd], -1).then((r) => (n = r));
    inc(p, tl, 1);
    await Promise.resolve();
    expect(n).toBe(-1);
    inc(p, t2, 1);
    await done;
    expect(n).toBe(1);
    expect(pfd.revents).toBe(POLLIN);
  });
});

describe('DMA_BUF_IOCTL_SYNC and other requests', () => {
  it('flags must fit READ|WRITE|END and name READ or WRITE', () => {
    const { p, buf } = setup();
    expect(ioctlSync(p, buf, DMA_BUF_IOCTL_SYNC, { flags: 0n })).toBe(-EINVAL);
    expect(ioctlSync(p, buf, DMA_BUF_IOCTL_SYNC, { flags: BigInt(DMA_BUF_SYNC_END) })).toBe(-EINVAL);
    expect(ioctlSync(p, buf, DMA_BUF_IOCTL_SYNC, { flags: 8n | BigInt(READ) })).toBe(-EINVAL);
    expect(ioctlSync(p, buf, DMA_BUF_IOCTL_SYNC, { flags: BigInt(RW) })).toBe(0);
    expect(ioctlSync(p, buf, DMA_BUF_IOCTL_SYNC, { flags: BigInt(READ | DMA_BUF_SYNC_END) })).toBe(0);
  });

  it('SYNC START waits for the fences a CPU access of that kind must wait for', async () => {
    const { p, buf, tl } = setup();
    importSyncFile(p, buf, READ, createFence(p, tl, 1));
    expect(p.ioctl(buf, DMA_BUF_IOCTL_SYNC, { flags: BigInt(READ) })).toBe(0);
    const r = p.ioctl(buf, DMA_BUF_IOCTL_SYNC, { flags: BigInt(WRITE) });
    expect(r).toBeInstanceOf(Promise);
    inc(p, tl, 1);
    expect(await r).toBe(0);
  });

  it('an unknown request is ENOTTY', () => {
    const { p, buf } = setup();
    expect(ioctlSync(p, buf, 0x40086201, {})).toBe(-ENOTTY);
    expect(ioctlSync(p, buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE - 1, {})).toBe(-ENOTTY);
    expect(DMA_BUF_IOCTL_IMPORT_SYNC_FILE).toBe(0x40086203);
  });
});

describe('dma-buf memory lifetime', () => {
  it('closing the last fd of an idle buffer frees its pages, which the next allocation reuses', () => {
    const { p, buf, kernel } = setup();
    const b = dmaBufFromFile(p.fget(buf))!;
    const page = b.pages[0]!;
    const gen = pageGeneration(kernel.pages, page);
    p.close(buf);
    expect(b.freed).toBe(true);
    expect(allocPages(kernel.pages, 1, 'page table')).toEqual([page]);
    expect(pageGeneration(kernel.pages, page)).toBe(gen + 1);
  });

  it('pages stay while any fence is pending, BOOKKEEP included, and go when it signals', () => {
    const { p, buf, tl, kernel } = setup();
    const b = dmaBufFromFile(p.fget(buf))!;
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    attach(p, buf, fenceOf(p, createFence(p, tl, 1)), DmaResvUsage.BOOKKEEP);
    p.close(buf);
    expect(b.released).toBe(true);
    expect(b.freed).toBe(false);
    expect(pageOwner(kernel.pages, b.pages[0]!)).toBe('dma-buf');
    expect(events.find((e) => e.type === 'dmabuf.release')).toMatchObject({ buf: b.id, pendingFences: 1 });
    inc(p, tl, 1);
    expect(b.freed).toBe(true);
    expect(events.filter((e) => e.type === 'pages.free')).toMatchObject([{ buf: b.id, pages: b.pages }]);
  });

  it('a dup keeps the buffer alive', () => {
    const { p, buf } = setup();
    const b = dmaBufFromFile(p.fget(buf))!;
    const d = p.dup(buf);
    p.close(buf);
    expect(b.released).toBe(false);
    p.close(d);
    expect(b.freed).toBe(true);
  });

  it('by default an import cannot make a busy buffer look idle or free its pages early', async () => {
    const { p, buf, tl, kernel } = setup();
    const gpu = p.open('/dev/sw_sync');
    const job = createFence(p, gpu, 1);
    importSyncFile(p, buf, WRITE, job);
    const signaled = createFence(p, tl, 0);
    importSyncFile(p, buf, WRITE, signaled);
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(0);
    const b = dmaBufFromFile(p.fget(buf))!;
    p.close(buf);
    expect(allocPages(kernel.pages, 1, 'page table')).not.toEqual([b.pages[0]]);
    expect(b.freed).toBe(false);
  });
});

describe('legacyReplaceImport (the 2020 RFC, not Linux)', () => {
  it('a WRITE import replaces the KERNEL, WRITE and READ fences but keeps BOOKKEEP', () => {
    const { p, buf } = setup({ legacyReplaceImport: true });
    const tls = [0, 1, 2, 3, 4].map(() => p.open('/dev/sw_sync'));
    const [k, w, r, bk] = [0, 1, 2, 3].map((i) => fenceOf(p, createFence(p, tls[i]!, 1)));
    attach(p, buf, k!, DmaResvUsage.KERNEL);
    attach(p, buf, w!, DmaResvUsage.WRITE);
    attach(p, buf, r!, DmaResvUsage.READ);
    attach(p, buf, bk!, DmaResvUsage.BOOKKEEP);
    const mine = createFence(p, tls[4]!, 1);
    importSyncFile(p, buf, WRITE, mine);
    const resv = dmaBufFromFile(p.fget(buf))!.resv;
    expect([...dmaResv.entries(resv)].map((e) => e.fence)).toEqual([bk, fenceOf(p, mine)]);
  });

  it('a READ import replaces the READ fences only', () => {
    const { p, buf } = setup({ legacyReplaceImport: true });
    const tls = [0, 1, 2].map(() => p.open('/dev/sw_sync'));
    const [w, r] = [0, 1].map((i) => fenceOf(p, createFence(p, tls[i]!, 1)));
    attach(p, buf, w!, DmaResvUsage.WRITE);
    attach(p, buf, r!, DmaResvUsage.READ);
    const mine = createFence(p, tls[2]!, 1);
    importSyncFile(p, buf, READ, mine);
    const resv = dmaBufFromFile(p.fget(buf))!.resv;
    expect([...dmaResv.entries(resv)].map((e) => e.fence)).toEqual([w, fenceOf(p, mine)]);
  });

  it('pollers armed on a dropped fence are woken and see the buffer idle', async () => {
    const { p, buf, tl } = setup({ legacyReplaceImport: true });
    const gpu = p.open('/dev/sw_sync');
    attach(p, buf, fenceOf(p, createFence(p, gpu, 1)), DmaResvUsage.WRITE);
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(0);
    const pfd = { fd: buf, events: POLLOUT, revents: 0 };
    const woke = p.poll([pfd], -1);
    importSyncFile(p, buf, WRITE, createFence(p, tl, 0));
    expect(await woke).toBe(1);
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
  });

  it('König’s exploit: a busy buffer made to look idle is freed and its pages become a page table', async () => {
    const { p, buf, tl, kernel } = setup({ legacyReplaceImport: true });
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const gpu = p.open('/dev/sw_sync');
    const job = fenceOf(p, createFence(p, gpu, 1));
    attach(p, buf, job, DmaResvUsage.WRITE);
    importSyncFile(p, buf, WRITE, createFence(p, tl, 0));
    expect(await pollMask(p, buf, POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
    expect(fenceStatus(p, exportSyncFile(p, buf, RW))).toBe(1);
    const b = dmaBufFromFile(p.fget(buf))!;
    p.close(buf);
    expect(b.freed).toBe(true);
    expect(allocPages(kernel.pages, 1, 'page table')).toEqual([b.pages[0]]);
    expect(job.signaled).toBe(false);
    expect(events.find((e) => e.type === 'dmabuf.import')).toMatchObject({ replace: true, dropped: [job.id] });
  });
});

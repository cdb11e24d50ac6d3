import { describe, expect, it } from 'vitest';
import { EBADF, EEXIST, EFAULT, EINVAL, EMFILE, ENOENT, ENOMEM, ETIMEDOUT, EIO } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import { pageOwner } from '../../shared/kernel/page-pool';
import { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, requestName } from '../../shared/kernel/uapi';
import {
  DRM_IOCTL_VGPU_RING_CLOSE,
  DRM_IOCTL_VGPU_RING_NEW,
  DRM_IOCTL_VGPU_RING_QUERY,
  DRM_IOCTL_VGPU_SUBMIT,
  VGPU_BO_READ,
  VGPU_BO_WRITE,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  VGPU_SUBMIT_NO_IMPLICIT,
} from '../../shared/kernel/vgpu-drm';
import type { VgpuJobView } from '../../shared/kernel/vgpu';
import { MS, alloc, client, exportSync, fenceInfo, pollNow, ringNew, setup, submit, submitArgs, swFence } from './vgpu-helpers';

const W = (fd: number) => ({ fd, flags: VGPU_BO_WRITE });
const R = (fd: number) => ({ fd, flags: VGPU_BO_READ });

function jobStarts(events: KernelEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'job.start' ? [`${e.label}@${e.t / MS}`] : []));
}

describe('vgpu uapi', () => {
  it('request numbers follow from the struct sizes and have uapi names', () => {
    expect(DRM_IOCTL_VGPU_SUBMIT).toBe(0xc0606440);
    expect(DRM_IOCTL_VGPU_RING_NEW).toBe(0xc0286441);
    expect(DRM_IOCTL_VGPU_RING_QUERY).toBe(0xc0286442);
    expect(DRM_IOCTL_VGPU_RING_CLOSE).toBe(0xc0086443);
    expect(requestName(DRM_IOCTL_VGPU_SUBMIT)).toBe('DRM_IOCTL_VGPU_SUBMIT');
  });
});

describe('vgpu submit', () => {
  it('a submit returns the seqno and an out sync_file of the job fence on the gfx timeline', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'app');
    const a = submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_OUT, duration_ns: 4n * MS });
    expect(a.r).toBe(0);
    expect(a.args.fence).toBe(1);
    const info = fenceInfo(p, a.args.fence_fd);
    expect(info).toMatchObject({ driver_name: 'vgpu', obj_name: 'gfx', status: 0 });
    expect(submit(p, drm).args.fence).toBe(2);
    clock.advance(4n * MS);
    expect(fenceInfo(p, a.args.fence_fd)).toMatchObject({ status: 1, timestamp_ns: 4n * MS });
  });

  it('an empty label takes the process name', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'weston');
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    submit(p, drm);
    submit(p, drm, { label: 'blit' });
    expect(events.flatMap((e) => (e.type === 'job.queued' ? [e.label] : []))).toEqual(['weston', 'blit']);
  });

  it('a write job publishes its fence at WRITE: the buffer is neither readable nor writable until it ends', async () => {
    const { kernel, clock } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    const buf = alloc(p, heap);
    expect(await pollNow(p, buf)).toEqual([true, true]);
    submit(p, drm, { bos: [W(buf)], duration_ns: 2n * MS });
    expect(await pollNow(p, buf)).toEqual([false, false]);
    const ex = exportSync(p, buf, DMA_BUF_SYNC_READ);
    expect(fenceInfo(p, ex)).toMatchObject({ driver_name: 'vgpu', obj_name: 'gfx', status: 0 });
    clock.advance(2n * MS);
    expect(await pollNow(p, buf)).toEqual([true, true]);
  });

  it('a read job publishes its fence at READ: readers may go on, writers must wait', async () => {
    const { kernel, clock } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    const buf = alloc(p, heap);
    submit(p, drm, { bos: [R(buf)], duration_ns: 2n * MS });
    expect(await pollNow(p, buf)).toEqual([true, false]);
    clock.advance(2n * MS);
    expect(await pollNow(p, buf)).toEqual([true, true]);
  });

  it('implicit sync: a write waits for readers and writers, a read waits only for writers', () => {
    const { kernel, clock } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    const rings = ['a', 'b', 'c', 'd'].map((n) => ringNew(p, drm, n));
    const buf = alloc(p, heap);
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    // Different rings, so only implicit sync can order them.
    submit(p, drm, { ring: rings[0], bos: [R(buf)], duration_ns: 5n * MS, label: 'read1' });
    submit(p, drm, { ring: rings[1], bos: [R(buf)], duration_ns: 3n * MS, label: 'read2' });
    submit(p, drm, { ring: rings[2], bos: [W(buf)], duration_ns: 4n * MS, label: 'write' });
    submit(p, drm, { ring: rings[3], bos: [R(buf)], duration_ns: 1n * MS, label: 'read3' });
    clock.advance(20n * MS);
    expect(jobStarts(events)).toEqual(['read1@0', 'read2@0', 'write@5', 'read3@9']);
  });

  it('a read-write buffer (READ|WRITE) counts as a write', () => {
    const { kernel, clock } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    const [a, b] = [ringNew(p, drm, 'a'), ringNew(p, drm, 'b')];
    const buf = alloc(p, heap);
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    submit(p, drm, { ring: a, bos: [R(buf)], duration_ns: 2n * MS, label: 'read' });
    submit(p, drm, { ring: b, bos: [{ fd: buf, flags: VGPU_BO_READ | VGPU_BO_WRITE }], label: 'rw' });
    clock.advance(5n * MS);
    expect(jobStarts(events)).toEqual(['read@0', 'rw@2']);
  });

  it('NO_IMPLICIT neither waits on the buffer nor shows in implicit sync, but memory management sees it (BOOKKEEP)', async () => {
    const { kernel, clock } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    const other = ringNew(p, drm, 'other');
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const buf = alloc(p, heap);
    submit(p, drm, { bos: [W(buf)], duration_ns: 5n * MS, label: 'implicit' });
    const ex = submit(p, drm, {
      ring: other,
      flags: VGPU_SUBMIT_NO_IMPLICIT,
      bos: [W(buf)],
      duration_ns: 10n * MS,
      label: 'explicit',
    });
    expect(ex.r).toBe(0);
    expect(jobStarts(events)).toEqual(['implicit@0', 'explicit@0']);
    const usages = events.flatMap((e) => (e.type === 'resv.add' ? [e.usage] : []));
    expect(usages).toEqual(['WRITE', 'BOOKKEEP']);
    clock.advance(5n * MS);
    // Only the BOOKKEEP fence is left: invisible to poll.
    expect(await pollNow(p, buf)).toEqual([true, true]);
    // ... but it keeps the pages: close the buffer, they stay until the job ends.
    const pages = events.flatMap((e) => (e.type === 'dmabuf.alloc' ? e.pages : []));
    const page = pages[0] ?? -1;
    expect(page).toBeGreaterThanOrEqual(0);
    p.close(buf);
    expect(pageOwner(kernel.pages, page)).toBe('dma-buf');
    clock.advance(5n * MS);
    expect(pageOwner(kernel.pages, page)).toBe(undefined);
  });

  it('FENCE_FD_IN: the job waits for the sync_file', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'app');
    const sw = swFence(p);
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const s = submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_IN | VGPU_SUBMIT_FENCE_FD_OUT, fence_fd: sw.fd, label: 'gated' });
    expect(s.r).toBe(0);
    expect(s.args.fence_fd).not.toBe(sw.fd);
    clock.advance(3n * MS);
    expect(jobStarts(events)).toEqual([]);
    sw.signal();
    expect(jobStarts(events)).toEqual(['gated@3']);
  });

  it('jobs of one ring run in submission order even when a later one is ready first', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'app');
    const sw = swFence(p);
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_IN, fence_fd: sw.fd, label: 'first' });
    submit(p, drm, { label: 'second' });
    clock.advance(2n * MS);
    expect(jobStarts(events)).toEqual([]);
    sw.signal();
    clock.advance(2n * MS);
    expect(jobStarts(events)).toEqual(['first@2', 'second@3']);
  });

  it('a hung job signals -ETIMEDOUT and the ring goes on', () => {
    const { kernel, clock } = setup({ vgpu: { jobTimeoutNs: 100n * MS } });
    const { p, drm } = client(kernel, 'app');
    const hung = submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_OUT, duration_ns: 10_000n * MS });
    const next = submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_OUT, duration_ns: 1n * MS });
    clock.advance(100n * MS);
    expect(fenceInfo(p, hung.args.fence_fd).status).toBe(-ETIMEDOUT);
    expect(fenceInfo(p, next.args.fence_fd).status).toBe(0);
    clock.advance(1n * MS);
    expect(fenceInfo(p, next.args.fence_fd).status).toBe(1);
    expect(kernel.vgpu.ringStats('gfx')).toMatchObject({ hangs: 1, completed: 2 });
  });

  it('the same buffer through two fds counts once, with its flags united', () => {
    const { kernel } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    const buf = alloc(p, heap);
    const dup = p.dup(buf);
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    expect(submit(p, drm, { bos: [R(buf), W(dup)] }).r).toBe(0);
    const q = events.find((e) => e.type === 'job.queued');
    expect(q?.type === 'job.queued' && q.bos?.map((b) => b.access)).toEqual(['write']);
    expect(events.filter((e) => e.type === 'resv.add').length).toBe(1);
  });
});

describe('vgpu submit errors', () => {
  function ctx() {
    const { kernel } = setup();
    const { p, drm, heap } = client(kernel, 'app');
    const buf = alloc(p, heap);
    return { kernel, p, drm, heap, buf };
  }

  it('pad ≠ 0 is -EINVAL', () => {
    const { p, drm } = ctx();
    expect(submit(p, drm, { pad: 1 }).r).toBe(-EINVAL);
  });

  it('an unknown submit flag is -EINVAL', () => {
    const { p, drm } = ctx();
    expect(submit(p, drm, { flags: 0x1 }).r).toBe(-EINVAL);
  });

  it('flags combined with | (a negative int32 in JavaScript) mean the same u32 flags', () => {
    const { p, drm } = ctx();
    const flags = VGPU_SUBMIT_NO_IMPLICIT | VGPU_SUBMIT_FENCE_FD_OUT;
    expect(flags).toBeLessThan(0);
    const s = submit(p, drm, { flags });
    expect(s.r).toBe(0);
    expect(s.args.fence_fd).toBeGreaterThanOrEqual(0);
    expect(submit(p, drm, { flags: flags >>> 0 }).r).toBe(0);
  });

  it('flags that are not a 32-bit integer are -EFAULT', () => {
    const { p, drm } = ctx();
    expect(submit(p, drm, { flags: 2 ** 32 }).r).toBe(-EFAULT);
    expect(submit(p, drm, { flags: 0.5 }).r).toBe(-EFAULT);
  });

  it('an unknown ring is -ENOENT', () => {
    const { p, drm } = ctx();
    expect(submit(p, drm, { ring: 77 }).r).toBe(-ENOENT);
  });

  it("another file's private ring is -ENOENT", () => {
    const { kernel, p, drm } = ctx();
    const mine = ringNew(p, drm, 'mine');
    const other = client(kernel, 'other');
    expect(submit(other.p, other.drm, { ring: mine }).r).toBe(-ENOENT);
    expect(submit(p, drm, { ring: mine }).r).toBe(0);
  });

  it('FENCE_FD_OUT with no free fd is -EMFILE and queues nothing', () => {
    const { kernel, clock } = setup({ limits: { maxFds: 3 } });
    const { p, drm } = client(kernel, 'app');
    expect(p.open('/dev/sw_sync')).toBe(2);
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    expect(submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_OUT }).r).toBe(-EMFILE);
    clock.advance(10n * MS);
    expect(events.filter((e) => e.type.startsWith('job.') || e.type === 'fence.init')).toEqual([]);
    expect(submit(p, drm).args.fence).toBe(1);
  });

  it('FENCE_FD_IN with an fd that is not a sync_file is -EINVAL', () => {
    const { p, drm, buf } = ctx();
    expect(submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_IN, fence_fd: -1 }).r).toBe(-EINVAL);
    expect(submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_IN, fence_fd: buf }).r).toBe(-EINVAL);
    expect(submit(p, drm, { flags: VGPU_SUBMIT_FENCE_FD_IN, fence_fd: 99 }).r).toBe(-EINVAL);
  });

  it('a bo array shorter than nr_bos, or a malformed bo, is -EFAULT', () => {
    const { p, drm, buf } = ctx();
    expect(submit(p, drm, { nr_bos: 2, bos: [W(buf)] }).r).toBe(-EFAULT);
    expect(submit(p, drm, { nr_bos: 1, bos: null }).r).toBe(-EFAULT);
    const bad = submitArgs({ nr_bos: 1 });
    (bad as { bos: unknown }).bos = [{ fd: buf, flags: 'w' }];
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_SUBMIT, bad)).toBe(-EFAULT);
  });

  it('a malformed submit struct is -EFAULT', () => {
    const { p, drm } = ctx();
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_SUBMIT, { flags: 0 })).toBe(-EFAULT);
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_SUBMIT, submitArgs({ duration_ns: 5 as unknown as bigint }))).toBe(-EFAULT);
  });

  it('bo flags with neither READ nor WRITE, or unknown bits, are -EINVAL', () => {
    const { p, drm, buf } = ctx();
    expect(submit(p, drm, { bos: [{ fd: buf, flags: 0 }] }).r).toBe(-EINVAL);
    expect(submit(p, drm, { bos: [{ fd: buf, flags: VGPU_BO_WRITE | 0x4 }] }).r).toBe(-EINVAL);
  });

  it('bo flags are checked for every bo before any fd', () => {
    const { p, drm, buf } = ctx();
    expect(submit(p, drm, { bos: [W(99), { fd: buf, flags: 0 }] }).r).toBe(-EINVAL);
  });

  it('a bo fd that is not open is -EBADF; one that is not a dma-buf is -EINVAL', () => {
    const { p, drm } = ctx();
    expect(submit(p, drm, { bos: [W(99)] }).r).toBe(-EBADF);
    expect(submit(p, drm, { bos: [W(drm)] }).r).toBe(-EINVAL);
  });

  it('a failed submit adds no fence to any buffer', async () => {
    const { p, drm, buf } = ctx();
    expect(submit(p, drm, { bos: [W(buf), W(99)] }).r).toBe(-EBADF);
    expect(await pollNow(p, buf)).toEqual([true, true]);
  });

  it('an unknown request on the DRM device is -EINVAL', () => {
    const { p, drm } = ctx();
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_SUBMIT + 0x10, submitArgs())).toBe(-EINVAL);
  });
});

describe('vgpu rings', () => {
  it('RING_QUERY finds gfx as ring 0 and a private ring only for its owner', () => {
    const { kernel } = setup();
    const a = client(kernel, 'a');
    const b = client(kernel, 'b');
    const q = { name: 'gfx', ring: 99, pad: 0 };
    expect(b.p.ioctl(b.drm, DRM_IOCTL_VGPU_RING_QUERY, q)).toBe(0);
    expect(q.ring).toBe(0);
    const mine = ringNew(a.p, a.drm, 'compositor');
    const qa = { name: 'compositor', ring: 0, pad: 0 };
    expect(a.p.ioctl(a.drm, DRM_IOCTL_VGPU_RING_QUERY, qa)).toBe(0);
    expect(qa.ring).toBe(mine);
    expect(b.p.ioctl(b.drm, DRM_IOCTL_VGPU_RING_QUERY, { name: 'compositor', ring: 0, pad: 0 })).toBe(-ENOENT);
    expect(b.p.ioctl(b.drm, DRM_IOCTL_VGPU_RING_QUERY, { name: 'nope', ring: 0, pad: 0 })).toBe(-ENOENT);
    expect(b.p.ioctl(b.drm, DRM_IOCTL_VGPU_RING_QUERY, { name: 'gfx', ring: 0, pad: 1 })).toBe(-EINVAL);
  });

  it('RING_NEW errors: flags -EINVAL, empty name -EINVAL, taken name -EEXIST', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'a');
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, { name: 'x', flags: 2, ring: 0 })).toBe(-EINVAL);
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, { name: '', flags: 0, ring: 0 })).toBe(-EINVAL);
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, { name: 'gfx', flags: 0, ring: 0 })).toBe(-EEXIST);
  });

  it("a private ring's fences have its name as timeline and their own context", () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'a');
    const ring = ringNew(p, drm, 'compositor');
    const s = submit(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT });
    expect(s.args.fence).toBe(1);
    expect(fenceInfo(p, s.args.fence_fd)).toMatchObject({ driver_name: 'vgpu', obj_name: 'compositor' });
  });

  it('RING_CLOSE: own rings only; queued jobs still run; later submits are -ENOENT', () => {
    const { kernel, clock } = setup();
    const a = client(kernel, 'a');
    const b = client(kernel, 'b');
    const ring = ringNew(a.p, a.drm, 'mine');
    const s = submit(a.p, a.drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT });
    expect(b.p.ioctl(b.drm, DRM_IOCTL_VGPU_RING_CLOSE, { ring, pad: 0 })).toBe(-ENOENT);
    expect(a.p.ioctl(a.drm, DRM_IOCTL_VGPU_RING_CLOSE, { ring: 0, pad: 0 })).toBe(-ENOENT);
    expect(a.p.ioctl(a.drm, DRM_IOCTL_VGPU_RING_CLOSE, { ring, pad: 1 })).toBe(-EINVAL);
    expect(a.p.ioctl(a.drm, DRM_IOCTL_VGPU_RING_CLOSE, { ring, pad: 0 })).toBe(0);
    expect(a.p.ioctl(a.drm, DRM_IOCTL_VGPU_RING_CLOSE, { ring, pad: 0 })).toBe(-ENOENT);
    expect(submit(a.p, a.drm, { ring }).r).toBe(-ENOENT);
    clock.advance(1n * MS);
    expect(fenceInfo(a.p, s.args.fence_fd).status).toBe(1);
    expect(ringNew(a.p, a.drm, 'mine')).toBeGreaterThan(ring);
  });

  it("closing the DRM file closes its rings, freeing their names", () => {
    const { kernel } = setup();
    const a = client(kernel, 'a');
    ringNew(a.p, a.drm, 'mine');
    a.p.close(a.drm);
    const b = client(kernel, 'b');
    expect(ringNew(b.p, b.drm, 'mine')).toBeGreaterThan(0);
  });
});

describe('vgpu external engine', () => {
  it("the compositor's ring runs on an attached engine that reports completion", () => {
    const { kernel, clock } = setup();
    const seen: VgpuJobView[] = [];
    kernel.vgpu.attachExternalEngine('compositor', { execute: (j) => seen.push(j) });
    const { p, drm, heap } = client(kernel, 'compositor');
    const ring = ringNew(p, drm, 'compositor');
    const buf = alloc(p, heap);
    const s = submit(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT, bos: [R(buf)], label: 'frame 1' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ label: 'frame 1', ring: 'compositor', pid: p.pid });
    expect(seen[0]?.bos.map((b) => b.access)).toEqual(['read']);
    clock.advance(500n * MS);
    expect(fenceInfo(p, s.args.fence_fd).status).toBe(0);
    expect(kernel.vgpu.job(seen[0]?.id ?? -1)?.label).toBe('frame 1');
    expect(kernel.vgpu.completeJob(seen[0]?.id ?? -1, -EIO)).toBe(0);
    expect(fenceInfo(p, s.args.fence_fd).status).toBe(-EIO);
    kernel.vgpu.detachExternalEngine('compositor');
    const s2 = submit(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT, duration_ns: 1n * MS });
    clock.advance(1n * MS);
    expect(fenceInfo(p, s2.args.fence_fd).status).toBe(1);
  });
});

describe('vgpu memory', () => {
  it('each DRM open takes a page-table page from the pool and close gives it back', () => {
    const { kernel } = setup();
    const p = kernel.spawn('a');
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const drm = p.open('/dev/dri/card0');
    const alloced = events.find((e) => e.type === 'pages.alloc');
    expect(alloced?.type === 'pages.alloc' && alloced.owner).toBe('page table');
    const page = alloced?.type === 'pages.alloc' ? (alloced.pages[0] ?? -1) : -1;
    expect(pageOwner(kernel.pages, page)).toBe('page table');
    p.close(drm);
    expect(pageOwner(kernel.pages, page)).toBe(undefined);
  });

  it("a closed file's page table lives until its last job is done", () => {
    const { kernel, clock } = setup();
    const p = kernel.spawn('a');
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const drm = p.open('/dev/dri/card0');
    const alloced = events.find((e) => e.type === 'pages.alloc');
    const page = alloced?.type === 'pages.alloc' ? (alloced.pages[0] ?? -1) : -1;
    submit(p, drm, { duration_ns: 5n * MS });
    p.exit();
    expect(pageOwner(kernel.pages, page)).toBe('page table');
    clock.advance(5n * MS);
    expect(pageOwner(kernel.pages, page)).toBe(undefined);
  });

  it('opening the DRM device with the page pool exhausted is -ENOMEM', () => {
    const { kernel } = setup({ limits: { pages: 1 } });
    const p = kernel.spawn('a');
    expect(p.open('/dev/dri/card0')).toBeGreaterThanOrEqual(0);
    expect(p.open('/dev/dri/card0')).toBe(-ENOMEM);
  });
});

import { describe, expect, it } from 'vitest';
import * as dmaFence from '../../shared/kernel/dma-fence';
import { EBADF, EFAULT, EMFILE, ENOENT, ENOTTY } from '../../shared/kernel/errno';
import { syncFileGetFence } from '../../shared/kernel/sync-file';
import { timelineFromFile } from '../../shared/kernel/sw-sync';
import { SW_SYNC_IOC_CREATE_FENCE, SYNC_IOC_MERGE } from '../../shared/kernel/uapi';
import { countStatus, createFence, fenceStatus, fileInfo, inc, ioctlSync, machine, merge, readable } from './sync-helpers';

describe('sw_sync timeline', () => {
  it('each open is a new timeline with a fresh context', () => {
    const { p } = machine();
    const a = p.open('/dev/sw_sync');
    const b = p.open('/dev/sw_sync');
    const fa = syncFileGetFence(p.fget(createFence(p, a, 1)))!;
    const fb = syncFileGetFence(p.fget(createFence(p, b, 1)))!;
    expect(fa.context).not.toBe(fb.context);
    expect(fa.context).toBeGreaterThan(0n);
  });

  it('fences report driver "sw_sync" and the opener’s comm as timeline, cut to 15 bytes', () => {
    const { kernel } = machine();
    const p = kernel.spawn('weston-simple-egl-client');
    const tl = p.open('/dev/sw_sync');
    const info = fileInfo(p, createFence(p, tl, 1));
    expect(info.fences[0]).toMatchObject({ driver_name: 'sw_sync', obj_name: 'weston-simple-e', flags: 0 });
  });

  it('value 0 on a fresh timeline is born signaled, timestamped at creation', () => {
    const { p, clock } = machine();
    const tl = p.open('/dev/sw_sync');
    clock.advance(123n);
    const fd = createFence(p, tl, 0);
    const info = fileInfo(p, fd);
    expect(info.status).toBe(1);
    expect(info.fences[0]!.timestamp_ns).toBe(clock.now());
  });

  it('a pending fence has status 0 and timestamp 0 until INC reaches it', async () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 5);
    expect(fileInfo(p, fd).fences[0]).toMatchObject({ status: 0, timestamp_ns: 0n });
    inc(p, tl, 4);
    expect(await readable(p, fd)).toBe(false);
    inc(p, tl, 1);
    expect(await readable(p, fd)).toBe(true);
    expect(fenceStatus(p, fd)).toBe(1);
  });

  it('the same unsignaled value returns the same fence object', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const f1 = syncFileGetFence(p.fget(createFence(p, tl, 7)));
    const f2 = syncFileGetFence(p.fget(createFence(p, tl, 7)));
    expect(f1).toBeDefined();
    expect(f2).toBe(f1);
  });

  it('a reached value gives a new signaled fence each time', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    inc(p, tl, 3);
    const f1 = syncFileGetFence(p.fget(createFence(p, tl, 2)))!;
    const f2 = syncFileGetFence(p.fget(createFence(p, tl, 2)))!;
    expect(f1).not.toBe(f2);
    expect(f1.signaled && f2.signaled).toBe(true);
  });

  it('the name field is ignored: the sync_file is named after driver, timeline, context and seqno', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 3);
    const f = syncFileGetFence(p.fget(fd))!;
    expect(fileInfo(p, fd).name).toBe(`sw_sync-igt${f.context}-3`);
  });

  it('INC signals reached points in seqno order', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const order: bigint[] = [];
    for (const v of [3, 1, 2, 9]) {
      const f = syncFileGetFence(p.fget(createFence(p, tl, v)))!;
      dmaFence.addCallback(f, { func: (x) => order.push(x.seqno) });
    }
    inc(p, tl, 3);
    expect(order).toEqual([1n, 2n, 3n]);
  });

  it('INC with thousands of points signals each exactly once, in order', () => {
    const { p } = machine({ limits: { maxFds: 100_000 } });
    const tl = p.open('/dev/sw_sync');
    const n = 2000;
    const values = Array.from({ length: n }, (_, i) => ((i * 7919) % n) + 1);
    const order: bigint[] = [];
    for (const v of values) {
      const f = syncFileGetFence(p.fget(createFence(p, tl, v)))!;
      dmaFence.addCallback(f, { func: (x) => order.push(x.seqno) });
    }
    inc(p, tl, n / 2);
    inc(p, tl, n / 2);
    expect(order.length).toBe(n);
    expect(order.every((s, i) => s === BigInt(i + 1))).toBe(true);
  });

  it('a point more than 2^31 ahead counts as already signaled (32-bit wrap)', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    expect(fenceStatus(p, createFence(p, tl, 0x8000_0001))).toBe(1);
    expect(fenceStatus(p, createFence(p, tl, 0x7fff_ffff))).toBe(0);
  });

  it('INC is applied in INT_MAX chunks', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    // One step of 0x80000002 would leave seqno 1 "later" than the counter
    // under the wrapped compare; the first INT_MAX chunk reaches it.
    inc(p, tl, 0x8000_0002);
    expect(fenceStatus(p, fd)).toBe(1);
    expect(timelineFromFile(p.fget(tl))!.value).toBe(0x8000_0002);
  });

  it('the counter wraps at 2^32 and points across the wrap signal in order', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    inc(p, tl, 0xffff_fffe);
    const before = createFence(p, tl, 0xffff_ffff);
    const after = createFence(p, tl, 1);
    inc(p, tl, 1);
    expect([fenceStatus(p, before), fenceStatus(p, after)]).toEqual([1, 0]);
    inc(p, tl, 2);
    expect(fenceStatus(p, after)).toBe(1);
    expect(timelineFromFile(p.fget(tl))!.value).toBe(1);
  });

  it('closing the timeline signals pending fences with -ENOENT; they stay usable', async () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const done = createFence(p, tl, 1);
    inc(p, tl, 1);
    const pending = createFence(p, tl, 2);
    expect(p.close(tl)).toBe(0);
    expect(fenceStatus(p, pending)).toBe(-ENOENT);
    expect(await readable(p, pending)).toBe(true);
    expect(fenceStatus(p, done)).toBe(1);
    expect(fileInfo(p, pending).fences[0]!.obj_name).toBe('igt');
  });

  it('a timeline closes only with its last file reference', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const dup = p.dup(tl);
    const fd = createFence(p, tl, 1);
    p.close(tl);
    expect(fenceStatus(p, fd)).toBe(0);
    inc(p, dup, 1);
    expect(fenceStatus(p, fd)).toBe(1);
  });

  it('process exit closes the timeline', () => {
    const { kernel, p } = machine();
    const other = kernel.spawn('producer');
    const tl = other.open('/dev/sw_sync');
    const theirs = createFence(other, tl, 1);
    const mine = p.receiveFd(other, theirs);
    other.exit();
    expect(fenceStatus(p, mine)).toBe(-ENOENT);
  });

  it('merge of fences on closed timelines reports ENOENT per entry', () => {
    const { p } = machine();
    const t1 = p.open('/dev/sw_sync');
    const t2 = p.open('/dev/sw_sync');
    const m = merge(p, createFence(p, t1, 1), createFence(p, t2, 1));
    p.close(t1);
    expect(countStatus(p, m, -ENOENT)).toBe(1);
    expect(fileInfo(p, m).status).toBe(-ENOENT);
  });

  it('a sw_sync fd is not a sync_file: merge into it is ENOTTY, merge with it is ENOENT', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    const data = { name: '', fd2: fd, fence: -1, flags: 0, pad: 0 };
    expect(ioctlSync(p, tl, SYNC_IOC_MERGE, data)).toBe(-ENOTTY);
    expect(merge(p, fd, tl)).toBe(-ENOENT);
  });

  it('create on an invalid fd is EBADF; a malformed argument is EFAULT', () => {
    const { p } = machine();
    expect(createFence(p, -1, 0)).toBe(-EBADF);
    const tl = p.open('/dev/sw_sync');
    expect(ioctlSync(p, tl, SW_SYNC_IOC_CREATE_FENCE, { value: -1, name: '', fence: 0 })).toBe(-EFAULT);
    expect(inc(p, tl, -1)).toBe(-EFAULT);
  });

  it('create without a free fd is EMFILE and creates nothing', () => {
    const { kernel } = machine({ limits: { maxFds: 2 } });
    const p = kernel.spawn('igt');
    const tl = p.open('/dev/sw_sync');
    createFence(p, tl, 1);
    expect(createFence(p, tl, 2)).toBe(-EMFILE);
    expect(timelineFromFile(p.fget(tl))!.heap.length).toBe(1);
  });

  it('an unknown ioctl is ENOTTY', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    expect(ioctlSync(p, tl, 0xc0305702, {})).toBe(-ENOTTY);
  });
});

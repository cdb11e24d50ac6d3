import { describe, expect, it } from 'vitest';
import { EFAULT, EINVAL, EMFILE, ENOENT, ENOTTY } from '../../shared/kernel/errno';
import { syncFileGetFence } from '../../shared/kernel/sync-file';
import { POLLERR, POLLIN, POLLOUT, SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, SYNC_IOC_SET_DEADLINE } from '../../shared/kernel/uapi';
import type { SyncFileInfo } from '../../shared/kernel/uapi-structs';
import { countStatus, createFence, fenceStatus, fileInfo, inc, ioctlSync, machine, merge, readable } from './sync-helpers';

function infoArg(num_fences: number): SyncFileInfo {
  return { name: '', status: 7, flags: 0, num_fences, pad: 0, sync_fence_info: [] };
}

describe('SYNC_IOC_MERGE', () => {
  it('merging a fence with itself yields that fence', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    const m = merge(p, fd, fd);
    expect(syncFileGetFence(p.fget(m))).toBe(syncFileGetFence(p.fget(fd)));
    expect(countStatus(p, m, 0)).toBe(1);
    inc(p, tl, 1);
    expect(countStatus(p, m, 1)).toBe(1);
  });

  it('fences of one timeline merge into its latest point (IGT sync_merge)', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const f = [1, 2, 3].map((v) => createFence(p, tl, v));
    let m = merge(p, f[0]!, f[1]!);
    m = merge(p, f[2]!, m);
    expect(fileInfo(p, m).fences.length).toBe(1);
    inc(p, tl, 2);
    expect(countStatus(p, f[1]!, 1)).toBe(1);
    expect(countStatus(p, m, 0)).toBe(1);
    inc(p, tl, 1);
    expect(countStatus(p, m, 1)).toBe(1);
  });

  it('a merge over timelines lists every component, signaled ones included (IGT multi_timeline_wait)', () => {
    const { p } = machine();
    const tls = [0, 1, 2].map(() => p.open('/dev/sw_sync'));
    const fds = tls.map((tl) => createFence(p, tl, 5));
    const m = merge(p, merge(p, fds[0]!, fds[1]!), fds[2]!);
    expect(countStatus(p, m, 0)).toBe(3);
    inc(p, tls[0]!, 5);
    expect([countStatus(p, m, 0), countStatus(p, m, 1)]).toEqual([2, 1]);
    inc(p, tls[1]!, 5);
    inc(p, tls[2]!, 5);
    expect(countStatus(p, m, 1)).toBe(3);
    expect(fileInfo(p, m).status).toBe(1);
  });

  it('merged entries are sorted by context', () => {
    const { p } = machine();
    const t1 = p.open('/dev/sw_sync');
    const t2 = p.open('/dev/sw_sync');
    const a = createFence(p, t1, 1);
    const b = createFence(p, t2, 1);
    const m = merge(p, b, a);
    const [fa, fb] = [syncFileGetFence(p.fget(a))!, syncFileGetFence(p.fget(b))!];
    const arr = syncFileGetFence(p.fget(m)) as unknown as { fences: unknown[] };
    expect(arr.fences).toEqual([fa, fb]);
  });

  it('signaled inputs are dropped: merging pending A with signaled B gives A', () => {
    const { p } = machine();
    const t1 = p.open('/dev/sw_sync');
    const t2 = p.open('/dev/sw_sync');
    const a = createFence(p, t1, 1);
    const b = createFence(p, t2, 0);
    const m = merge(p, a, b);
    expect(syncFileGetFence(p.fget(m))).toBe(syncFileGetFence(p.fget(a)));
  });

  it('a merge of signaled fences is a private signaled stub with the latest timestamp', () => {
    const { p, clock } = machine();
    const t1 = p.open('/dev/sw_sync');
    const t2 = p.open('/dev/sw_sync');
    const a = createFence(p, t1, 1);
    const b = createFence(p, t2, 1);
    clock.advance(10n);
    inc(p, t2, 1);
    const late = clock.now();
    clock.advance(10n);
    inc(p, t1, 1);
    clock.advance(10n);
    const info = fileInfo(p, merge(p, a, b));
    expect(info.fences).toEqual([{ obj_name: 'stub', driver_name: 'stub', status: 1, flags: 0, timestamp_ns: clock.now() - 10n }]);
    expect(late).toBeLessThan(clock.now());
  });

  it('merging an expired fence repeatedly stays signaled (IGT sync_expired_merge)', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    inc(p, tl, 1);
    for (let i = 0; i < 10; i++) {
      const m = merge(p, fd, fd);
      expect(fenceStatus(p, m)).toBe(1);
      p.close(m);
    }
  });

  it('both inputs stay valid after a merge', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const a = createFence(p, tl, 1);
    const b = createFence(p, tl, 2);
    merge(p, a, b);
    expect([fenceStatus(p, a), fenceStatus(p, b)]).toEqual([0, 0]);
  });

  it('flags or pad non-zero is EINVAL', () => {
    const { p } = machine();
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    expect(ioctlSync(p, fd, SYNC_IOC_MERGE, { name: '', fd2: fd, fence: -1, flags: 1, pad: 0 })).toBe(-EINVAL);
    expect(ioctlSync(p, fd, SYNC_IOC_MERGE, { name: '', fd2: fd, fence: -1, flags: 0, pad: 1 })).toBe(-EINVAL);
  });

  it('fd2 that is not a sync_file is ENOENT', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    expect(merge(p, fd, -1)).toBe(-ENOENT);
    expect(merge(p, fd, 99)).toBe(-ENOENT);
    expect(merge(p, fd, tl)).toBe(-ENOENT);
  });

  it('merge without a free fd is EMFILE', () => {
    const { kernel } = machine({ limits: { maxFds: 2 } });
    const p = kernel.spawn('igt');
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    expect(merge(p, fd, fd)).toBe(-EMFILE);
  });

  it('a malformed argument is EFAULT', () => {
    const { p } = machine();
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    expect(ioctlSync(p, fd, SYNC_IOC_MERGE, { fd2: fd })).toBe(-EFAULT);
    expect(ioctlSync(p, fd, SYNC_IOC_FILE_INFO, null)).toBe(-EFAULT);
  });

  it('the merge name is kept, cut to 31 bytes; an empty name is computed from the fence', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const a = createFence(p, tl, 1);
    const long = 'x'.repeat(40);
    expect(fileInfo(p, merge(p, a, a, long)).name).toBe('x'.repeat(31));
    expect(fileInfo(p, merge(p, a, a, 'frame 7')).name).toBe('frame 7');
    const ctx = syncFileGetFence(p.fget(a))!.context;
    expect(fileInfo(p, merge(p, a, a, '')).name).toBe(`sw_sync-igt${ctx}-1`);
  });
});

describe('SYNC_IOC_FILE_INFO', () => {
  it('num_fences 0 returns the count, the name and the whole fence status without writing entries', () => {
    const { p } = machine();
    const t1 = p.open('/dev/sw_sync');
    const t2 = p.open('/dev/sw_sync');
    const m = merge(p, createFence(p, t1, 1), createFence(p, t2, 1));
    const arg = infoArg(0);
    expect(ioctlSync(p, m, SYNC_IOC_FILE_INFO, arg)).toBe(0);
    expect(arg.num_fences).toBe(2);
    expect(arg.status).toBe(0);
    expect(arg.sync_fence_info).toEqual([]);
    expect(arg.name).toMatch(/^dma_fence_array-unbound\d+-1$/);
  });

  it('too small a num_fences is EINVAL, not a truncation', () => {
    const { p } = machine();
    const t1 = p.open('/dev/sw_sync');
    const t2 = p.open('/dev/sw_sync');
    const m = merge(p, createFence(p, t1, 1), createFence(p, t2, 1));
    const arg = infoArg(1);
    expect(ioctlSync(p, m, SYNC_IOC_FILE_INFO, arg)).toBe(-EINVAL);
    expect(arg.sync_fence_info).toEqual([]);
    expect(arg.status).toBe(7);
  });

  it('a larger num_fences is fine and reports the real count', () => {
    const { p } = machine();
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    const arg = infoArg(8);
    expect(ioctlSync(p, fd, SYNC_IOC_FILE_INFO, arg)).toBe(0);
    expect(arg.num_fences).toBe(1);
    expect(arg.sync_fence_info.length).toBe(1);
  });

  it('flags or pad non-zero is EINVAL', () => {
    const { p } = machine();
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    expect(ioctlSync(p, fd, SYNC_IOC_FILE_INFO, { ...infoArg(0), flags: 1 })).toBe(-EINVAL);
    expect(ioctlSync(p, fd, SYNC_IOC_FILE_INFO, { ...infoArg(0), pad: 1 })).toBe(-EINVAL);
  });

  it('the full-mode status is decided by the first pending or failed entry in context order', () => {
    const { p } = machine();
    const t1 = p.open('/dev/sw_sync');
    const t2 = p.open('/dev/sw_sync');
    const t3 = p.open('/dev/sw_sync');
    const a = createFence(p, t1, 1);
    const b = createFence(p, t2, 1);
    const c = createFence(p, t3, 1);
    const first = merge(p, merge(p, a, b), c);
    // t1 pending, t2 failed: the first entry (pending) decides.
    p.close(t2);
    expect(fileInfo(p, first).status).toBe(0);
    // t1 done: now the failed t2 entry decides, though t3 is still pending.
    inc(p, t1, 1);
    expect(fileInfo(p, first).status).toBe(-ENOENT);
    // Count-only reports the whole array, which has not signaled yet.
    const arg = infoArg(0);
    ioctlSync(p, first, SYNC_IOC_FILE_INFO, arg);
    expect(arg.status).toBe(0);
  });

  it('entries carry timeline name, driver, status, flags 0 and the signal time', () => {
    const { p, clock } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    clock.advance(42n);
    inc(p, tl, 1);
    expect(fileInfo(p, fd).fences).toEqual([
      { obj_name: 'igt', driver_name: 'sw_sync', status: 1, flags: 0, timestamp_ns: clock.now() },
    ]);
  });
});

describe('sync_file poll and other ioctls', () => {
  it('poll is POLLIN only once signaled, and only when asked for', async () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    expect(await readable(p, fd)).toBe(false);
    inc(p, tl, 1);
    const pfd = { fd, events: POLLOUT, revents: 0 };
    expect(await p.poll([pfd], 0)).toBe(0);
    expect(await readable(p, fd)).toBe(true);
  });

  it('an error-signaled fence is readable, never POLLERR', async () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    p.close(tl);
    const pfd = { fd, events: POLLIN | POLLERR, revents: 0 };
    expect(await p.poll([pfd], 0)).toBe(1);
    expect(pfd.revents).toBe(POLLIN);
  });

  it('a blocked poll wakes when the fence signals', async () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    const pfd = { fd, events: POLLIN, revents: 0 };
    let woke = false;
    const done = p.poll([pfd], -1).then((n) => {
      woke = true;
      return n;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    inc(p, tl, 1);
    expect(await done).toBe(1);
    expect(pfd.revents).toBe(POLLIN);
  });

  it('a poll times out on the injected clock', async () => {
    const { p, clock } = machine();
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    const done = p.poll([{ fd, events: POLLIN, revents: 0 }], 5);
    clock.advance(5_000_000n);
    expect(await done).toBe(0);
  });

  it('closing a polled sync_file removes its fence callback', () => {
    const { p } = machine();
    const tl = p.open('/dev/sw_sync');
    const fd = createFence(p, tl, 1);
    const fence = syncFileGetFence(p.fget(fd))!;
    void p.poll([{ fd, events: POLLIN, revents: 0 }], 0);
    expect(fence.cbs?.size).toBe(1);
    p.close(fd);
    expect(fence.cbs?.size).toBe(0);
  });

  it('SET_DEADLINE accepts a deadline and rejects a non-zero pad', () => {
    const { p } = machine();
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    expect(SYNC_IOC_SET_DEADLINE).toBe(0x40103e05);
    expect(ioctlSync(p, fd, SYNC_IOC_SET_DEADLINE, { deadline_ns: 5n, pad: 0n })).toBe(0);
    expect(ioctlSync(p, fd, SYNC_IOC_SET_DEADLINE, { deadline_ns: 5n, pad: 1n })).toBe(-EINVAL);
  });

  it('an unknown ioctl is ENOTTY', () => {
    const { p } = machine();
    const fd = createFence(p, p.open('/dev/sw_sync'), 1);
    expect(ioctlSync(p, fd, 0xc0103e05, {})).toBe(-ENOTTY);
  });
});

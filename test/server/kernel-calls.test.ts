/**
 * Syscalls over the kernel channel of a real WebSocket: the same names,
 * structs and errno results as in-process, with out-fields written back
 * into the caller's struct and blocking calls completing later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffClient } from '../../client/core/connection';
import type { PollFd } from '../../client/core/kernel-api';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_SYNC_READ,
  DMA_HEAP_IOCTL_ALLOC,
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_WAIT,
  DRM_IOCTL_SYNCOBJ_SIGNAL,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
  POLLIN,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
  SYNC_IOC_FILE_INFO,
} from '../../shared/kernel/uapi';
import { EBADF, EFAULT, ENOENT, ENOTTY } from '../../shared/kernel/errno';
import type { SyncFenceInfo } from '../../shared/kernel/uapi-structs';
import { connectClient, startServer, type Running } from './helpers';

let r: Running;
let c: HandoffClient;

beforeAll(async () => {
  r = await startServer();
  c = await connectClient(r, 'painter');
});

afterAll(async () => {
  c.close();
  await r.app.close();
});

const fileInfo = (n = 0) => ({ name: '', status: 0, flags: 0, num_fences: n, pad: 0, sync_fence_info: [] as SyncFenceInfo[] });

describe('kernel calls over the channel', () => {
  it('open, dup and close answer fds and errno as in-process', async () => {
    const fd = await c.kernel.open('/dev/sw_sync');
    expect(fd).toBeGreaterThanOrEqual(0);
    const d = await c.kernel.dup(fd);
    expect(d).toBe(fd + 1);
    expect(await c.kernel.close(d)).toBe(0);
    expect(await c.kernel.close(d)).toBe(-EBADF);
    expect(await c.kernel.open('/dev/nope')).toBe(-ENOENT);
    expect(await c.kernel.close(fd)).toBe(0);
  });

  it('CREATE_FENCE and FILE_INFO fill the caller’s struct, arrays included', async () => {
    const tl = await c.kernel.open('/dev/sw_sync');
    const cf = { value: 1, name: 'frame', fence: -1 };
    expect(await c.kernel.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf)).toBe(0);
    expect(cf.fence).toBeGreaterThan(tl);
    const count = fileInfo();
    expect(await c.kernel.ioctl(cf.fence, SYNC_IOC_FILE_INFO, count)).toBe(0);
    // The name is computed from the fence, as Linux's sync_file_get_name does.
    expect(count).toMatchObject({ status: 0, num_fences: 1 });
    expect(count.name).toMatch(/^sw_sync-painter/);
    const info = fileInfo(1);
    const entries = info.sync_fence_info;
    expect(await c.kernel.ioctl(cf.fence, SYNC_IOC_FILE_INFO, info)).toBe(0);
    expect(info.sync_fence_info).toBe(entries);
    expect(entries).toEqual([{ obj_name: 'painter', driver_name: 'sw_sync', status: 0, flags: 0, timestamp_ns: 0n }]);
    await c.kernel.close(cf.fence);
    await c.kernel.close(tl);
  });

  it('poll completes when another call signals the fence', async () => {
    const tl = await c.kernel.open('/dev/sw_sync');
    const cf = { value: 2, name: 'f', fence: -1 };
    await c.kernel.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf);
    const pfd: PollFd = { fd: cf.fence, events: POLLIN, revents: 0 };
    expect(await c.kernel.poll([pfd], 0)).toBe(0);
    let done = false;
    const waiting = c.kernel.poll([pfd], -1).then((n) => ((done = true), n));
    expect(await c.kernel.ioctl(tl, SW_SYNC_IOC_INC, 1)).toBe(0);
    expect(done).toBe(false);
    expect(await c.kernel.ioctl(tl, SW_SYNC_IOC_INC, 1)).toBe(0);
    expect(await waiting).toBe(1);
    expect(pfd.revents).toBe(POLLIN);
    const info = fileInfo(1);
    await c.kernel.ioctl(cf.fence, SYNC_IOC_FILE_INFO, info);
    expect(info.status).toBe(1);
    expect(info.sync_fence_info[0]?.timestamp_ns).toBeGreaterThan(0n);
    await c.kernel.close(cf.fence);
    await c.kernel.close(tl);
  });

  it('dma-heap ALLOC returns a dma-buf fd; 64-bit fields travel as bigint', async () => {
    const heap = await c.kernel.open('/dev/dma_heap/system');
    const alloc = { len: 8192n, fd: 0, fd_flags: 0o2, heap_flags: 0n };
    expect(await c.kernel.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, alloc)).toBe(0);
    expect(alloc.fd).toBeGreaterThan(heap);
    const ex = { flags: DMA_BUF_SYNC_READ, fd: -1 };
    expect(await c.kernel.ioctl(alloc.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, ex)).toBe(0);
    const info = fileInfo();
    await c.kernel.ioctl(ex.fd, SYNC_IOC_FILE_INFO, info);
    expect(info.status).toBe(1);
    for (const fd of [ex.fd, alloc.fd, heap]) await c.kernel.close(fd);
  });

  it('a blocking syncobj wait answers when another call signals it', async () => {
    const card = await c.kernel.open('/dev/dri/card0');
    const create = { handle: 0, flags: 0 };
    expect(await c.kernel.ioctl(card, DRM_IOCTL_SYNCOBJ_CREATE, create)).toBe(0);
    const wait = {
      handles: [create.handle],
      timeout_nsec: (1n << 63n) - 1n,
      count_handles: 1,
      flags: DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
      first_signaled: 99,
      pad: 0,
      deadline_nsec: 0n,
    };
    const waiting = c.kernel.ioctl(card, DRM_IOCTL_SYNCOBJ_WAIT, wait);
    expect(await c.kernel.ioctl(card, DRM_IOCTL_SYNCOBJ_SIGNAL, { handles: [create.handle], count_handles: 1, pad: 0 })).toBe(0);
    expect(await waiting).toBe(0);
    expect(wait.first_signaled).toBe(0);
    await c.kernel.close(card);
  });

  it('a struct with wrong field types is -EFAULT, an unknown request -ENOTTY', async () => {
    const tl = await c.kernel.open('/dev/sw_sync');
    expect(await c.kernel.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, { value: '1', name: 'x', fence: -1 })).toBe(-EFAULT);
    expect(await c.kernel.ioctl(tl, SW_SYNC_IOC_INC, 1n)).toBe(-EFAULT);
    expect(await c.kernel.ioctl(tl, 0x1234, {})).toBe(-ENOTTY);
    await c.kernel.close(tl);
    expect(c.isConnected).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { Kernel, ManualClock, DMA_HEAP_IOCTL_ALLOC, SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_IOC_INC, POLLIN, POLLOUT, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_SYNC_READ } from '../../shared/kernel/index';
import { processKernel } from '../../client/node/process-kernel';
import { signalDmaBufFromSyncFile, syncFileForDmaBufWrite } from '../../client/core/implicit-bridge';

function setup() {
  const k = new Kernel({ clock: new ManualClock() });
  const p = k.spawn('bridge');
  const heap = p.open('/dev/dma_heap/system');
  const alloc = { len: 4096n, fd: 0, fd_flags: 0, heap_flags: 0n };
  p.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, alloc);
  const tl = p.open('/dev/sw_sync');
  const fence = (value: number): number => {
    const cf = { value, name: 'f', fence: -1 };
    p.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf);
    return cf.fence;
  };
  return { p, buf: alloc.fd, tl, fence, kernel: processKernel(p) };
}

describe('implicit bridge (Mesa WSI pattern)', () => {
  it('signalDmaBufFromSyncFile makes the render fence an implicit write fence: readers wait for it', async () => {
    const { p, buf, tl, fence, kernel } = setup();
    expect(await signalDmaBufFromSyncFile(kernel, buf, fence(1))).toBe(0);
    expect(await p.poll([{ fd: buf, events: POLLIN, revents: 0 }], 0)).toBe(0);
    p.ioctl(tl, SW_SYNC_IOC_INC, 1);
    expect(await p.poll([{ fd: buf, events: POLLIN, revents: 0 }], 0)).toBe(1);
  });

  it('syncFileForDmaBufWrite waits for the consumer\'s reads before the buffer is written again', async () => {
    const { p, buf, tl, fence, kernel } = setup();
    // The consumer (an implicit compositor) reads the buffer: a READ fence.
    p.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_READ, fd: fence(1) });
    expect(await p.poll([{ fd: buf, events: POLLOUT, revents: 0 }], 0)).toBe(0);
    const wait = await syncFileForDmaBufWrite(kernel, buf);
    expect(wait).toBeGreaterThanOrEqual(0);
    expect(await p.poll([{ fd: wait, events: POLLIN, revents: 0 }], 0)).toBe(0);
    p.ioctl(tl, SW_SYNC_IOC_INC, 1);
    expect(await p.poll([{ fd: wait, events: POLLIN, revents: 0 }], 0)).toBe(1);
  });

  it('errors come back as negative errno (not a dma-buf)', async () => {
    const { tl, fence, kernel } = setup();
    expect(await signalDmaBufFromSyncFile(kernel, tl, fence(1))).toBeLessThan(0);
    expect(await syncFileForDmaBufWrite(kernel, 999)).toBeLessThan(0);
  });
});

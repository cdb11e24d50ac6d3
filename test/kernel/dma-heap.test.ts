import { describe, expect, it } from 'vitest';
import { dmaBufFromFile } from '../../shared/kernel/dma-buf';
import { EFAULT, EINVAL, EMFILE, ENOMEM } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import { freeCount, pageBuf, pageOwner } from '../../shared/kernel/page-pool';
import { DMA_BUF_IOCTL_SYNC, DMA_HEAP_IOCTL_ALLOC, O_CLOEXEC, O_RDWR } from '../../shared/kernel/uapi';
import { allocBuf, ioctlSync, machine } from './sync-helpers';

function allocArg(len: bigint, extra: Partial<{ fd: number; fd_flags: number; heap_flags: bigint }> = {}) {
  return { len, fd: 0, fd_flags: 0, heap_flags: 0n, ...extra };
}

describe('dma-heap system', () => {
  it('ALLOC returns a dma-buf fd whose pages come from the pool', () => {
    const { p, kernel } = machine();
    const heap = p.open('/dev/dma_heap/system');
    const arg = allocArg(8192n, { fd_flags: O_RDWR | O_CLOEXEC });
    expect(ioctlSync(p, heap, DMA_HEAP_IOCTL_ALLOC, arg)).toBe(0);
    const buf = dmaBufFromFile(p.fget(arg.fd))!;
    expect(buf.size).toBe(8192n);
    expect(buf.pages.length).toBe(2);
    expect(pageOwner(kernel.pages, buf.pages[0]!)).toBe('dma-buf');
    expect(pageBuf(kernel.pages, buf.pages[1]!)).toBe(buf.id);
  });

  it('the length is rounded up to whole pages', () => {
    const { p } = machine();
    const heap = p.open('/dev/dma_heap/system');
    const buf = dmaBufFromFile(p.fget(allocBuf(p, heap, 4097n)))!;
    expect(buf.size).toBe(8192n);
    expect(buf.pages.length).toBe(2);
  });

  it('a zero length is EINVAL, and so is one that page-aligns to zero', () => {
    const { p } = machine();
    const heap = p.open('/dev/dma_heap/system');
    expect(allocBuf(p, heap, 0n)).toBe(-EINVAL);
    expect(allocBuf(p, heap, (1n << 64n) - 1n)).toBe(-EINVAL);
  });

  it('more pages than the machine has, or than are free, is ENOMEM', () => {
    const { p, kernel } = machine({ limits: { pages: 4 } });
    const heap = p.open('/dev/dma_heap/system');
    expect(allocBuf(p, heap, 5n * 4096n)).toBe(-ENOMEM);
    expect(allocBuf(p, heap, 3n * 4096n)).toBeGreaterThanOrEqual(0);
    expect(allocBuf(p, heap, 2n * 4096n)).toBe(-ENOMEM);
    expect(freeCount(kernel.pages)).toBe(1);
  });

  it('fd_flags outside O_ACCMODE|O_CLOEXEC is EINVAL', () => {
    const { p } = machine();
    const heap = p.open('/dev/dma_heap/system');
    expect(ioctlSync(p, heap, DMA_HEAP_IOCTL_ALLOC, allocArg(4096n, { fd_flags: 0o4000 }))).toBe(-EINVAL);
  });

  it('heap_flags other than 0 is EINVAL', () => {
    const { p } = machine();
    const heap = p.open('/dev/dma_heap/system');
    expect(ioctlSync(p, heap, DMA_HEAP_IOCTL_ALLOC, allocArg(4096n, { heap_flags: 1n }))).toBe(-EINVAL);
  });

  it('a non-zero input fd is EINVAL, except -1 which the model reads as "none"', () => {
    const { p } = machine();
    const heap = p.open('/dev/dma_heap/system');
    expect(ioctlSync(p, heap, DMA_HEAP_IOCTL_ALLOC, allocArg(4096n, { fd: 3 }))).toBe(-EINVAL);
    const arg = allocArg(4096n, { fd: -1 });
    expect(ioctlSync(p, heap, DMA_HEAP_IOCTL_ALLOC, arg)).toBe(0);
    expect(arg.fd).toBeGreaterThanOrEqual(0);
  });

  it('a malformed argument is EFAULT', () => {
    const { p } = machine();
    const heap = p.open('/dev/dma_heap/system');
    expect(ioctlSync(p, heap, DMA_HEAP_IOCTL_ALLOC, { len: 4096 })).toBe(-EFAULT);
  });

  it('a request number past ALLOC is EINVAL; number 0 of another type is ALLOC', () => {
    const { p } = machine();
    const heap = p.open('/dev/dma_heap/system');
    expect(ioctlSync(p, heap, 0xc0184801, allocArg(4096n))).toBe(-EINVAL);
    expect(ioctlSync(p, heap, DMA_BUF_IOCTL_SYNC, { flags: 1n })).toBe(-EFAULT);
  });

  it('with no free fd the buffer is made, then released and its pages returned (EMFILE)', () => {
    const { kernel } = machine({ limits: { maxFds: 1 } });
    const p = kernel.spawn('igt');
    const heap = p.open('/dev/dma_heap/system');
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const before = freeCount(kernel.pages);
    expect(allocBuf(p, heap, 4096n)).toBe(-EMFILE);
    expect(freeCount(kernel.pages)).toBe(before);
    expect(events.map((e) => e.type).filter((t) => t !== 'syscall')).toEqual([
      'pages.alloc',
      'dmabuf.alloc',
      'dmabuf.release',
      'pages.free',
    ]);
  });

  it('allocation emits dmabuf.alloc with the pages', () => {
    const { p, kernel } = machine();
    const heap = p.open('/dev/dma_heap/system');
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    const fd = allocBuf(p, heap, 4096n);
    const buf = dmaBufFromFile(p.fget(fd))!;
    expect(events.find((e) => e.type === 'dmabuf.alloc')).toMatchObject({ pid: p.pid, buf: buf.id, size: 4096n, pages: buf.pages });
  });
});

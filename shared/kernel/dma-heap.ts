/**
 * dma-heap: /dev/dma_heap/system, where userspace allocates dma-bufs
 * (drivers/dma-buf/dma-heap.c, heaps/system_heap.c,
 * include/uapi/linux/dma-heap.h).
 *
 * DMA_HEAP_IOCTL_ALLOC rounds the length up to whole pages, takes them
 * from the machine's page pool and returns a dma-buf fd. The buffer owns
 * those pages until dma-buf.ts gives them back.
 */
import { dmaBufExport, dmaBufFd, DMABUF_PAGE_OWNER } from './dma-buf';
import { EFAULT, EINVAL, ENOMEM } from './errno';
import { allocFile, type FileOps, type KFile } from './file';
import type { Kernel } from './kernel';
import { allocPages, PAGE_SIZE } from './page-pool';
import type { Process } from './process';
import { DMA_HEAP_VALID_FD_FLAGS, DMA_HEAP_VALID_HEAP_FLAGS } from './uapi';
import { checkStruct, type DmaHeapAllocationData } from './uapi-structs';

const U64_MASK = (1n << 64n) - 1n;
const PAGE = BigInt(PAGE_SIZE);

/** struct dma_heap */
export interface DmaHeap {
  readonly kernel: Kernel;
  readonly name: string;
}

/** dma_heap_allocation_data without `fd`, which is checked on its own (see alloc). */
const allocArgSchema = { len: 'u64', fd_flags: 'u32', heap_flags: 'u64' } as const;

/**
 * dma_heap_ioctl_allocate + dma_heap_buffer_alloc + system_heap_allocate.
 *
 * `fd` is an output, and Linux rejects any non-zero input value with
 * -EINVAL. The model also takes -1 there, because KERNEL-API.md's example
 * (and other structs' "no fd yet" convention) passes -1; every other
 * non-zero value is -EINVAL as in Linux.
 */
function alloc(heap: DmaHeap, proc: Process, arg: unknown): number {
  if (!checkStruct(allocArgSchema, arg)) return -EFAULT;
  const data = arg as DmaHeapAllocationData;
  const fdIn: unknown = data.fd;
  if (typeof fdIn !== 'number' || !Number.isInteger(fdIn) || fdIn < -1 || fdIn > 0xffff_ffff) return -EFAULT;
  if (fdIn !== 0 && fdIn !== -1) return -EINVAL;
  if ((data.fd_flags & ~DMA_HEAP_VALID_FD_FLAGS) !== 0) return -EINVAL;
  if ((data.heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS) !== 0n) return -EINVAL;
  // PAGE_ALIGN on a size_t: a length within a page of 2^64 wraps to 0.
  const len = (data.len + PAGE - 1n) & ~(PAGE - 1n) & U64_MASK;
  if (len === 0n) return -EINVAL;
  const kernel = heap.kernel;
  const pool = kernel.pages;
  // system_heap_allocate refuses more than the machine has outright.
  const npages = len / PAGE;
  if (npages > BigInt(pool.total)) return -ENOMEM;
  const core = kernel.core;
  const id = core.allocId();
  const pages = allocPages(pool, Number(npages), DMABUF_PAGE_OWNER, id);
  if (!pages) return -ENOMEM;
  const buf = dmaBufExport(core, pool, { id, size: len, pages, exporter: heap.name });
  if (core.tracing) core.emit({ type: 'dmabuf.alloc', t: core.now(), pid: proc.pid, buf: id, size: len, pages: pages.slice() });
  // On -EMFILE the file reference is dropped, which releases the buffer
  // and returns its pages, as dma_buf_put does in Linux.
  const fd = dmaBufFd(proc, buf);
  if (fd < 0) return fd;
  data.fd = fd;
  return 0;
}

export const dmaHeapFops: FileOps = {
  name: 'dma_heap',
  devnode: true,
  /**
   * dma_heap_ioctl looks only at the request's number: one past the table
   * is -EINVAL (not -ENOTTY); number 0 is ALLOC whatever the type and size.
   */
  ioctl(file, proc, request, arg) {
    const nr = request & 0xff;
    if (nr >= 1) return -EINVAL;
    return alloc(file.priv as DmaHeap, proc, arg);
  },
};

/** open("/dev/dma_heap/system") */
export function dmaHeapSystemOpen(kernel: Kernel, _proc: Process): KFile | number {
  return allocFile(dmaHeapFops, { kernel, name: 'system' } satisfies DmaHeap);
}

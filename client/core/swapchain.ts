/**
 * A client's swapchain buffers: dma-bufs from the system dma-heap, each
 * wrapped in a wl_buffer by zwp_linux_dmabuf_v1 (create_immed), and
 * whether the compositor still holds it. Holding is what wl_buffer.release
 * ends; which kinds of client trust that, and what else they wait for, is
 * their sync strategy's business (sync/).
 */
import type { Proxy } from '../../shared/protocol/client';
import { DRM_FORMAT_ARGB8888 } from '../../shared/protocol/drm-fourcc';
import { ENOSYS } from '../../shared/kernel/errno';
import { DMA_HEAP_IOCTL_ALLOC } from '../../shared/kernel/uapi';
import type { KernelApi } from './kernel-api';
import type { RenderBuffer } from './renderer';

export interface SwapBuffer extends RenderBuffer {
  readonly proxy: Proxy<'wl_buffer'>;
  /** Committed and not yet handed back by wl_buffer.release. */
  busy: boolean;
  /** Resolved when the buffer is handed back (or the client stops). */
  readonly waiters: (() => void)[];
}

/**
 * Allocate buffer `index` from the dma-heap `heapFd` and wrap it in a
 * wl_buffer (ARGB8888, one plane, linear). Throws if the heap refuses.
 */
export async function allocateSwapBuffer(
  kernel: KernelApi,
  heapFd: number,
  dmabuf: Proxy<'zwp_linux_dmabuf_v1'>,
  index: number,
  width: number,
  height: number,
): Promise<SwapBuffer> {
  const stride = width * 4;
  const alloc = { len: BigInt(stride * height), fd: 0, fd_flags: 0, heap_flags: 0n };
  const r = await kernel.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, alloc);
  if (r < 0) throw new Error(`DMA_HEAP_IOCTL_ALLOC: ${r}`);
  const ino = await bufferIdentity(kernel, alloc.fd);
  const params = dmabuf.send.createParams();
  params.send.add(alloc.fd, 0, 0, stride, 0, 0);
  const proxy = params.send.createImmed(width, height, DRM_FORMAT_ARGB8888, 0);
  params.send.destroy();
  const buf: SwapBuffer = {
    index,
    fd: alloc.fd,
    ino,
    size: alloc.len,
    width,
    height,
    stride,
    format: DRM_FORMAT_ARGB8888,
    proxy,
    busy: false,
    waiters: [],
  };
  proxy.setListener({ release: () => handBack(buf) });
  return buf;
}

/**
 * The dma-buf's inode, the way Linux userspace tells dma-bufs apart. A
 * kernel without fstat (-ENOSYS) leaves it unknown; any other failure on
 * an fd just allocated is a bug worth stopping for.
 */
async function bufferIdentity(kernel: KernelApi, fd: number): Promise<number | null> {
  const st = await kernel.fstat(fd);
  if (typeof st !== 'number') return st.st_ino;
  if (st === -ENOSYS) return null;
  throw new Error(`fstat of a new dma-buf: ${st}`);
}

/** wl_buffer.release: the compositor is done with it. */
export function handBack(buf: SwapBuffer): void {
  buf.busy = false;
  for (const w of buf.waiters.splice(0)) w();
}

/** Resolves once the compositor has released `buf` (at once if it does not hold it). */
export function released(buf: SwapBuffer): Promise<void> {
  return buf.busy ? new Promise<void>((r) => buf.waiters.push(r)) : Promise.resolve();
}

/** The client stops: nothing it waits for may keep it. */
export function wakeWaiters(buf: SwapBuffer): void {
  for (const w of buf.waiters.splice(0)) w();
}

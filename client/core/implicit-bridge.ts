/**
 * Explicit-sync work toward an implicit-sync consumer, the way Mesa's
 * Vulkan WSI bridges it (src/vulkan/wsi/wsi_common_drm.c):
 *
 * - before handing a buffer over, make its render fence the buffer's
 *   implicit write fence: DMA_BUF_IOCTL_IMPORT_SYNC_FILE(WRITE)
 *   (wsi_signal_dma_buf_from_semaphore) — the consumer's implicit waits
 *   now wait for the render;
 * - before writing a buffer the consumer released, wait for whatever it
 *   still reads or writes: DMA_BUF_IOCTL_EXPORT_SYNC_FILE(WRITE)
 *   (wsi_create_sync_for_dma_buf_wait), and make the next render wait on
 *   that sync_file.
 *
 * Import only adds fences (Linux ≥ 6.0), so the bridge can never make the
 * buffer look idle early. Works in Node and the browser over any KernelApi.
 */
import { DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_SYNC_WRITE } from '../../shared/kernel/uapi';
import type { KernelApi } from './kernel-api';

/** IMPORT_SYNC_FILE(WRITE): the sync_file's fence becomes a write fence of the buffer. 0 or -errno. */
export function signalDmaBufFromSyncFile(kernel: KernelApi, dmabufFd: number, syncFileFd: number): Promise<number> {
  return kernel.ioctl(dmabufFd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: syncFileFd });
}

/**
 * EXPORT_SYNC_FILE(WRITE): a sync_file that signals once every reader and
 * writer of the buffer is done (a new fd, or -errno). Wait on it, or pass
 * it as the next render's in-fence, before writing the buffer again.
 */
export async function syncFileForDmaBufWrite(kernel: KernelApi, dmabufFd: number): Promise<number> {
  const arg = { flags: DMA_BUF_SYNC_WRITE, fd: -1 };
  const r = await kernel.ioctl(dmabufFd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
  return r < 0 ? r : arg.fd;
}

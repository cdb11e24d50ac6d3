/**
 * bridged: an explicit-sync renderer (VGPU_SUBMIT_NO_IMPLICIT) presenting
 * to an implicit-sync compositor, bridged the way Mesa's Vulkan WSI does
 * (implicit-bridge.ts): before reuse, after wl_buffer.release,
 * EXPORT_SYNC_FILE(WRITE) of the buffer becomes the render's in-fence (the
 * compositor's reads are waited for); after the render, its out-fence is
 * made the buffer's implicit write fence with IMPORT_SYNC_FILE(WRITE)
 * before the commit.
 */
import { VGPU_SUBMIT_FENCE_FD_IN, VGPU_SUBMIT_FENCE_FD_OUT, VGPU_SUBMIT_NO_IMPLICIT } from '../../../shared/kernel/vgpu-drm';
import { signalDmaBufFromSyncFile, syncFileForDmaBufWrite } from '../implicit-bridge';
import { released } from '../swapchain';
import type { RenderFences, SyncSetup } from './strategy';

export const bridgedSync: SyncSetup = async ({ env }) => {
  const k = env.kernel;
  return {
    async addBuffer() {},

    async waitReusable(buf) {
      if (buf.busy) await released(buf);
    },

    async renderFences(buf): Promise<RenderFences> {
      // Mesa WSI: wait for the compositor's implicit reads before reusing the image.
      const fd = await syncFileForDmaBufWrite(k, buf.fd);
      const flags = VGPU_SUBMIT_NO_IMPLICIT | VGPU_SUBMIT_FENCE_FD_OUT | (fd >= 0 ? VGPU_SUBMIT_FENCE_FD_IN : 0);
      return { flags, inFenceFd: fd >= 0 ? fd : -1, outSyncobjs: [] };
    },

    async rendered(buf, outFenceFd) {
      // Mesa WSI: make the render fence the buffer's implicit write fence before commit.
      await signalDmaBufFromSyncFile(k, buf.fd, outFenceFd);
      await k.close(outFenceFd);
    },

    commit() {},
    committed() {},
  };
};

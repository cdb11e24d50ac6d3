/**
 * explicit-fd: linux-explicit-synchronization-v1 (zwp_linux_surface_
 * synchronization_v1). The render job hands back a sync_file
 * (VGPU_SUBMIT_FENCE_FD_OUT) that the commit carries as its acquire fence;
 * each commit asks for a buffer release, and the buffer is written again
 * after wl_buffer.release and, when the release came with a fence
 * (fenced_release), once that sync_file signals (poll POLLIN).
 */
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import { POLLIN } from '../../../shared/kernel/uapi';
import { VGPU_SUBMIT_FENCE_FD_OUT, VGPU_SUBMIT_NO_IMPLICIT } from '../../../shared/kernel/vgpu-drm';
import { released } from '../swapchain';
import type { RenderFences, SyncSetup } from './strategy';

export const explicitFdSync: SyncSetup = async ({ env, surface }) => {
  const k = env.kernel;
  const mgr = env.bind(zwpLinuxExplicitSynchronizationV1Interface, 2);
  const surfaceSync = mgr.send.getSynchronization(surface);
  /** Per buffer: the fenced_release sync_file to wait on before reuse, or -1. */
  const releaseFenceFd: number[] = [];
  /** The frame's render fence, from rendered() until the commit carrying it is flushed. */
  let acquireFd = -1;

  return {
    async addBuffer(buf) {
      releaseFenceFd[buf.index] = -1;
    },

    async waitReusable(buf) {
      if (buf.busy) await released(buf);
      const fd = releaseFenceFd[buf.index] ?? -1;
      if (fd >= 0) {
        await k.poll([{ fd, events: POLLIN, revents: 0 }], -1);
        await k.close(fd);
        releaseFenceFd[buf.index] = -1;
      }
    },

    async renderFences(): Promise<RenderFences> {
      return { flags: VGPU_SUBMIT_NO_IMPLICIT | VGPU_SUBMIT_FENCE_FD_OUT, inFenceFd: -1, outSyncobjs: [] };
    },

    async rendered(_buf, outFenceFd) {
      acquireFd = outFenceFd;
    },

    commit(buf) {
      if (acquireFd >= 0) surfaceSync.send.setAcquireFence(acquireFd);
      surfaceSync.send.getRelease().setListener({
        fencedRelease: (fd) => {
          releaseFenceFd[buf.index] = fd;
        },
        immediateRelease: () => {},
      });
    },

    committed() {
      // The acquire fd was sent (the transport dup'ed it): ours can go.
      if (acquireFd >= 0) k.close(acquireFd).catch(() => {});
      acquireFd = -1;
    },
  };
};

/**
 * implicit: no sync protocol. The render job takes part in implicit sync
 * (no VGPU_SUBMIT_NO_IMPLICIT): it waits for the buffer's readers and its
 * fence becomes the buffer's write fence, which the compositor finds
 * there. The buffer is written again after wl_buffer.release.
 */
import { released } from '../swapchain';
import type { RenderFences, SyncSetup } from './strategy';

const IMPLICIT: RenderFences = { flags: 0, inFenceFd: -1, outSyncobjs: [] };

export const implicitSync: SyncSetup = async () => ({
  async addBuffer() {},
  async waitReusable(buf) {
    if (buf.busy) await released(buf);
  },
  async renderFences() {
    return IMPLICIT;
  },
  async rendered() {},
  commit() {},
  committed() {},
});

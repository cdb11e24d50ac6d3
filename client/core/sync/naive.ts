/**
 * naive: explicit-style rendering (VGPU_SUBMIT_NO_IMPLICIT) with no fences
 * at all, and no regard for release: it renders into the next buffer at
 * once, even while the compositor may still be reading it. The validator
 * counts the hazards; with a frame split into slices, the desktop shows
 * the torn frame.
 */
import { VGPU_SUBMIT_NO_IMPLICIT } from '../../../shared/kernel/vgpu-drm';
import type { RenderFences, SyncSetup } from './strategy';

const UNFENCED: RenderFences = { flags: VGPU_SUBMIT_NO_IMPLICIT, inFenceFd: -1, outSyncobjs: [] };

export const naiveSync: SyncSetup = async () => ({
  async addBuffer() {},
  async waitReusable() {},
  async renderFences() {
    return UNFENCED;
  },
  async rendered() {},
  commit() {},
  committed() {},
});

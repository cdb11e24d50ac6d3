// PLACEHOLDER until the drm_syncobj module lands.
import type { IoctlDesc } from './file';
import type { DrmFile } from './drm';
import type { DmaFence } from './dma-fence';
export interface DrmSyncobj {
  fence: DmaFence | null;
}
export const SYNCOBJ_IOCTLS: IoctlDesc<DrmFile>[] = [];
export function syncobjFileRelease(file: DrmFile): void {
  file.syncobjs.clear();
}

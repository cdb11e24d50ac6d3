// PLACEHOLDER until the vgpu module lands.
import type { IoctlDesc } from './file';
import type { DrmFile } from './drm';
import type { Kernel } from './kernel';
export type VgpuOptions = Record<string, never>;
export interface VgpuDevice {
  readonly kernel: Kernel;
}
export const VGPU_IOCTLS: IoctlDesc<DrmFile>[] = [];
export function createVgpu(kernel: Kernel, _options: VgpuOptions): VgpuDevice {
  return { kernel };
}

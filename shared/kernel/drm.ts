/**
 * /dev/dri/card0: the DRM device file. Each open is a drm_file with its own
 * syncobj handle table; ioctls dispatch to the core syncobj ioctls
 * (drm-syncobj.ts) and to the vgpu driver's private ones (vgpu.ts). As in
 * drm_ioctl(), an unknown request is -EINVAL, not -ENOTTY.
 */
import { EINVAL } from './errno';
import { allocFile, ioctlDispatch, type FileOps, type KFile } from './file';
import type { Kernel } from './kernel';
import type { Process } from './process';
import { SYNCOBJ_IOCTLS, syncobjFileRelease, type DrmSyncobj } from './drm-syncobj';
import { VGPU_IOCTLS, vgpuOpen, vgpuPostclose } from './vgpu';

/** struct drm_file: per-open state. */
export interface DrmFile {
  readonly kernel: Kernel;
  /** The process that opened it (a passed fd keeps its opener). */
  readonly opener: Process;
  /** syncobj_idr: handles start at 1. */
  readonly syncobjs: Map<number, DrmSyncobj>;
  nextHandle: number;
}

export const drmFops: FileOps = {
  name: 'drm',
  devnode: true,
  ioctl: ioctlDispatch<DrmFile>([...SYNCOBJ_IOCTLS, ...VGPU_IOCTLS], -EINVAL),
  release(file) {
    syncobjFileRelease(file.priv as DrmFile);
    vgpuPostclose(file.priv as DrmFile);
  },
};

export function drmOpen(kernel: Kernel, proc: Process): KFile | number {
  const priv: DrmFile = { kernel, opener: proc, syncobjs: new Map(), nextHandle: 1 };
  // driver->open: the vgpu gives each open its GPU page table (-ENOMEM).
  const r = vgpuOpen(kernel, priv);
  if (r < 0) return r;
  return allocFile(drmFops, priv);
}

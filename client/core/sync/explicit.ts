/**
 * explicit: linux-drm-syncobj-v1. The render job signals a point on the
 * client's acquire timeline; the commit names that point and a release
 * point on the buffer's own release timeline, and the buffer is written
 * again only once the compositor signalled that release point
 * (DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT with WAIT_FOR_SUBMIT, as Mesa's WSI
 * waits). wl_buffer.release plays no part.
 */
import type { Proxy } from '../../../shared/protocol/client';
import { wpLinuxDrmSyncobjManagerV1Interface } from '../../../shared/protocol/generated/linux-drm-syncobj-v1';
import { u64Hi, u64Lo } from '../../../shared/protocol/u64';
import {
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
  DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
} from '../../../shared/kernel/uapi';
import { VGPU_SUBMIT_NO_IMPLICIT } from '../../../shared/kernel/vgpu-drm';
import type { KernelApi } from '../kernel-api';
import type { RenderFences, SyncSetup } from './strategy';

/** timeout_nsec of a wait without end (INT64_MAX, an absolute time never reached). */
const FOREVER = 0x7fff_ffff_ffff_ffffn;

/** A syncobj timeline of this DRM file, and its fd to import into the compositor. */
async function newTimeline(k: KernelApi, drmFd: number): Promise<{ handle: number; fd: number }> {
  const create = { handle: 0, flags: 0 };
  await k.ioctl(drmFd, DRM_IOCTL_SYNCOBJ_CREATE, create);
  const h2f = { handle: create.handle, flags: 0, fd: -1, pad: 0, point: 0n };
  await k.ioctl(drmFd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, h2f);
  return { handle: create.handle, fd: h2f.fd };
}

/** A buffer's release timeline and the last point a commit asked for. */
interface ReleaseTimeline {
  readonly handle: number;
  readonly timeline: Proxy<'wp_linux_drm_syncobj_timeline_v1'>;
  point: bigint;
}

export const explicitSync: SyncSetup = async ({ env, surface, drmFd }) => {
  const k = env.kernel;
  const mgr = env.bind(wpLinuxDrmSyncobjManagerV1Interface, 1);
  const syncobjSurface = mgr.send.getSurface(surface);
  const acq = await newTimeline(k, drmFd);
  const acquireTimeline = mgr.send.importTimeline(acq.fd);
  await k.close(acq.fd);
  let acquirePoint = 0n;
  const release: ReleaseTimeline[] = [];

  return {
    async addBuffer(buf) {
      const tl = await newTimeline(k, drmFd);
      release[buf.index] = { handle: tl.handle, timeline: mgr.send.importTimeline(tl.fd), point: 0n };
      await k.close(tl.fd);
    },

    async waitReusable(buf) {
      const r = release[buf.index];
      if (r === undefined || r.point === 0n) return;
      await k.ioctl(drmFd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, {
        handles: [r.handle],
        points: [r.point],
        timeout_nsec: FOREVER,
        count_handles: 1,
        flags: DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
        first_signaled: 0,
        pad: 0,
        deadline_nsec: 0n,
      });
    },

    async renderFences(): Promise<RenderFences> {
      acquirePoint++;
      return {
        flags: VGPU_SUBMIT_NO_IMPLICIT,
        inFenceFd: -1,
        outSyncobjs: [{ handle: acq.handle, flags: 0, point: acquirePoint }],
      };
    },

    async rendered() {},

    commit(buf) {
      const r = release[buf.index];
      if (r === undefined) return;
      r.point++;
      syncobjSurface.send.setAcquirePoint(acquireTimeline, u64Hi(acquirePoint), u64Lo(acquirePoint));
      syncobjSurface.send.setReleasePoint(r.timeline, u64Hi(r.point), u64Lo(r.point));
    },

    committed() {},
  };
};

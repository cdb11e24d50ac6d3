/**
 * zwp_linux_explicit_synchronization_v1 (v2): an acquire sync_file per
 * commit and a release object that gets exactly one of fenced_release
 * (a sync_file of the composition that last read the buffer) or
 * immediate_release. Unlike drm-syncobj, setting a fence or a release
 * twice in a cycle is an error here (duplicate_fence, duplicate_release).
 */
import type { Compositor } from '../compositor';
import {
  ZwpLinuxExplicitSynchronizationV1Error,
  ZwpLinuxSurfaceSynchronizationV1Error,
  zwpLinuxExplicitSynchronizationV1Interface,
} from '../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import { SYNC_IOC_FILE_INFO } from '../../../shared/kernel/uapi';
import type { Surface } from '../surface';
import { destroyResource, surfaceOf } from './util';

export function validateSurfaceSyncCommit(surface: Surface): boolean {
  const res = surface.syncSurface;
  if (!res) return true;
  const p = surface.pending;
  const hasBuffer = p.buffer !== undefined && p.buffer !== null;
  if (!hasBuffer && (p.acquireFenceFd >= 0 || p.bufferRelease)) {
    res.postError(ZwpLinuxSurfaceSynchronizationV1Error.noBuffer, 'fence or release requested but no buffer attached in this commit');
    return false;
  }
  return true;
}

export function registerExplicitSync(c: Compositor): void {
  c.display.createGlobal(zwpLinuxExplicitSynchronizationV1Interface, 2, (newId) => {
    newId.create({
      destroy: destroyResource,
      getSynchronization(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        const E = ZwpLinuxSurfaceSynchronizationV1Error;
        if (surface.syncSurface) {
          id.create({ destroy: destroyResource, setAcquireFence: () => {}, getRelease: () => {} });
          mgr.postError(ZwpLinuxExplicitSynchronizationV1Error.synchronizationExists, `wl_surface@${wlSurface.id} already has a synchronization object`);
          return;
        }
        const res = id.create({
          destroy: destroyResource,
          setAcquireFence(r, fd) {
            if (surface.destroyed) {
              c.proc.close(fd);
              return r.postError(E.noSurface, 'the wl_surface was destroyed');
            }
            // A sync_file answers SYNC_IOC_FILE_INFO; anything else is not a fence.
            const info = { name: '', status: 0, flags: 0, num_fences: 0, pad: 0, sync_fence_info: [] };
            if (c.proc.ioctl(fd, SYNC_IOC_FILE_INFO, info) !== 0) {
              c.proc.close(fd);
              return r.postError(E.invalidFence, 'the fd is not a sync_file');
            }
            if (surface.pending.acquireFenceFd >= 0) {
              c.proc.close(fd);
              return r.postError(E.duplicateFence, 'an acquire fence was already set for this commit');
            }
            surface.pending.acquireFenceFd = fd;
          },
          getRelease(r, rid) {
            if (surface.destroyed) {
              rid.create({});
              return r.postError(E.noSurface, 'the wl_surface was destroyed');
            }
            if (surface.pending.bufferRelease) {
              rid.create({});
              return r.postError(E.duplicateRelease, 'a release was already requested for this commit');
            }
            surface.pending.bufferRelease = rid.create({});
          },
        });
        surface.syncSurface = res;
        res.onDestroy(() => {
          if (surface.syncSurface === res) surface.syncSurface = null;
          if (surface.pending.acquireFenceFd >= 0) c.proc.close(surface.pending.acquireFenceFd);
          surface.pending.acquireFenceFd = -1;
        });
      },
    });
  });
}

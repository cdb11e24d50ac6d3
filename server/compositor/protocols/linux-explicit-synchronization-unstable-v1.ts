/**
 * zwp_linux_explicit_synchronization_v1 (v2): an acquire sync_file per
 * commit and a release object that gets exactly one of fenced_release
 * (a sync_file of the composition that last read the buffer) or
 * immediate_release. Unlike drm-syncobj, setting a fence or a release
 * twice in a cycle is an error here (duplicate_fence, duplicate_release).
 * The fence and release are this protocol's double-buffered state; at
 * commit they become the buffer use's sync path.
 */
import type { CompositorContext } from '../context';
import {
  ZwpLinuxExplicitSynchronizationV1Error,
  ZwpLinuxSurfaceSynchronizationV1Error,
  zwpLinuxExplicitSynchronizationV1Interface,
} from '../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import type { Resource } from '../../../shared/protocol/server';
import { SYNC_IOC_FILE_INFO } from '../../../shared/kernel/uapi';
import type { Surface } from '../surface';
import { defineStateSlot } from '../surface-state';
import { abandonSync } from '../buffer-use';
import { destroyResource, refuseDuplicate, surfaceOf } from './util';

/** This cycle's acquire fence and release object. */
interface SyncState {
  /** The compositor's fd of the acquire sync_file, or -1. */
  fd: number;
  release: Resource<'zwp_linux_buffer_release_v1'> | null;
}

const syncSlot = defineStateSlot<SyncState>({
  name: 'zwp_linux_surface_synchronization_v1',
  init: () => ({ fd: -1, release: null }),
  commit(state, draft, env) {
    if (!draft.hasBuffer) {
      // A fence set without a buffer was refused by the check; nothing to hold.
      if (state.fd >= 0) env.proc.close(state.fd);
      return;
    }
    const sync = { kind: 'sync-file', acquireFd: state.fd, release: state.release } as const;
    // drm-syncobj wins on a surface with both: answer this one at once.
    if (draft.sync.kind === 'syncobj') abandonSync(env, sync);
    else draft.sync = sync;
  },
});

/** The commit-time check (a pre-commit hook while the object exists); false after posting an error. */
function checkCommit(surface: Surface, res: Resource<'zwp_linux_surface_synchronization_v1'>): boolean {
  // A surface with the object commits on this path even when nothing was set in the cycle.
  const p = surface.pending.states.of(syncSlot);
  const hasBuffer = surface.pending.buffer !== undefined && surface.pending.buffer !== null;
  if (!hasBuffer && (p.fd >= 0 || p.release)) {
    res.postError(ZwpLinuxSurfaceSynchronizationV1Error.noBuffer, 'fence or release requested but no buffer attached in this commit');
    return false;
  }
  return true;
}

export function registerExplicitSync(c: CompositorContext): void {
  const syncSurfaces = new WeakMap<Surface, Resource<'zwp_linux_surface_synchronization_v1'>>();
  c.display.createGlobal(zwpLinuxExplicitSynchronizationV1Interface, 2, (newId) => {
    newId.create({
      destroy: destroyResource,
      getSynchronization(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        const E = ZwpLinuxSurfaceSynchronizationV1Error;
        if (syncSurfaces.has(surface)) {
          const inert = { destroy: destroyResource, setAcquireFence: () => {}, getRelease: () => {} };
          return refuseDuplicate(mgr, id, inert, ZwpLinuxExplicitSynchronizationV1Error.synchronizationExists, wlSurface, 'a synchronization object');
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
            const p = surface.pending.states.of(syncSlot);
            if (p.fd >= 0) {
              c.proc.close(fd);
              return r.postError(E.duplicateFence, 'an acquire fence was already set for this commit');
            }
            p.fd = fd;
          },
          getRelease(r, rid) {
            if (surface.destroyed) {
              rid.create({});
              return r.postError(E.noSurface, 'the wl_surface was destroyed');
            }
            const p = surface.pending.states.of(syncSlot);
            if (p.release) {
              rid.create({});
              return r.postError(E.duplicateRelease, 'a release was already requested for this commit');
            }
            p.release = rid.create({});
          },
        });
        syncSurfaces.set(surface, res);
        const removeCheck = surface.addPreCommitHook((s) => checkCommit(s, res));
        res.onDestroy(() => {
          if (syncSurfaces.get(surface) === res) syncSurfaces.delete(surface);
          removeCheck();
          const p = surface.pending.states.peek(syncSlot);
          if (!p) return;
          if (p.fd >= 0) c.proc.close(p.fd);
          p.fd = -1;
          // A release object outlives the synchronization object (XML: "not
          // affected") and still takes this cycle's commit onto its path;
          // without one, the commit goes back to implicit sync.
          if (!p.release) surface.pending.states.delete(syncSlot);
        });
      },
    });
  });
}

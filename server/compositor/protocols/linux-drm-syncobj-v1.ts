/**
 * wp_linux_drm_syncobj_manager_v1 / _timeline_v1 / _surface_v1.
 *
 * import_timeline turns the client's syncobj fd into a handle on the
 * compositor's DRM fd (DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE). Points are
 * double-buffered; setting one again in a cycle replaces it. Commit-time
 * validation posts errors in wlroots' order (docs/compositor.md):
 *   1. no_buffer — an acquire point without a buffer
 *   2. no_buffer — a release point without a buffer
 *   3. no_acquire_point
 *   4. no_release_point
 *   5. conflicting_points — same timeline, acquire >= release
 * unsupported_buffer cannot happen: every wl_buffer here is a dma-buf.
 */
import type { CompositorContext } from '../context';
import {
  WpLinuxDrmSyncobjManagerV1Error,
  WpLinuxDrmSyncobjSurfaceV1Error,
  wpLinuxDrmSyncobjManagerV1Interface,
  type WpLinuxDrmSyncobjTimelineV1Requests,
} from '../../../shared/protocol/generated/linux-drm-syncobj-v1';
import type { Resource } from '../../../shared/protocol/server';
import { errnoName } from '../../../shared/kernel/errno';
import type { Surface } from '../surface';
import { defineStateSlot, type SlotEnv } from '../surface-state';
import type { SyncobjTimeline, TimelinePoint } from '../types';
import { syncobjFdToHandle, timelineUnref } from '../sync-ops';
import { abandonSync } from '../buffer-use';
import { destroyResource, refuseDuplicate, surfaceOf } from './util';
import { u64FromHiLo } from '../../../shared/protocol/u64';

/** The timeline behind a wp_linux_drm_syncobj_timeline_v1 resource. */
class TimelineImpl implements WpLinuxDrmSyncobjTimelineV1Requests {
  constructor(readonly timeline: SyncobjTimeline) {}
  destroy(resource: Resource<'wp_linux_drm_syncobj_timeline_v1'>): void {
    resource.destroy();
  }
}

function timelineOf(res: Resource<'wp_linux_drm_syncobj_timeline_v1'>): SyncobjTimeline {
  const impl = res.implementation;
  if (!(impl instanceof TimelineImpl)) throw new Error('timeline resource without a timeline');
  return impl.timeline;
}

/** The double-buffered points (setting one again in a cycle replaces it). Each point holds a timeline reference. */
interface PointsState {
  acquire: TimelinePoint | null;
  release: TimelinePoint | null;
}

function dropPoints(env: SlotEnv, state: PointsState): void {
  if (state.acquire) timelineUnref(env.proc, env.drmFd, state.acquire.timeline);
  if (state.release) timelineUnref(env.proc, env.drmFd, state.release.timeline);
  state.acquire = null;
  state.release = null;
}

const pointsSlot = defineStateSlot<PointsState>({
  name: 'wp_linux_drm_syncobj_surface_v1',
  init: () => ({ acquire: null, release: null }),
  commit(state, draft, env) {
    if (draft.hasBuffer && state.acquire && state.release) {
      // A surface with both extensions: drm-syncobj wins; the other's fence and release are answered at once.
      if (draft.sync.kind !== 'implicit') abandonSync(env, draft.sync);
      // The points' timeline references pass to the buffer use (ended in buffer-use.ts).
      draft.sync = { kind: 'syncobj', acquire: state.acquire, release: state.release };
      state.acquire = null;
      state.release = null;
      return;
    }
    // Points set without a buffer were refused by the check; nothing to hold.
    dropPoints(env, state);
  },
});

function setPoint(c: CompositorContext, old: TimelinePoint | null, timeline: SyncobjTimeline, point: bigint): TimelinePoint {
  if (old) timelineUnref(c.proc, c.drmFd, old.timeline);
  timeline.refs++;
  return { timeline, point };
}

/** The commit-time checks (a pre-commit hook while the object exists); false after posting an error. */
function checkCommit(surface: Surface, res: Resource<'wp_linux_drm_syncobj_surface_v1'>): boolean {
  const p = surface.pending.states.peek(pointsSlot) ?? { acquire: null, release: null };
  const hasBuffer = surface.pending.buffer !== undefined && surface.pending.buffer !== null;
  const E = WpLinuxDrmSyncobjSurfaceV1Error;
  if (!hasBuffer && p.acquire) {
    res.postError(E.noBuffer, 'acquire point set but no buffer attached in this commit');
    return false;
  }
  if (!hasBuffer && p.release) {
    res.postError(E.noBuffer, 'release point set but no buffer attached in this commit');
    return false;
  }
  if (hasBuffer && !p.acquire) {
    res.postError(E.noAcquirePoint, 'buffer attached without an acquire point');
    return false;
  }
  if (hasBuffer && !p.release) {
    res.postError(E.noReleasePoint, 'buffer attached without a release point');
    return false;
  }
  const a = p.acquire;
  const r = p.release;
  if (a && r && a.timeline === r.timeline && a.point >= r.point) {
    res.postError(E.conflictingPoints, `acquire point ${a.point} is not before release point ${r.point} on the same timeline`);
    return false;
  }
  return true;
}

export function registerLinuxDrmSyncobj(c: CompositorContext): void {
  const syncobjSurfaces = new WeakMap<Surface, Resource<'wp_linux_drm_syncobj_surface_v1'>>();
  c.display.createGlobal(wpLinuxDrmSyncobjManagerV1Interface, 1, (newId) => {
    newId.create({
      destroy: destroyResource,
      importTimeline(mgr, id, fd) {
        const handle = syncobjFdToHandle(c.proc, c.drmFd, fd);
        c.proc.close(fd);
        if (handle < 0) {
          id.create({ destroy: destroyResource });
          mgr.postError(WpLinuxDrmSyncobjManagerV1Error.invalidTimeline, `fd is not a syncobj: ${errnoName(handle)}`);
          return;
        }
        const timeline: SyncobjTimeline = { handle, refs: 1 };
        const res = id.create(new TimelineImpl(timeline));
        // Points already set keep their own reference (the timeline outlives its object).
        res.onDestroy(() => timelineUnref(c.proc, c.drmFd, timeline));
      },
      getSurface(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        if (syncobjSurfaces.has(surface)) {
          return refuseDuplicate(mgr, id, inert, WpLinuxDrmSyncobjManagerV1Error.surfaceExists, wlSurface, 'a syncobj surface');
        }
        const E = WpLinuxDrmSyncobjSurfaceV1Error;
        const res = id.create({
          destroy: destroyResource,
          setAcquirePoint(r, tl, hi, lo) {
            if (surface.destroyed) return r.postError(E.noSurface, 'the wl_surface was destroyed');
            const p = surface.pending.states.of(pointsSlot);
            p.acquire = setPoint(c, p.acquire, timelineOf(tl), u64FromHiLo(hi, lo));
          },
          setReleasePoint(r, tl, hi, lo) {
            if (surface.destroyed) return r.postError(E.noSurface, 'the wl_surface was destroyed');
            const p = surface.pending.states.of(pointsSlot);
            p.release = setPoint(c, p.release, timelineOf(tl), u64FromHiLo(hi, lo));
          },
        });
        syncobjSurfaces.set(surface, res);
        const removeCheck = surface.addPreCommitHook((s) => checkCommit(s, res));
        res.onDestroy(() => {
          if (syncobjSurfaces.get(surface) !== res) return;
          syncobjSurfaces.delete(surface);
          removeCheck();
          // Points set since the last commit are dropped with the object.
          const p = surface.pending.states.peek(pointsSlot);
          if (p) dropPoints(c, p);
        });
      },
    });
  });
}

const inert = { destroy: destroyResource, setAcquirePoint() {}, setReleasePoint() {} };

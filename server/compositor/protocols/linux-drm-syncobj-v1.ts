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
import type { Compositor } from '../compositor';
import {
  WpLinuxDrmSyncobjManagerV1Error,
  WpLinuxDrmSyncobjSurfaceV1Error,
  wpLinuxDrmSyncobjManagerV1Interface,
  type WpLinuxDrmSyncobjTimelineV1Requests,
} from '../../../shared/protocol/generated/linux-drm-syncobj-v1';
import type { Resource } from '../../../shared/protocol/server';
import { errnoName } from '../../../shared/kernel/errno';
import type { Surface } from '../surface';
import type { SyncobjTimeline, TimelinePoint } from '../types';
import { syncobjFdToHandle } from '../sync-ops';
import { timelineUnref } from '../release';
import { destroyResource, pointFromHiLo, surfaceOf } from './util';

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

function setPoint(c: Compositor, old: TimelinePoint | null, timeline: SyncobjTimeline, point: bigint): TimelinePoint {
  if (old) timelineUnref(c, old.timeline);
  timeline.refs++;
  return { timeline, point };
}

/** The commit-time checks; false after posting an error. */
export function validateSyncobjCommit(surface: Surface): boolean {
  const res = surface.syncobjSurface;
  if (!res) return true;
  const p = surface.pending;
  const hasBuffer = p.buffer !== undefined && p.buffer !== null;
  const E = WpLinuxDrmSyncobjSurfaceV1Error;
  if (!hasBuffer && p.acquirePoint) {
    res.postError(E.noBuffer, 'acquire point set but no buffer attached in this commit');
    return false;
  }
  if (!hasBuffer && p.releasePoint) {
    res.postError(E.noBuffer, 'release point set but no buffer attached in this commit');
    return false;
  }
  if (hasBuffer && !p.acquirePoint) {
    res.postError(E.noAcquirePoint, 'buffer attached without an acquire point');
    return false;
  }
  if (hasBuffer && !p.releasePoint) {
    res.postError(E.noReleasePoint, 'buffer attached without a release point');
    return false;
  }
  const a = p.acquirePoint;
  const r = p.releasePoint;
  if (a && r && a.timeline === r.timeline && a.point >= r.point) {
    res.postError(E.conflictingPoints, `acquire point ${a.point} is not before release point ${r.point} on the same timeline`);
    return false;
  }
  return true;
}

export function registerLinuxDrmSyncobj(c: Compositor): void {
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
        res.onDestroy(() => timelineUnref(c, timeline));
      },
      getSurface(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        if (surface.syncobjSurface) {
          id.create(inert);
          mgr.postError(WpLinuxDrmSyncobjManagerV1Error.surfaceExists, `wl_surface@${wlSurface.id} already has a syncobj surface`);
          return;
        }
        const E = WpLinuxDrmSyncobjSurfaceV1Error;
        const res = id.create({
          destroy: destroyResource,
          setAcquirePoint(r, tl, hi, lo) {
            if (surface.destroyed) return r.postError(E.noSurface, 'the wl_surface was destroyed');
            surface.pending.acquirePoint = setPoint(c, surface.pending.acquirePoint, timelineOf(tl), pointFromHiLo(hi, lo));
          },
          setReleasePoint(r, tl, hi, lo) {
            if (surface.destroyed) return r.postError(E.noSurface, 'the wl_surface was destroyed');
            surface.pending.releasePoint = setPoint(c, surface.pending.releasePoint, timelineOf(tl), pointFromHiLo(hi, lo));
          },
        });
        surface.syncobjSurface = res;
        res.onDestroy(() => {
          if (surface.syncobjSurface !== res) return;
          surface.syncobjSurface = null;
          // Points set since the last commit are dropped with the object.
          const p = surface.pending;
          if (p.acquirePoint) timelineUnref(c, p.acquirePoint.timeline);
          if (p.releasePoint) timelineUnref(c, p.releasePoint.timeline);
          p.acquirePoint = null;
          p.releasePoint = null;
        });
      },
    });
  });
}

const inert = { destroy: destroyResource, setAcquirePoint() {}, setReleasePoint() {} };

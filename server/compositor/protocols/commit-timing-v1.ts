/**
 * wp_commit_timing_manager_v1 / wp_commit_timer_v1: a target presentation
 * time per commit ("as close as possible to, but not before"); the update
 * stays queued until a frame that presents at or after it (updates still
 * apply in order).
 */
import type { Compositor } from '../compositor';
import {
  WpCommitTimerV1Error,
  WpCommitTimingManagerV1Error,
  wpCommitTimingManagerV1Interface,
} from '../../../shared/protocol/generated/commit-timing-v1';
import { destroyResource, surfaceOf } from './util';

export function registerCommitTiming(c: Compositor): void {
  c.display.createGlobal(wpCommitTimingManagerV1Interface, 1, (newId) => {
    newId.create({
      destroy: destroyResource,
      getTimer(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        if (surface.commitTimer) {
          id.create({ setTimestamp() {}, destroy: destroyResource });
          mgr.postError(WpCommitTimingManagerV1Error.commitTimerExists, `wl_surface@${wlSurface.id} already has a commit timer`);
          return;
        }
        const res = id.create({
          setTimestamp(r, secHi, secLo, nsec) {
            if (surface.destroyed) return r.postError(WpCommitTimerV1Error.surfaceDestroyed, 'the wl_surface was destroyed');
            if (nsec < 0 || nsec >= 1_000_000_000) return r.postError(WpCommitTimerV1Error.invalidTimestamp, `tv_nsec ${nsec} out of range`);
            if (surface.pending.targetNs !== null) return r.postError(WpCommitTimerV1Error.timestampExists, 'a timestamp was already set for this commit');
            const sec = (BigInt(secHi >>> 0) << 32n) | BigInt(secLo >>> 0);
            surface.pending.targetNs = sec * 1_000_000_000n + BigInt(nsec);
          },
          destroy: destroyResource,
        });
        surface.commitTimer = res;
        res.onDestroy(() => {
          if (surface.commitTimer === res) surface.commitTimer = null;
        });
      },
    });
  });
}

/**
 * wp_commit_timing_manager_v1 / wp_commit_timer_v1: a target presentation
 * time per commit ("as close as possible to, but not before"); the update
 * stays queued until a frame that presents at or after it (updates still
 * apply in order). The target is this protocol's double-buffered state,
 * handed to the content update at commit.
 */
import { u64FromHiLo } from '../../../shared/protocol/u64';
import type { CompositorContext } from '../context';
import type { Resource } from '../../../shared/protocol/server';
import {
  WpCommitTimerV1Error,
  WpCommitTimingManagerV1Error,
  wpCommitTimingManagerV1Interface,
} from '../../../shared/protocol/generated/commit-timing-v1';
import type { Surface } from '../surface';
import { defineStateSlot } from '../surface-state';
import { destroyResource, refuseDuplicate, surfaceOf } from './util';

interface TimingState {
  /** set_timestamp of this cycle, in ns of the presentation clock. */
  targetNs: bigint | null;
}

const timingSlot = defineStateSlot<TimingState>({
  name: 'wp_commit_timer_v1',
  init: () => ({ targetNs: null }),
  commit(state, draft) {
    draft.targetNs = state.targetNs;
  },
});

export function registerCommitTiming(c: CompositorContext): void {
  const timers = new WeakMap<Surface, Resource<'wp_commit_timer_v1'>>();
  c.display.createGlobal(wpCommitTimingManagerV1Interface, 1, (newId) => {
    newId.create({
      destroy: destroyResource,
      getTimer(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        if (timers.has(surface)) {
          const inert = { setTimestamp() {}, destroy: destroyResource };
          return refuseDuplicate(mgr, id, inert, WpCommitTimingManagerV1Error.commitTimerExists, wlSurface, 'a commit timer');
        }
        const res = id.create({
          setTimestamp(r, secHi, secLo, nsec) {
            if (surface.destroyed) return r.postError(WpCommitTimerV1Error.surfaceDestroyed, 'the wl_surface was destroyed');
            if (nsec < 0 || nsec >= 1_000_000_000) return r.postError(WpCommitTimerV1Error.invalidTimestamp, `tv_nsec ${nsec} out of range`);
            const state = surface.pending.states.of(timingSlot);
            if (state.targetNs !== null) return r.postError(WpCommitTimerV1Error.timestampExists, 'a timestamp was already set for this commit');
            const sec = u64FromHiLo(secHi, secLo);
            state.targetNs = sec * 1_000_000_000n + BigInt(nsec);
          },
          destroy: destroyResource,
        });
        timers.set(surface, res);
        res.onDestroy(() => {
          if (timers.get(surface) === res) timers.delete(surface);
        });
      },
    });
  });
}

/**
 * wp_fifo_manager_v1 / wp_fifo_v1: set_barrier and wait_barrier are this
 * protocol's double-buffered state, handed to the content update at
 * commit; an applied set_barrier holds back later wait_barrier updates of
 * the surface until the next latch deadline, so at most one such update is
 * latched per refresh (content-update-queue.ts).
 */
import type { CompositorContext } from '../context';
import type { Resource } from '../../../shared/protocol/server';
import { WpFifoManagerV1Error, WpFifoV1Error, wpFifoManagerV1Interface } from '../../../shared/protocol/generated/fifo-v1';
import type { Surface } from '../surface';
import { defineStateSlot } from '../surface-state';
import { destroyResource, refuseDuplicate, surfaceOf } from './util';

interface FifoState {
  barrier: boolean;
  wait: boolean;
}

const fifoSlot = defineStateSlot<FifoState>({
  name: 'wp_fifo_v1',
  init: () => ({ barrier: false, wait: false }),
  commit(state, draft) {
    draft.fifoBarrier = state.barrier;
    draft.fifoWait = state.wait;
  },
});

export function registerFifo(c: CompositorContext): void {
  const fifos = new WeakMap<Surface, Resource<'wp_fifo_v1'>>();
  c.display.createGlobal(wpFifoManagerV1Interface, 1, (newId) => {
    newId.create({
      destroy: destroyResource,
      getFifo(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        if (fifos.has(surface)) {
          const inert = { setBarrier() {}, waitBarrier() {}, destroy: destroyResource };
          return refuseDuplicate(mgr, id, inert, WpFifoManagerV1Error.alreadyExists, wlSurface, 'a fifo object');
        }
        const res = id.create({
          setBarrier(r) {
            if (surface.destroyed) return r.postError(WpFifoV1Error.surfaceDestroyed, 'the wl_surface was destroyed');
            surface.pending.states.of(fifoSlot).barrier = true;
          },
          waitBarrier(r) {
            if (surface.destroyed) return r.postError(WpFifoV1Error.surfaceDestroyed, 'the wl_surface was destroyed');
            surface.pending.states.of(fifoSlot).wait = true;
          },
          destroy: destroyResource,
        });
        fifos.set(surface, res);
        res.onDestroy(() => {
          if (fifos.get(surface) === res) fifos.delete(surface);
        });
      },
    });
  });
}

/**
 * wp_fifo_manager_v1 / wp_fifo_v1: set_barrier and wait_barrier are
 * double-buffered; an applied set_barrier holds back later wait_barrier
 * updates of the surface until the next latch deadline, so at most one
 * such update is latched per refresh (content-update-queue.ts).
 */
import type { Compositor } from '../compositor';
import { WpFifoManagerV1Error, WpFifoV1Error, wpFifoManagerV1Interface } from '../../../shared/protocol/generated/fifo-v1';
import { destroyResource, surfaceOf } from './util';

export function registerFifo(c: Compositor): void {
  c.display.createGlobal(wpFifoManagerV1Interface, 1, (newId) => {
    newId.create({
      destroy: destroyResource,
      getFifo(mgr, id, wlSurface) {
        const surface = surfaceOf(wlSurface);
        if (surface.fifo) {
          id.create({ setBarrier() {}, waitBarrier() {}, destroy: destroyResource });
          mgr.postError(WpFifoManagerV1Error.alreadyExists, `wl_surface@${wlSurface.id} already has a fifo object`);
          return;
        }
        const res = id.create({
          setBarrier(r) {
            if (surface.destroyed) return r.postError(WpFifoV1Error.surfaceDestroyed, 'the wl_surface was destroyed');
            surface.pending.fifoBarrier = true;
          },
          waitBarrier(r) {
            if (surface.destroyed) return r.postError(WpFifoV1Error.surfaceDestroyed, 'the wl_surface was destroyed');
            surface.pending.fifoWait = true;
          },
          destroy: destroyResource,
        });
        surface.fifo = res;
        res.onDestroy(() => {
          if (surface.fifo === res) surface.fifo = null;
        });
      },
    });
  });
}

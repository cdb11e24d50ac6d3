/**
 * wp_presentation (v2): clock_id on bind (CLOCK_MONOTONIC: the kernel
 * model's clock), and one feedback object per commit, answered at flip
 * time by presented (vsync flag only: a virtual display has no hardware
 * clock or completion event, so hw_clock and hw_completion are never set)
 * or by discarded for a superseded or dropped update (repaint.ts).
 */
import type { Compositor } from '../compositor';
import { wpPresentationInterface } from '../../../shared/protocol/generated/presentation-time';
import { destroyResource, surfaceOf } from './util';

/** CLOCK_MONOTONIC in <time.h>. */
export const CLOCK_MONOTONIC = 1;

export function registerPresentation(c: Compositor): void {
  c.display.createGlobal(wpPresentationInterface, 2, (newId) => {
    const res = newId.create({
      destroy: destroyResource,
      feedback(_r, wlSurface, id) {
        const surface = surfaceOf(wlSurface);
        surface.pending.feedbacks.push(id.create({}));
      },
    });
    res.send.clockId(CLOCK_MONOTONIC);
  });
}

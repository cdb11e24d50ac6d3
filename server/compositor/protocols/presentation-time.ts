/**
 * wp_presentation (v2): clock_id on bind (CLOCK_MONOTONIC: the kernel
 * model's clock), and one feedback object per commit, answered at flip
 * time by presented (vsync flag only: a virtual display has no hardware
 * clock or completion event, so hw_clock and hw_completion are never set)
 * or by discarded for a superseded or dropped update. The feedback objects
 * are this protocol's double-buffered state; its slot's hooks answer them.
 */
import { u64Hi, u64Lo } from '../../../shared/protocol/u64';
import type { CompositorContext } from '../context';
import type { Resource } from '../../../shared/protocol/server';
import { WpPresentationFeedbackKind, wpPresentationInterface } from '../../../shared/protocol/generated/presentation-time';
import { defineStateSlot } from '../surface-state';
import { destroyResource, surfaceOf } from './util';

/** CLOCK_MONOTONIC in <time.h>. */
export const CLOCK_MONOTONIC = 1;

const feedbackSlot = defineStateSlot<Resource<'wp_presentation_feedback'>[]>({
  name: 'wp_presentation_feedback',
  init: () => [],
  presented(feedbacks, { at, seq, periodNs }) {
    const sec = at / 1_000_000_000n;
    for (const fb of feedbacks) {
      if (fb.destroyed) continue;
      fb.send.presented(
        u64Hi(sec),
        u64Lo(sec),
        Number(at % 1_000_000_000n),
        // refresh is a u32 of ns; a slowed-down period past 4.29 s is "unknown" (0).
        periodNs > 0xffff_ffffn ? 0 : Number(periodNs),
        u64Hi(seq),
        u64Lo(seq),
        WpPresentationFeedbackKind.vsync,
      );
    }
  },
  discarded(feedbacks) {
    for (const fb of feedbacks.splice(0)) if (!fb.destroyed) fb.send.discarded();
  },
});

export function registerPresentation(c: CompositorContext): void {
  c.display.createGlobal(wpPresentationInterface, 2, (newId) => {
    const res = newId.create({
      destroy: destroyResource,
      feedback(_r, wlSurface, id) {
        surfaceOf(wlSurface).pending.states.of(feedbackSlot).push(id.create({}));
      },
    });
    res.send.clockId(CLOCK_MONOTONIC);
  });
}

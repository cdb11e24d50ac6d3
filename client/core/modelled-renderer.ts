/**
 * The modelled renderer: each frame is one vgpu job of a fixed modelled
 * duration on a ring of the simulated engine, which completes it when the
 * kernel's clock says the time has passed. What the headless clients (the
 * tests, the demo, the benchmarks) and the page without WebGPU run on.
 */
import type { Renderer, RenderSlice } from './renderer';

/** A renderer whose every frame takes `renderNs` of modelled GPU time on the simulated engine. */
export function modelledRenderer(renderNs: bigint): Renderer {
  const frame: readonly RenderSlice[] = [{ durationNs: renderNs }];
  return {
    ringFlags: 0,
    planFrame: () => frame,
  };
}

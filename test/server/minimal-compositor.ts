/**
 * A compositor for transport tests (test code, so it lives under test/):
 * wl_display and wl_registry (built into the protocol runtime)
 * and one wl_output global, so clients can connect, list globals, bind and
 * roundtrip. It has no surfaces.
 */
import type { Kernel } from '../../shared/kernel/kernel';
import { Display } from '../../shared/protocol/server';
import { wlOutputInterface, WlOutputMode, WlOutputSubpixel, WlOutputTransform } from '../../shared/protocol/generated/wayland';
import type { HostedCompositor } from '../../server/compositor/host';

export interface MinimalCompositorOptions {
  /** A request handler threw (a compositor bug); the client already got an `implementation` error. */
  onInternalError?(error: unknown): void;
}

export function createMinimalCompositor(kernel: Kernel, options: MinimalCompositorOptions = {}): HostedCompositor {
  const display = new Display({ onInternalError: (err) => options.onInternalError?.(err) });
  display.createGlobal(wlOutputInterface, 4, (newId) => {
    const output = newId.create({ release: () => {} });
    // The burst a client expects on bind: geometry, mode, then done (v2+).
    output.send.geometry(0, 0, 600, 340, WlOutputSubpixel.unknown, 'handoff', 'virtual', WlOutputTransform.normal);
    output.send.mode(WlOutputMode.current | WlOutputMode.preferred, 1280, 720, 60_000);
    if (output.version >= 2) output.send.scale(1);
    if (output.version >= 4) {
      output.send.name('HANDOFF-1');
      output.send.description('handoff virtual output');
    }
    if (output.version >= 2) output.send.done();
  });
  return { process: kernel.spawn('compositor'), display };
}

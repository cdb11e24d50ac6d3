/** wl_output (v4): the one virtual output, described on bind. */
import type { CompositorContext } from '../context';
import { WlOutputSubpixel, WlOutputTransform, WlOutputMode, wlOutputInterface } from '../../../shared/protocol/generated/wayland';
import type { Resource } from '../../../shared/protocol/server';
import { destroyResource } from './util';

export const OUTPUT_WIDTH = 1280;
export const OUTPUT_HEIGHT = 720;

export function registerWlOutput(c: CompositorContext): void {
  const bound = new Set<Resource<'wl_output'>>();
  const mode = (res: Resource<'wl_output'>): void => {
    // refresh in mHz, of the real rate (slow motion stretches time, not the mode).
    res.send.mode(WlOutputMode.current | WlOutputMode.preferred, OUTPUT_WIDTH, OUTPUT_HEIGHT, Math.round(c.output.refreshHz * 1000));
  };
  // A new refresh rate is announced to every bound output, then done.
  c.modeListeners.push(() => {
    for (const res of bound) {
      if (res.destroyed) continue;
      mode(res);
      if (res.version >= 2) res.send.done();
    }
    c.display.flushClients();
  });
  c.display.createGlobal(wlOutputInterface, 4, (newId) => {
    const res = newId.create({ release: destroyResource });
    bound.add(res);
    res.onDestroy(() => bound.delete(res));
    res.send.geometry(0, 0, 340, 190, WlOutputSubpixel.unknown, 'handoff', 'virtual display', WlOutputTransform.normal);
    mode(res);
    if (res.version >= 2) res.send.scale(1);
    if (res.version >= 4) {
      res.send.name(c.output.name);
      res.send.description('handoff virtual output');
    }
    if (res.version >= 2) res.send.done();
  });
}

/** wl_output (v4): the one virtual output, described on bind. */
import type { Compositor } from '../compositor';
import { WlOutputSubpixel, WlOutputTransform, WlOutputMode, wlOutputInterface } from '../../../shared/protocol/generated/wayland';
import { destroyResource } from './util';

export const OUTPUT_WIDTH = 1280;
export const OUTPUT_HEIGHT = 720;

export function registerWlOutput(c: Compositor): void {
  c.display.createGlobal(wlOutputInterface, 4, (newId) => {
    const res = newId.create({ release: destroyResource });
    res.send.geometry(0, 0, 340, 190, WlOutputSubpixel.unknown, 'handoff', 'virtual display', WlOutputTransform.normal);
    res.send.mode(WlOutputMode.current | WlOutputMode.preferred, OUTPUT_WIDTH, OUTPUT_HEIGHT, Math.round(c.output.refreshHz * 1000));
    if (res.version >= 2) res.send.scale(1);
    if (res.version >= 4) {
      res.send.name(c.output.name);
      res.send.description('handoff virtual output');
    }
    if (res.version >= 2) res.send.done();
  });
}

/**
 * wl_compositor (v6) and wl_region. Surfaces are created here; their
 * requests live in ../surface.ts.
 */
import type { CompositorContext } from '../context';
import { wlCompositorInterface, type WlCompositorRequests, type WlRegionRequests } from '../../../shared/protocol/generated/wayland';
import { Surface } from '../surface';
import { destroyResource } from './util';

const region: WlRegionRequests = {
  destroy: destroyResource,
  add() {},
  subtract() {},
};

export function registerWlCompositor(c: CompositorContext): void {
  const impl: WlCompositorRequests = {
    createSurface(resource, id) {
      const info = c.clientInfo(resource.client);
      const surface = new Surface(info?.key ?? 0, c);
      surface.resource = id.create(surface);
      c.addSurface(surface, info);
      surface.resource.onDestroy(() => surface.resourceGone());
    },
    createRegion(_resource, id) {
      id.create(region);
    },
  };
  c.display.createGlobal(wlCompositorInterface, 6, (newId) => newId.create(impl));
}

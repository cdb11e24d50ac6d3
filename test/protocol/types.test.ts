/**
 * Compile-time guarantees of the generated types. The @ts-expect-error
 * lines are checked by `npm run typecheck`: if a missing handler or a wrong
 * argument type ever compiled, tsc would report the unused directive.
 */
import { describe, expect, it } from 'vitest';
import type { Proxy } from '../../shared/protocol/client';
import type { WlRegionRequests, WlSurfaceRequestSender } from '../../shared/protocol/generated/index';
import type { Resource } from '../../shared/protocol/server';

describe('generated types', () => {
  it('an implementation missing a request handler does not compile', () => {
    // @ts-expect-error subtract is missing
    const partial: WlRegionRequests = { destroy: () => {}, add: () => {} };
    expect(Object.keys(partial)).toEqual(['destroy', 'add']);
  });

  it('object arguments are typed by interface', () => {
    const attach = (send: WlSurfaceRequestSender, region: Proxy<'wl_region'>, buffer: Proxy<'wl_buffer'>): void => {
      send.attach(buffer, 0, 0);
      send.attach(null, 0, 0);
      // @ts-expect-error a wl_region is not a wl_buffer
      send.attach(region, 0, 0);
    };
    expect(typeof attach).toBe('function');
  });

  it('resources of different interfaces are not interchangeable', () => {
    const use = (buffer: Resource<'wl_buffer'>): Resource<'wl_buffer'> => buffer;
    const check = (surface: Resource<'wl_surface'>): void => {
      // @ts-expect-error a wl_surface resource is not a wl_buffer resource
      use(surface);
    };
    expect(typeof check).toBe('function');
  });
});

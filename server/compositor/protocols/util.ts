/** Small helpers shared by the protocol files. */
import type { NewId, RequestsOf, Resource } from '../../../shared/protocol/server';
import type { InterfaceName } from '../../../shared/protocol/generated/index';
import { Surface } from '../surface';

/** The compositor's Surface behind a wl_surface resource. */
export function surfaceOf(resource: Resource<'wl_surface'>): Surface {
  const impl = resource.implementation;
  if (!(impl instanceof Surface)) throw new Error(`wl_surface@${resource.id} has no Surface`);
  return impl;
}

/** Destructor requests whose only job is to destroy the object. */
export function destroyResource(resource: Resource): void {
  resource.destroy();
}

/**
 * A manager's "this surface already has one" error (surface_exists,
 * synchronization_exists, already_exists, commit_timer_exists): the new id
 * still gets an inert object, so requests already on the wire for it are
 * harmless while the error ends the client.
 */
export function refuseDuplicate<N extends InterfaceName>(
  manager: Resource,
  id: NewId<N>,
  inert: RequestsOf<N>,
  code: number,
  wlSurface: Resource<'wl_surface'>,
  what: string,
): void {
  id.create(inert);
  manager.postError(code, `wl_surface@${wlSurface.id} already has ${what}`);
}

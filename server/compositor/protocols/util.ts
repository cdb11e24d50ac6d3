/** Small helpers shared by the protocol files. */
import type { Resource } from '../../../shared/protocol/server';
import { Surface } from '../surface';

/** The compositor's Surface behind a wl_surface resource. */
export function surfaceOf(resource: Resource<'wl_surface'>): Surface {
  const impl = resource.implementation;
  if (!(impl instanceof Surface)) throw new Error(`wl_surface@${resource.id} has no Surface`);
  return impl;
}

/** A u64 timeline point from the protocol's hi/lo halves. */
export function pointFromHiLo(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Destructor requests whose only job is to destroy the object. */
export function destroyResource(resource: Resource): void {
  resource.destroy();
}

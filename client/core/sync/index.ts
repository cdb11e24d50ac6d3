/**
 * The sync kinds, one strategy module each (strategy.ts says what a
 * strategy decides and in what order the frame loop asks):
 *
 * | kind        | protocol                 | render submission         | reuse waits for                        |
 * |-------------|--------------------------|---------------------------|----------------------------------------|
 * | explicit    | linux-drm-syncobj-v1     | NO_IMPLICIT, out point    | the buffer's release point             |
 * | explicit-fd | linux-explicit-sync-v1   | NO_IMPLICIT, out fd       | release, then the fenced_release fd    |
 * | implicit    | none (implicit)          | implicit sync             | wl_buffer.release                      |
 * | bridged     | none (implicit)          | NO_IMPLICIT, in/out fd +  | wl_buffer.release, then                |
 * |             |                          | IMPORT/EXPORT_SYNC_FILE   | EXPORT_SYNC_FILE(WRITE) as in-fence    |
 * | naive       | none (implicit)          | NO_IMPLICIT, no fences    | nothing (ignores release): hazards     |
 */
import { bridgedSync } from './bridged';
import { explicitSync } from './explicit';
import { explicitFdSync } from './explicit-fd';
import { implicitSync } from './implicit';
import { naiveSync } from './naive';
import type { SyncSetup } from './strategy';

export type { RenderFences, SyncContext, SyncSetup, SyncStrategy } from './strategy';

export type SyncKind = 'explicit' | 'explicit-fd' | 'implicit' | 'bridged' | 'naive';
export const SYNC_KINDS: readonly SyncKind[] = ['explicit', 'explicit-fd', 'implicit', 'bridged', 'naive'];

/** Each kind's setup, by name. */
export const SYNC_SETUPS: Readonly<Record<SyncKind, SyncSetup>> = {
  explicit: explicitSync,
  'explicit-fd': explicitFdSync,
  implicit: implicitSync,
  bridged: bridgedSync,
  naive: naiveSync,
};

export function isSyncKind(s: string): s is SyncKind {
  return (SYNC_KINDS as readonly string[]).includes(s);
}

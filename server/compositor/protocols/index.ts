/** Every protocol the compositor advertises, one file each, named after its XML. */
import type { CompositorContext } from '../context';
import { registerWlCompositor } from './wl-compositor';
import { registerWlOutput } from './wl-output';
import { registerXdgShell } from './xdg-shell';
import { registerLinuxDmabuf } from './linux-dmabuf-v1';
import { registerLinuxDrmSyncobj } from './linux-drm-syncobj-v1';
import { registerExplicitSync } from './linux-explicit-synchronization-unstable-v1';
import { registerPresentation } from './presentation-time';
import { registerFifo } from './fifo-v1';
import { registerCommitTiming } from './commit-timing-v1';
import { registerHandoffDisplay } from './handoff-display-v1';

export function registerProtocols(c: CompositorContext): void {
  registerWlCompositor(c);
  registerWlOutput(c);
  registerXdgShell(c);
  registerLinuxDmabuf(c);
  registerLinuxDrmSyncobj(c);
  registerExplicitSync(c);
  registerPresentation(c);
  registerFifo(c);
  registerCommitTiming(c);
  registerHandoffDisplay(c);
}

/**
 * What the compositor's modules and protocol files see of the compositor:
 * its process and DRM fd, the output, the surfaces and clients, the clock
 * and the trace. The Compositor class (compositor.ts) implements it and is
 * the only module that registers the protocols, so no protocol file
 * depends on the class that depends on it (no import circle).
 */
import type { Kernel } from '../../shared/kernel/kernel';
import type { Process } from '../../shared/kernel/process';
import type { Client, Display } from '../../shared/protocol/server';
import type { TraceEvent } from '../../shared/trace/events';
import type { Output } from './output';
import type { Surface, SurfaceHost } from './surface';
import type { LatchPolicy } from './types';

export interface ClientInfo {
  readonly key: number;
  readonly name: string;
  readonly proc: Process;
  readonly client: Client;
  readonly surfaces: Set<Surface>;
}

export interface CompositorContext extends SurfaceHost {
  readonly kernel: Kernel;
  readonly display: Display;
  /** The compositor's own process in the kernel model. */
  readonly proc: Process;
  /** Its /dev/dri/card0 fd: syncobj handles and composition jobs. */
  readonly drmFd: number;
  /** Its own vgpu ring ("compositor"). */
  readonly ring: number;
  readonly output: Output;
  readonly policy: LatchPolicy;
  /** Modelled GPU time of a composition: base + per on-screen surface. */
  readonly compositionCost: { readonly baseNs: bigint; readonly perSurfaceNs: bigint };
  /** Mapped surfaces in stacking order (bottom first). */
  readonly surfaces: ReadonlyMap<number, Surface>;
  readonly clients: ReadonlyMap<Client, ClientInfo>;
  /** The token a browser display presents (handoff_display_manager_v1.register). */
  readonly displayToken: string;
  /** Run when the output's mode changes (wl_output announces it). */
  readonly modeListeners: (() => void)[];
  now(): bigint;
  emit(ev: TraceEvent): void;
  clientInfo(client: Client): ClientInfo | undefined;
  /** A new wl_surface of a client. */
  addSurface(surface: Surface, info: ClientInfo | undefined): void;
  /** First commit with a role: the surface is composited from now on. */
  mapSurface(surface: Surface): void;
}

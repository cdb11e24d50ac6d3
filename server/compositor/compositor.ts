/**
 * The compositor: policy over the protocol runtime and the kernel model.
 *
 * It is one process ("compositor") in the kernel, with its own DRM fd and
 * GPU ring. The host (server/client-session.ts) connects each client as a
 * Wayland client of `display` through the host interface (host.ts), fds
 * crossing into the compositor's fd table as with SCM_RIGHTS. The class
 * is the CompositorContext (context.ts) the other modules and the
 * protocol files see, and the one module that registers the protocols. A
 * commit becomes a content update whose locks depend on the sync path and
 * the latch policy (commit.ts); at each latch deadline the output's
 * repaint latches ready updates and submits a composition job
 * (repaint.ts); the flip presents them and buffer uses end through their
 * release paths (buffer-use.ts). Everything observable goes to the trace
 * ring and metrics.
 */
import type { Kernel } from '../../shared/kernel/kernel';
import type { Process } from '../../shared/kernel/process';
import type { KernelEvent } from '../../shared/kernel/events';
import { SyncValidator } from '../../shared/kernel/sync-validator';
import { DRM_IOCTL_VGPU_RING_NEW } from '../../shared/kernel/vgpu-drm';
import { Display, type Client } from '../../shared/protocol/server';
import type { TraceMessage } from '../../shared/protocol/connection';
import type { WireValue } from '../../shared/protocol/wire';
import {
  createCompositorMetrics,
  recordTraceEvent,
  renderCompositorMetrics,
  type CompositorMetrics,
} from '../../shared/trace/metrics';
import { createTraceRing, encodedAt, pushEvent, ringEvents, sinceJson, type TraceRing } from '../../shared/trace/ring';
import { chromeTraceJson } from '../../shared/trace/chrome-trace';
import type { HostedClient, HostedClientHooks, HostedCompositor, Observability } from './host';
import type { TraceEvent } from '../../shared/trace/events';
import type { ClientInfo, CompositorContext } from './context';
import { Output, type OutputMode } from './output';
import type { Surface } from './surface';
import { checkControlUpdate, DEFAULT_CONTROL_SETTINGS, type ControlUpdate, type LatchPolicy } from '../../shared/control';
import { commitSurface } from './commit';
import { dropSurfaceUpdates } from './buffer-use';
import { Repaint } from './repaint';
import { registerProtocols } from './protocols';
import { COMPOSITOR_RING } from './protocols/handoff-display-v1';

export interface CompositorOptions {
  kernel: Kernel;
  policy?: LatchPolicy;
  mode?: Partial<OutputMode>;
  /** Modelled GPU time of a composition: base + per on-screen surface. */
  compositionCost?: { baseNs: bigint; perSurfaceNs: bigint };
  /** Trace ring capacity (events). */
  traceCapacity?: number;
  /** Start the output's vblank clock at once (default true). */
  autoStart?: boolean;
  /**
   * The token a browser display presents to run composition jobs
   * (handoff_display_manager_v1.register). Default: a random UUID.
   */
  displayToken?: string;
}

export type { ClientInfo } from './context';

export type TraceObserver = (ev: TraceEvent, seq: number) => void;

export class Compositor implements HostedCompositor, CompositorContext {
  readonly kernel: Kernel;
  readonly display: Display;
  /** The compositor's own process in the kernel model. */
  readonly proc: Process;
  /** Its /dev/dri/card0 fd: syncobj handles and composition jobs. */
  readonly drmFd: number;
  /** Its own vgpu ring ("compositor"). */
  readonly ring: number;
  readonly output: Output;
  readonly validator: SyncValidator;
  readonly trace: TraceRing;
  readonly metrics: CompositorMetrics;
  readonly compositionCost: { baseNs: bigint; perSurfaceNs: bigint };
  /** Mapped surfaces in stacking order (bottom first). */
  readonly surfaces = new Map<number, Surface>();
  readonly clients = new Map<Client, ClientInfo>();
  readonly repaint: Repaint;
  /** Given to the server's own page (GET /display-token); see protocols/handoff-display-v1.ts. */
  readonly displayToken: string;
  private policyValue: LatchPolicy;
  private observers: TraceObserver[] = [];
  private unsubscribeKernel: () => void;

  constructor(options: CompositorOptions) {
    this.kernel = options.kernel;
    this.policyValue = options.policy ?? DEFAULT_CONTROL_SETTINGS.policy;
    this.displayToken = options.displayToken ?? globalThis.crypto.randomUUID();
    this.compositionCost = options.compositionCost ?? { baseNs: 300_000n, perSurfaceNs: 2_000n };
    this.trace = createTraceRing(options.traceCapacity ?? 65_536);
    this.metrics = createCompositorMetrics();
    this.validator = new SyncValidator(this.kernel);
    this.unsubscribeKernel = this.kernel.subscribe((ev: KernelEvent) => this.emit(ev));
    this.proc = this.kernel.spawn('compositor');
    // The compositor holds fds for every client (buffers, fences, timelines):
    // like a real compositor it raises RLIMIT_NOFILE well past the default.
    this.proc.setMaxFds(1 << 20);
    this.drmFd = this.proc.open('/dev/dri/card0');
    if (this.drmFd < 0) throw new Error(`compositor: open /dev/dri/card0 failed (${this.drmFd})`);
    const ringArg = { name: COMPOSITOR_RING, flags: 0, ring: 0 };
    const r = this.proc.ioctl(this.drmFd, DRM_IOCTL_VGPU_RING_NEW, ringArg);
    if (r !== 0) throw new Error(`compositor: DRM_IOCTL_VGPU_RING_NEW failed (${String(r)})`);
    this.ring = ringArg.ring;
    this.display = new Display({
      onInternalError: (err, client) => {
        const info = this.clients.get(client);
        this.emit({
          type: 'client.disconnect',
          t: this.now(),
          client: info?.key ?? 0,
          reason: `internal error: ${err instanceof Error ? err.message : String(err)}`,
        });
      },
    });
    this.repaint = new Repaint(this);
    this.output = new Output('virtual-1', this.kernel.clock, this.repaint, options.mode ?? {});
    registerProtocols(this);
    if (options.autoStart ?? true) this.output.start();
  }

  get policy(): LatchPolicy {
    return this.policyValue;
  }

  /** Run when the output's mode changes (wl_output announces it). */
  readonly modeListeners: (() => void)[] = [];

  /** Change refresh rate or slow motion (RangeError when out of range). */
  setMode(mode: Partial<OutputMode>): void {
    const before = this.output.refreshHz;
    this.output.setMode(mode);
    if (this.output.refreshHz !== before) for (const l of this.modeListeners) l();
  }

  /** Switch the latch policy; applies to commits from now on. */
  setPolicy(policy: LatchPolicy): void {
    this.policyValue = policy;
  }

  now(): bigint {
    return this.kernel.clock.now();
  }

  /** The host interface (host.ts): the process is this compositor's. */
  get process(): Process {
    return this.proc;
  }

  messageTrace(clientId: number): (m: TraceMessage) => void {
    return (m) => this.traceMessage(clientId, m);
  }

  /** A client connected (host.ts): its key is the host's connection id, its name the process name. */
  clientConnected(cc: HostedClient): HostedClientHooks {
    const { id: key, wayland: client, process: proc, comm: name } = cc;
    const info: ClientInfo = { key, name, proc, client, surfaces: new Set() };
    this.clients.set(client, info);
    this.emit({ type: 'client.connect', t: this.now(), client: key, pid: proc.pid, name });
    client.onDestroy(() => {
      this.clients.delete(client);
      this.emit({ type: 'client.disconnect', t: this.now(), client: key, reason: client.error?.message ?? 'closed' });
      this.display.flushClients();
    });
    return {};
  }

  clientInfo(client: Client): ClientInfo | undefined {
    return this.clients.get(client);
  }

  // ---- surfaces (SurfaceHost) ----

  addSurface(surface: Surface, info: ClientInfo | undefined): void {
    info?.surfaces.add(surface);
  }

  /** First commit with a role: composite the surface from now on, above the others. */
  mapSurface(surface: Surface): void {
    if (this.surfaces.has(surface.key)) return;
    this.surfaces.set(surface.key, surface);
  }

  commit(surface: Surface): void {
    commitSurface(this, surface);
  }

  surfaceDestroyed(surface: Surface): void {
    dropSurfaceUpdates(this, surface);
    this.surfaces.delete(surface.key);
    for (const info of this.clients.values()) info.surfaces.delete(surface);
  }

  // ---- trace ----

  /** Subscribe to every trace event (kernel and compositor), live. */
  observe(observer: TraceObserver): () => void {
    this.observers.push(observer);
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  emit(ev: TraceEvent): void {
    const seq = pushEvent(this.trace, ev);
    recordTraceEvent(this.metrics, ev);
    for (const o of this.observers) o(ev, seq);
  }

  private traceMessage(client: number, m: TraceMessage): void {
    this.emit({
      type: 'protocol',
      t: this.now(),
      client,
      dir: m.direction === 'in' ? 'request' : 'event',
      iface: m.interface,
      object: m.objectId,
      message: m.message,
      args: summarizeArgs(m.args),
    });
  }

  readonly observability: Observability = {
    traceJson: () => chromeTraceJson(ringEvents(this.trace)),
    metricsText: () => this.metricsText(),
    subscribeTrace: (fromSeq, send) => {
      const history = sinceJson(this.trace, fromSeq);
      send(history.items);
      // Live events go out in one batch per turn of the event loop, each
      // encoded once in the ring however many observers there are.
      let batch: string[] = [];
      const unsubscribe = this.observe((_ev, seq) => {
        const enc = encodedAt(this.trace, seq);
        if (enc === undefined) return;
        if (batch.length === 0) {
          queueMicrotask(() => {
            const out = batch;
            batch = [];
            send(`[${out.join(',')}]`);
          });
        }
        batch.push(enc);
      });
      return unsubscribe;
    },
    settings: () => ({
      policy: this.policy,
      refreshHz: this.output.refreshHz,
      slowMotion: this.output.currentMode.slowMotion,
    }),
    control: (update: ControlUpdate) => {
      const checked = checkControlUpdate(update);
      if (!checked.ok) return checked.error;
      const { policy, refreshHz, slowMotion } = checked.update;
      if (policy !== undefined) this.setPolicy(policy);
      this.setMode({
        ...(refreshHz !== undefined ? { refreshHz } : {}),
        ...(slowMotion !== undefined ? { slowMotion } : {}),
      });
      return undefined;
    },
  };

  metricsText(): string {
    this.metrics.clients.value = this.clients.size;
    return renderCompositorMetrics(this.metrics);
  }

  /** Stop the vblank clock and detach from the kernel (server shutdown, tests). */
  shutdown(): void {
    this.output.stop();
    for (const c of [...this.clients.keys()]) c.destroy();
    this.unsubscribeKernel();
    this.validator.dispose();
  }
}

function summarizeArgs(args: readonly WireValue[]): string {
  const parts: string[] = [];
  for (const a of args) {
    if (typeof a === 'string') parts.push(JSON.stringify(a.length > 40 ? `${a.slice(0, 40)}…` : a));
    else if (typeof a === 'number') parts.push(String(a));
    else if (a === null) parts.push('null');
    else if (a instanceof Uint8Array) parts.push(`array[${a.length}]`);
    else parts.push(JSON.stringify(a));
  }
  return parts.join(', ');
}

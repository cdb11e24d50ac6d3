/**
 * The host interface: how a compositor plugs into the transport that hosts
 * it. The host (server/app.ts, server/client-session.ts) owns sockets,
 * processes and the kernel channel; the compositor owns a Wayland Display
 * (its globals and their handlers) and one Process of its own in the same
 * Kernel. It lives beside the compositor so that server/compositor/ knows
 * no transport; no ws or fastify type crosses it. The Compositor class
 * (compositor.ts) is one HostedCompositor; tests plug in smaller ones.
 *
 * fds: a client's request handler sees fd arguments as the *compositor's*
 * fd numbers (the transport installs each passed fd into the compositor
 * process, as SCM_RIGHTS would); the handler owns them and closes them when
 * done. An fd the compositor sends in an event is its own number; the
 * transport installs a copy into the client's process (the compositor keeps
 * its fd, as libwayland dups at marshal time).
 *
 * Flushing: the transport flushes every client after each frame it
 * receives. Events a compositor sends from its own timers (repaint, frame
 * callbacks, releases) must be followed by `display.flushClients()`.
 */
import type { Process } from '../../shared/kernel/process';
import type { Client, Display } from '../../shared/protocol/server';
import type { KernelValue } from '../../shared/protocol/kernel-channel';
import type { TraceMessage } from '../../shared/protocol/connection';
import type { ControlSettings, ControlUpdate } from '../../shared/control';

/** One connected client, as the compositor sees it (the host's ClientSession). */
export interface HostedClient {
  /** Connection serial, unique for the server's lifetime. */
  readonly id: number;
  /** The client's process name (?comm= on the WebSocket URL, default 'client'). */
  readonly comm: string;
  /** The client's process: its fd table in the shared Kernel. */
  readonly process: Process;
  /** The client's Wayland connection (objects, postError, flush). */
  readonly wayland: Client;
  /** Send an asynchronous event on the kernel channel (vgpu "job runnable"). */
  kernelEvent(name: string, data: KernelValue): void;
}

/** What a compositor wants to hear about one client. */
export interface HostedClientHooks {
  /**
   * The client is gone. Its Wayland objects are already destroyed (their
   * onDestroy listeners ran); its process exits right after this returns.
   */
  disconnected?(): void;
}

/** What the host needs of a compositor. */
export interface HostedCompositor {
  /** The compositor's own process; fds clients pass are installed here. */
  readonly process: Process;
  /** The Wayland display: globals, clients, serials. */
  readonly display: Display;
  /**
   * A client connected: its process and its Wayland client exist, nothing
   * has been read from it yet. Globals are per Display (use createGlobal's
   * `visible` to hide some from some clients).
   */
  clientConnected?(client: HostedClient): HostedClientHooks | void;
  /**
   * Called before the client's Wayland connection is created: a function
   * to see every message it sends and receives (the protocol trace), if the
   * compositor keeps one.
   */
  messageTrace?(clientId: number): ((message: TraceMessage) => void) | undefined;
  /**
   * The secret a browser display presents to run composition jobs; served
   * to same-origin pages at GET /display-token when present.
   */
  readonly displayToken?: string;
  /** Observability, served by the app when present (GET /trace.json, /metrics, /trace WebSocket, /control). */
  readonly observability?: Observability;
}

export interface Observability {
  /** Chrome/Perfetto trace-event JSON of the recent history. */
  traceJson(): string;
  /** Prometheus text exposition. */
  metricsText(): string;
  /**
   * Stream trace events: `send` gets JSON batches (one array per call),
   * first the history from `fromSeq` (0: all kept), then live events.
   * Returns an unsubscribe function.
   */
  subscribeTrace(fromSeq: number, send: (json: string) => void): () => void;
  /** Current settings. */
  settings(): ControlSettings;
  /** Apply settings (shared/control.ts checks them); returns an error message for a bad one (nothing changes then). */
  control(update: ControlUpdate): string | undefined;
}

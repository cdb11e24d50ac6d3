/**
 * One connected client: a process in the Kernel, its Wayland connection to
 * the compositor, and its kernel channel, over one socket.
 *
 * Frames are routed by their channel word (frame-envelope.ts): Wayland
 * frames go whole to the protocol runtime's Client, kernel frames to the
 * KernelChannelServer. Anything malformed — an unknown channel, a text
 * frame, a bad kernel envelope, and every Wayland-level fault the runtime
 * finds — ends this client alone with wl_display.error and a close frame
 * (1002, the message as reason).
 *
 * fds cross between the client's process and the compositor's as
 * SCM_RIGHTS would carry them: a frame from the client names the client's
 * fds, which are installed into the compositor process before dispatch;
 * an fd in an event is installed into the client's process when queued.
 *
 * Lifetime: open → closing (we sent a close frame; input is ignored) →
 * closed (the socket is gone). Closing the socket is process exit: the
 * Wayland objects are destroyed first (the compositor drops what it holds),
 * then the process exits, closing its fds lowest first.
 */
import type { Kernel } from '../shared/kernel/kernel';
import type { Process } from '../shared/kernel/process';
import { Channel, unwrapFrame, wrapFrame } from '../shared/protocol/frame-envelope';
import type { KernelValue } from '../shared/protocol/kernel-channel';
import { WlDisplayError } from '../shared/protocol/generated/wayland';
import type { Client } from '../shared/protocol/server';
import type { HostedClient, HostedClientHooks, HostedCompositor } from './compositor/host';
import { scmRightsHooks } from './fd-passing';
import { KernelChannelServer } from './kernel-channel-dispatch';

/** WebSocket close codes (RFC 6455 §7.4.1) the server uses. */
export const CloseCode = {
  normal: 1000,
  /** Server shutdown. */
  goingAway: 1001,
  /** A protocol error ended the client (after wl_display.error). */
  protocolError: 1002,
  /** The client let its output pile up unread. */
  policyViolation: 1008,
  /** A frame over the cap (ws sends this itself). */
  messageTooBig: 1009,
} as const;

/** The socket under a session: bytes out, and a close with a reason. */
export interface FrameSink {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** The logging the session needs; pino's logger fits. */
export interface SessionLog {
  warn(detail: object, message: string): void;
  error(detail: object, message: string): void;
}

export interface SessionOptions {
  id: number;
  kernel: Kernel;
  compositor: HostedCompositor;
  comm: string;
  sink: FrameSink;
  log?: SessionLog;
}

type SessionState = 'open' | 'closing' | 'closed';

export class ClientSession implements HostedClient {
  readonly id: number;
  readonly comm: string;
  readonly process: Process;
  readonly wayland: Client;
  private readonly compositor: HostedCompositor;
  private readonly sink: FrameSink;
  private readonly log: SessionLog | undefined;
  private readonly kernelChannel: KernelChannelServer;
  private readonly hooks: HostedClientHooks;
  private state: SessionState = 'open';

  constructor(options: SessionOptions) {
    this.id = options.id;
    this.comm = options.comm;
    this.compositor = options.compositor;
    this.sink = options.sink;
    this.log = options.log;
    this.process = options.kernel.spawn(options.comm);
    const client = this.process;
    const compositorProc = options.compositor.process;
    this.wayland = options.compositor.display.createClient(
      {
        send: (frame) => this.sink.send(frame),
        // The runtime closes after a protocol error or when the compositor destroys the client.
        close: () => {
          const error = this.wayland.error;
          this.closeSocket(error ? CloseCode.protocolError : CloseCode.normal, error ? error.message : 'disconnected by the compositor');
        },
      },
      {
        fds: scmRightsHooks(compositorProc, client),
        trace: options.compositor.messageTrace?.(options.id),
      },
    );
    this.kernelChannel = new KernelChannelServer(
      this.process,
      (payload) => this.sink.send(wrapFrame(Channel.kernel, payload)),
      (err) => this.internalError(err),
    );
    this.hooks = options.compositor.clientConnected?.(this) ?? {};
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** One binary frame from the socket. */
  receive(frame: Uint8Array): void {
    if (this.state !== 'open') return;
    const env = unwrapFrame(frame);
    if (!env.ok) {
      this.refuse(`malformed frame: ${env.reason}`);
    } else if (env.channel === Channel.wayland) {
      this.wayland.onFrame(frame);
    } else {
      let bad: string | undefined;
      try {
        bad = this.kernelChannel.receive(env.payload);
      } catch (err) {
        this.internalError(err);
      }
      if (bad !== undefined) this.refuse(`kernel channel: ${bad}`);
    }
    // A request may have produced events for other clients too.
    this.compositor.display.flushClients();
  }

  /**
   * Ends the client for input the protocol does not allow: wl_display.error
   * (invalid_method on wl_display), then close.
   */
  refuse(message: string): void {
    if (this.state !== 'open') return;
    this.log?.warn({ client: this.id, comm: this.comm }, message);
    this.wayland.postError(1, 'wl_display', WlDisplayError.invalidMethod, message);
  }

  /** kernelEvent of HostedClient. */
  kernelEvent(name: string, data: KernelValue): void {
    if (this.state === 'open') this.kernelChannel.event(name, data);
  }

  /** Closes the socket with `code` (shutdown: 1001). Teardown follows when it is closed. */
  end(code: number, reason: string): void {
    this.closeSocket(code, reason);
  }

  /** The socket is closed (by either side): process exit. */
  disconnected(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.kernelChannel.close();
    this.wayland.onClose();
    try {
      this.hooks.disconnected?.();
    } catch (err) {
      this.log?.error({ client: this.id, err }, 'compositor failed handling a disconnect');
    }
    this.process.exit();
  }

  private closeSocket(code: number, reason: string): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.sink.close(code, reason);
  }

  /** A kernel call threw: a broken invariant. Report it and end this client only. */
  private internalError(err: unknown): void {
    this.log?.error({ client: this.id, comm: this.comm, err }, 'kernel call failed');
    if (this.state !== 'open') return;
    this.wayland.postError(1, 'wl_display', WlDisplayError.implementation, 'kernel failed handling a call');
  }
}

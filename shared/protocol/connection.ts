/**
 * What both ends of a Wayland connection share: the socket they run over,
 * how fds cross it, and the outgoing batch.
 *
 * API note (for the transport and the client library):
 * - A FrameSocket is anything with send(frame) and close(): a WebSocket
 *   adapter, or one end of test/memory-socket.ts's pair. Input goes the
 *   other way: the owner calls connection.onFrame(bytes) for every binary
 *   message and connection.onClose() when the peer went away.
 * - Outgoing messages are batched until flush(); each flush sends one frame
 *   (more only if the batch passes MAX_FDS_PER_FRAME fds or maxFrameBytes).
 * - fds are plain numbers. FdHooks let the transport translate them: send()
 *   at marshal time (libwayland dups there, so the caller may close its fd
 *   right after sending) and receive() when a frame arrives (SCM_RIGHTS
 *   installs fds into the receiver then). Without hooks, numbers pass as is.
 * See shared/protocol/README.md for the server and client classes.
 */
import { Channel } from './frame-envelope';
import { encodeFrame, MAX_FDS_PER_FRAME, type WireValue } from './wire';

/** The transport under a connection; no ws or fastify types here. */
export interface FrameSocket {
  send(frame: Uint8Array): void;
  close(): void;
}

/** fd translation between the two processes at the ends of a connection. */
export interface FdHooks {
  /**
   * An fd argument is being marshalled: return the number to put in the
   * frame (for example, the fd installed in the peer's table), or a
   * negative errno. Called when the message is queued, not at flush.
   */
  send?(fd: number): number;
  /**
   * A frame arrived carrying this fd number: return the local fd (installed
   * in our table), or a negative errno if the sender has no such fd.
   */
  receive?(fd: number): number;
  /** Close a received fd that no handler took (bad message, teardown). */
  close?(fd: number): void;
}

/** One message as seen by a trace observer. */
export interface TraceMessage {
  readonly direction: 'in' | 'out';
  readonly objectId: number;
  readonly interface: string;
  readonly message: string;
  readonly opcode: number;
  readonly args: readonly WireValue[];
}

export interface ConnectionOptions {
  fds?: FdHooks;
  /** Start a new frame before the batch passes this many message bytes. */
  maxFrameBytes?: number;
  /** Called for every message sent or dispatched (not for refused input). */
  trace?(message: TraceMessage): void;
}

/**
 * Message bytes per outgoing frame before the batch starts a new one (a
 * sender's choice, below any receiver's cap; the server refuses received
 * frames over app.ts's DEFAULT_MAX_RECEIVED_FRAME_BYTES).
 */
export const DEFAULT_MAX_SENT_FRAME_BYTES = 1 << 16;

/** The outgoing batch of one connection. */
export class OutgoingQueue {
  private readonly socket: FrameSocket;
  private readonly maxFrameBytes: number;
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private fds: number[] = [];
  private frames: Uint8Array[] = [];

  constructor(socket: FrameSocket, maxFrameBytes = DEFAULT_MAX_SENT_FRAME_BYTES) {
    this.socket = socket;
    this.maxFrameBytes = maxFrameBytes;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** Appends a message and the fds it consumes, in order. */
  push(message: Uint8Array, fds: readonly number[]): void {
    if (
      this.bytes > 0 &&
      (this.bytes + message.length > this.maxFrameBytes || this.fds.length + fds.length > MAX_FDS_PER_FRAME)
    ) {
      this.seal();
    }
    this.chunks.push(message);
    this.bytes += message.length;
    this.fds.push(...fds);
  }

  private seal(): void {
    const body = new Uint8Array(this.bytes);
    let at = 0;
    for (const c of this.chunks) {
      body.set(c, at);
      at += c.length;
    }
    this.frames.push(encodeFrame({ channel: Channel.wayland, fds: this.fds, body }));
    this.chunks = [];
    this.bytes = 0;
    this.fds = [];
  }

  /** Sends everything queued; nothing is sent for an empty batch. */
  flush(): void {
    if (this.bytes > 0) this.seal();
    const frames = this.frames;
    this.frames = [];
    for (const f of frames) this.socket.send(f);
  }

  /** Drops what is queued (the connection is going away unflushed). */
  discard(): void {
    this.chunks = [];
    this.bytes = 0;
    this.fds = [];
    this.frames = [];
  }
}

/**
 * wl_buffer over a dma-buf (zwp_linux_dmabuf_v1): the compositor's own fd
 * of the client's buffer, its size and format, and how many content
 * updates still use it. wl_buffer.release goes out when the last use ends,
 * as Mutter's use count does. A client may destroy the wl_buffer while it
 * is still on screen: the compositor keeps its fd until the last use ends.
 */
import type { Process } from '../../shared/kernel/process';
import type { Resource } from '../../shared/protocol/server';
import type { WlBufferRequests } from '../../shared/protocol/generated/wayland';

/** What a buffer needs to know of a surface it is attached to, pending. */
export interface PendingHolder {
  readonly pending: { buffer: DmabufBuffer | null | undefined };
}

export interface DmabufAttributes {
  /** The compositor's fd of the dma-buf (received with zwp_linux_buffer_params_v1.add). */
  readonly fd: number;
  /** The kernel's dma-buf id (for traces and the validator). */
  readonly buf: number;
  readonly width: number;
  readonly height: number;
  readonly format: number;
  readonly offset: number;
  readonly stride: number;
}

export class DmabufBuffer implements WlBufferRequests {
  readonly attrs: DmabufAttributes;
  private readonly proc: Process;
  resource: Resource<'wl_buffer'> | null = null;
  /** Content updates (queued, current or being read) that hold this buffer. */
  uses = 0;
  /** Surfaces that have this buffer attached but not yet committed. */
  readonly pendingOn = new Set<PendingHolder>();
  private destroyed = false;
  private closed = false;

  constructor(proc: Process, attrs: DmabufAttributes) {
    this.proc = proc;
    this.attrs = attrs;
  }

  /** wl_buffer.destroy */
  destroy(resource: Resource<'wl_buffer'>): void {
    resource.destroy();
  }

  /** Called when the resource goes away (request or disconnect). */
  resourceGone(): void {
    this.resource = null;
    this.destroyed = true;
    // Attached but not committed: the pending buffer becomes NULL, as in
    // Weston (weston_surface_state_handle_buffer_destroy), so a later commit
    // never refers to an fd that is already closed.
    for (const s of this.pendingOn) if (s.pending.buffer === this) s.pending.buffer = null;
    this.pendingOn.clear();
    this.maybeClose();
  }

  acquireUse(): void {
    this.uses++;
  }

  /** A use ended; true when it was the last one (time for wl_buffer.release). */
  releaseUse(): boolean {
    if (this.uses <= 0) throw new Error('DmabufBuffer.releaseUse without a use');
    this.uses--;
    if (this.uses > 0) return false;
    this.maybeClose();
    return true;
  }

  private maybeClose(): void {
    if (this.destroyed && this.uses === 0 && !this.closed) {
      this.closed = true;
      this.proc.close(this.attrs.fd);
    }
  }
}

/**
 * wl_surface: double-buffered pending state, the content-update queue and
 * the current (latched) buffer use. attach/frame only touch pending state;
 * commit hands it to the compositor, which turns it into a content update
 * with locks (commit.ts). Extensions keep their own double-buffered state
 * in typed slots (surface-state.ts) and check a commit through the hooks
 * they add here: the surface knows none of their fields.
 */
import type { NewId, Resource } from '../../shared/protocol/server';
import { WlSurfaceError, type WlSurfaceRequests } from '../../shared/protocol/generated/wayland';
import { ContentUpdateQueue } from './content-update-queue';
import { DmabufBuffer } from './buffer';
import { SlotStates, type CommitState } from './surface-state';
import type { BufferUse } from './types';

/** What the surface needs from the compositor. */
export interface SurfaceHost {
  commit(surface: Surface): void;
  surfaceDestroyed(surface: Surface): void;
}

export interface SurfacePending {
  /** undefined: nothing attached since the last commit. */
  buffer: DmabufBuffer | null | undefined;
  frameCallbacks: Resource<'wl_callback'>[];
  /** The extensions' pending state, per slot. */
  states: SlotStates;
}

function emptyPending(): SurfacePending {
  return { buffer: undefined, frameCallbacks: [], states: new SlotStates() };
}

/**
 * A pre-commit hook (Smithay's add_pre_commit_hook, wlroots' per-extension
 * client_commit listener): checks the pending state in its protocol's
 * error order; false after posting an error, and the commit is refused.
 */
export type PreCommitHook = (surface: Surface) => boolean;
/** Runs once a commit passed every check, before its update is queued. */
export type CommitHook = (surface: Surface) => void;

let nextSurfaceKey = 1;

export type SurfaceRole = { kind: 'none' } | { kind: 'xdg_toplevel'; title: string; appId: string };

export class Surface implements WlSurfaceRequests {
  /** Compositor-wide key (resource ids are per client). */
  readonly key = nextSurfaceKey++;
  /** Set right after construction, when the resource is created with this surface as its implementation. */
  resource!: Resource<'wl_surface'>;
  readonly clientKey: number;
  private readonly host: SurfaceHost;
  pending: SurfacePending = emptyPending();
  readonly queue = new ContentUpdateQueue<CommitState>();
  /** The latched buffer use shown by this surface, if any. */
  current: BufferUse | null = null;
  /**
   * Frame callbacks of updates applied while the surface was not shown (no
   * mapped role): they fire with its next presented update, as the
   * callbacks of Weston's and wlroots' current state wait for the next
   * repaint that shows the surface.
   */
  readonly heldCallbacks: Resource<'wl_callback'>[] = [];
  role: SurfaceRole = { kind: 'none' };
  destroyed = false;
  private readonly preCommitHooks: PreCommitHook[] = [];
  private readonly commitHooks: CommitHook[] = [];
  /** What became of this surface's commits (the accounting tests read these). */
  readonly stats = { committed: 0, presented: 0, discarded: 0, missed: 0 };

  constructor(clientKey: number, host: SurfaceHost) {
    this.clientKey = clientKey;
    this.host = host;
  }

  /** Add a check run at every commit, in the order added; returns its removal. */
  addPreCommitHook(hook: PreCommitHook): () => void {
    this.preCommitHooks.push(hook);
    return () => remove(this.preCommitHooks, hook);
  }

  /** Add a hook run at every accepted commit, in the order added; returns its removal. */
  addCommitHook(hook: CommitHook): () => void {
    this.commitHooks.push(hook);
    return () => remove(this.commitHooks, hook);
  }

  /** Run the pre-commit checks; false when one refused the commit. */
  checkCommit(): boolean {
    for (const hook of [...this.preCommitHooks]) if (!hook(this)) return false;
    return true;
  }

  /** Run the commit hooks (a hook may remove itself). */
  runCommitHooks(): void {
    for (const hook of [...this.commitHooks]) hook(this);
  }

  /** Take the pending state for a commit and start the next cycle. */
  takePending(): SurfacePending {
    const p = this.pending;
    p.buffer?.pendingOn.delete(this);
    this.pending = emptyPending();
    return p;
  }

  // ---- wl_surface requests ----

  destroy(resource: Resource<'wl_surface'>): void {
    resource.destroy();
  }

  attach(resource: Resource<'wl_surface'>, buffer: Resource<'wl_buffer'> | null, x: number, y: number): void {
    // Since wl_surface v5 a non-zero offset in attach is a protocol error (use offset).
    if (resource.version >= 5 && (x !== 0 || y !== 0)) {
      resource.postError(WlSurfaceError.invalidOffset, `attach with offset ${x},${y}: use wl_surface.offset`);
      return;
    }
    this.pending.buffer?.pendingOn.delete(this);
    if (buffer === null) {
      this.pending.buffer = null;
      return;
    }
    const impl = buffer.implementation;
    if (!(impl instanceof DmabufBuffer)) {
      resource.postError(WlSurfaceError.invalidSize, 'wl_buffer is not a dma-buf buffer');
      return;
    }
    this.pending.buffer = impl;
    impl.pendingOn.add(this);
  }

  damage(): void {}

  frame(_resource: Resource<'wl_surface'>, callback: NewId<'wl_callback'>): void {
    const cb = callback.create({});
    this.pending.frameCallbacks.push(cb);
  }

  setOpaqueRegion(): void {}

  setInputRegion(): void {}

  commit(): void {
    this.host.commit(this);
  }

  setBufferTransform(resource: Resource<'wl_surface'>, transform: number): void {
    if (transform < 0 || transform > 7) {
      resource.postError(WlSurfaceError.invalidTransform, `buffer transform ${transform} is not a wl_output.transform`);
    }
  }

  setBufferScale(resource: Resource<'wl_surface'>, scale: number): void {
    // Composition ignores scale and damage (one output at scale 1, whole-buffer reads): only the checks remain.
    if (scale < 1) resource.postError(WlSurfaceError.invalidScale, `buffer scale ${scale} must be at least 1`);
  }

  damageBuffer(): void {}

  offset(): void {}

  /** The resource is gone (request, or client disconnect). */
  resourceGone(): void {
    this.destroyed = true;
    const p = this.pending;
    p.buffer?.pendingOn.delete(this);
    // State asked for a commit that will never come (presentation feedback:
    // discarded). The pending state stays: extension objects destroyed
    // after the surface still drop what they set in it.
    p.states.each((slot, state) => slot.discarded?.(state));
    // Callbacks that will never fire are destroyed, which hands their ids
    // back (wl_display.delete_id), as wlroots, Weston and Mutter do when a
    // surface state is finished unapplied.
    for (const cb of p.frameCallbacks.splice(0)) cb.destroy();
    this.host.surfaceDestroyed(this);
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

/**
 * One home for a buffer use's life: one commit's use of one buffer, from
 * the commit that creates it until the compositor is done reading it, and
 * how its content update ends (presented or discarded). Every `buffer.state`
 * and `surface.presentation` trace event is emitted here.
 *
 *   createUse ─ committed ─ unlocked ─ latched ─ sampled (each composition)
 *     ─ on-screen ─ replaced by a newer use, superseded, or its surface gone
 *     ─ endUse: release path ─ release-pending ─ released
 *
 * The end hands the buffer back through the path the client chose, with
 * the fences of the compositions that read it:
 *
 * - linux-drm-syncobj-v1: the composition fence becomes the release point
 *   (FD_TO_HANDLE with IMPORT_SYNC_FILE at the point); a buffer that was
 *   never sampled gets its point signalled at once (TIMELINE_SIGNAL) —
 *   release without acquire is allowed, and releases may come out of order.
 * - linux-explicit-synchronization-v1: fenced_release(sync_file) or
 *   immediate_release, and wl_buffer.release as well.
 * - implicit: the composition fence was imported into the dma-buf as a
 *   READ fence right after each composition (repaint.ts), so the client's
 *   next implicitly synced write waits for it; wl_buffer.release now.
 */
import type { Resource } from '../../shared/protocol/server';
import type { BufferState } from '../../shared/trace/events';
import type { CompositorContext } from './context';
import type { DmabufBuffer } from './buffer';
import type { Surface } from './surface';
import type { CommitState, PresentInfo, SlotEnv } from './surface-state';
import type { BufferUse, CommitSync, OutputFrame } from './types';
import { mergeFences, mustSucceed, syncobjImportPoint, syncobjSignalPoint, timelineUnref, whenReadable } from './sync-ops';

function traceUse(c: CompositorContext, buffer: DmabufBuffer, surface: Surface | null, state: BufferState): void {
  c.emit({
    type: 'buffer.state',
    t: c.now(),
    client: surface?.clientKey ?? 0,
    ...(surface ? { surface: surface.resource.id } : {}),
    buffer: buffer.resource?.id ?? 0,
    buf: buffer.attrs.buf,
    state,
  });
}

/** A commit attached `buffer`: it is in use until endUse. */
export function createUse(buffer: DmabufBuffer, sync: CommitSync): BufferUse {
  buffer.acquireUse();
  return { buffer, sync, frames: [], ended: false };
}

/** The use's update is queued, behind fence locks (`waiting`) or ready. */
export function useCommitted(c: CompositorContext, surface: Surface, use: BufferUse, waiting: boolean): void {
  traceUse(c, use.buffer, surface, waiting ? 'waiting-on-fence' : 'queued');
}

/** The last fence lock of the use's update cleared. */
export function useUnlocked(c: CompositorContext, surface: Surface, use: BufferUse): void {
  traceUse(c, use.buffer, surface, 'queued');
}

export function useLatched(c: CompositorContext, surface: Surface, use: BufferUse): void {
  traceUse(c, use.buffer, surface, 'latched');
}

export function frameUnref(c: CompositorContext, frame: OutputFrame): void {
  frame.refs--;
  if (frame.refs === 0 && frame.fenceFd >= 0) {
    c.proc.close(frame.fenceFd);
    frame.fenceFd = -1;
  }
}

/** A composition read the buffer of this use: remember the frame (the latest per output). */
export function sampleUse(c: CompositorContext, use: BufferUse, frame: OutputFrame): void {
  // One output, one ring: a later frame's fence signals after every earlier
  // one, so the latest frame stands for all of them (a merge would keep
  // only it too: dma_fence_unwrap_merge keeps the latest per context).
  const prev = use.frames.pop();
  if (prev) frameUnref(c, prev);
  use.frames.push(frame);
  frame.refs++;
}

/**
 * `next` becomes what the surface shows (null: nothing); the use it
 * replaces ends. A surface already destroyed keeps nothing: ending a use
 * can end its client (an fd it cannot take), and then no later update will
 * replace `next`, so it ends too.
 */
export function replaceCurrent(c: CompositorContext, surface: Surface, next: BufferUse | null): void {
  const old = surface.current;
  surface.current = next;
  if (old) endUse(c, surface, old);
  if (surface.destroyed && surface.current) {
    const gone = surface.current;
    surface.current = null;
    endUse(c, surface, gone);
  }
}

/**
 * A sync path claimed and then given up (a surface with both explicit-sync
 * extensions: drm-syncobj wins): answer it at once, as a use that ended
 * unsampled would.
 */
export function abandonSync(c: SlotEnv, sync: CommitSync): void {
  if (sync.kind !== 'sync-file') return;
  if (sync.acquireFd >= 0) c.proc.close(sync.acquireFd);
  if (sync.release && !sync.release.destroyed) sync.release.send.immediateRelease();
}

export function endUse(c: CompositorContext, surface: Surface | null, use: BufferUse): void {
  if (use.ended) return;
  use.ended = true;
  const buffer = use.buffer;
  const fence = mergeFences(
    c.proc,
    use.frames.map((f) => f.fenceFd),
    'release',
  );
  const sync = use.sync;
  switch (sync.kind) {
    case 'syncobj': {
      const { timeline, point } = sync.release;
      if (fence >= 0) mustSucceed('SYNCOBJ_FD_TO_HANDLE(IMPORT_SYNC_FILE)', syncobjImportPoint(c.proc, c.drmFd, timeline.handle, point, fence));
      else mustSucceed('SYNCOBJ_TIMELINE_SIGNAL', syncobjSignalPoint(c.proc, c.drmFd, timeline.handle, point));
      timelineUnref(c.proc, c.drmFd, sync.acquire.timeline);
      timelineUnref(c.proc, c.drmFd, timeline);
      break;
    }
    case 'sync-file': {
      const rel = sync.release;
      if (rel && !rel.destroyed) {
        if (fence >= 0) rel.send.fencedRelease(fence);
        else rel.send.immediateRelease();
      }
      break;
    }
    case 'implicit':
      break;
  }
  for (const f of use.frames.splice(0)) frameUnref(c, f);
  if (fence >= 0) {
    traceUse(c, buffer, surface, 'release-pending');
    whenReadable(c.proc, fence, () => traceUse(c, buffer, surface, 'released'));
    c.proc.close(fence); // the watch holds it
  }
  if (buffer.releaseUse()) {
    if (fence < 0) traceUse(c, buffer, surface, 'released');
    if (buffer.resource && !buffer.resource.destroyed) buffer.resource.send.release();
  }
}

/** The acquire sync_file the state holds for gpu-wait, closed once the composition no longer needs it. */
export function closeAcquire(c: CompositorContext, state: CommitState): void {
  if (state.acquireFd >= 0) {
    c.proc.close(state.acquireFd);
    state.acquireFd = -1;
  }
}

/**
 * An update that will never be shown: discarded feedback, its acquire fd
 * closed, and its use ended — unless the caller has already made the use
 * the surface's current one (`use: 'kept'`), whose replacement ends it.
 */
export function discardUpdate(c: CompositorContext, surface: Surface, state: CommitState, use: 'end' | 'kept'): void {
  surface.stats.discarded++;
  c.emit({ type: 'surface.presentation', t: c.now(), client: surface.clientKey, surface: surface.resource.id, result: 'discarded' });
  state.states.each((slot, s) => slot.discarded?.(s));
  closeAcquire(c, state);
  if (use === 'end' && state.use) endUse(c, surface, state.use);
}

/**
 * Surface destroyed or client gone: every queued update is discarded, the
 * current use ends, and frame callbacks that will never fire (queued or
 * held) are destroyed, handing their ids back (wl_display.delete_id).
 */
export function dropSurfaceUpdates(c: CompositorContext, surface: Surface): void {
  for (const update of surface.queue.clear()) {
    discardUpdate(c, surface, update.state, 'end');
    destroyCallbacks(update.state.frameCallbacks);
  }
  destroyCallbacks(surface.heldCallbacks);
  replaceCurrent(c, surface, null);
}

/** wl_callback.done for each (a destructor event: the ids come back), held callbacks of the surface first. */
export function fireCallbacks(surface: Surface, state: CommitState, ms: number): void {
  for (const cb of surface.heldCallbacks.splice(0)) if (!cb.destroyed) cb.send.done(ms);
  for (const cb of state.frameCallbacks) if (!cb.destroyed) cb.send.done(ms);
}

/** Frame callbacks that will never fire: destroyed, so their ids come back without a done. */
export function destroyCallbacks(callbacks: Resource<'wl_callback'>[]): void {
  for (const cb of callbacks.splice(0)) cb.destroy();
}

/** The update reached the screen at `info` (commit `commitSeq`, committed at `committedAt`). */
export function presentUpdate(
  c: CompositorContext,
  surface: Surface,
  state: CommitState,
  commitSeq: number,
  committedAt: bigint,
  info: PresentInfo,
): void {
  surface.stats.presented++;
  c.emit({
    type: 'surface.presentation',
    t: info.at,
    client: surface.clientKey,
    surface: surface.resource.id,
    result: 'presented',
    commit: commitSeq,
    output: c.output.name,
    seq: Number(info.seq),
    latency: info.at - committedAt,
    refresh: info.periodNs,
  });
  if (state.use && surface.current === state.use) traceUse(c, state.use.buffer, surface, 'on-screen');
  state.states.each((slot, s) => slot.presented?.(s, info));
}

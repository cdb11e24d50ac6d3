/**
 * wl_surface.commit: pending state → content update with locks.
 *
 * Which locks an update gets depends on the client's sync path and on the
 * latch policy:
 *
 * | path      | cpu-wait                                   | gpu-wait                          | none    |
 * |-----------|--------------------------------------------|-----------------------------------|---------|
 * | syncobj   | lock until the acquire point's sync_file   | lock until the point materialises,| no lock |
 * |           | (HANDLE_TO_FD EXPORT_SYNC_FILE) signals    | then the GPU waits on it          |         |
 * | sync-file | lock until the acquire sync_file signals   | the GPU waits on it               | no lock |
 * | implicit  | lock until an EXPORT_SYNC_FILE(READ)       | the composition job waits through | no lock |
 * |           | snapshot taken now signals (Mutter)        | implicit sync (old behaviour)     |         |
 *
 * A sync-file commit without an acquire fence is locked as implicit.
 * A lock clears from a fence callback (Process.watch), never by polling.
 * The sync path itself is chosen by the protocols' slots at commit: this
 * module names no protocol.
 */
import { DMA_BUF_SYNC_READ } from '../../shared/kernel/uapi';
import { EINVAL, errnoName } from '../../shared/kernel/errno';
import { WlDisplayError } from '../../shared/protocol/generated/wayland';
import {
  DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE,
} from '../../shared/kernel/uapi';
import type { ContentUpdate } from './content-update-queue';
import type { CompositorContext } from './context';
import type { Surface } from './surface';
import type { CommitDraft, CommitState } from './surface-state';
import type { BufferUse, TimelinePoint } from './types';
import { exportSyncFile, syncobjExportPoint, whenReadable } from './sync-ops';
import { createUse, useCommitted, useUnlocked } from './buffer-use';

/** How long one WAIT_AVAILABLE ioctl waits before the compositor asks again. */
const MATERIALIZE_WAIT_NS = 10_000_000_000n;

/**
 * Content updates a surface may have queued. Updates wait only on locks
 * (fences, fifo, target times), so a client that keeps committing while its
 * fences never signal would grow the queue without end; wlroots and KWin
 * bound pending commits too. Past this, the client is ended.
 */
export const MAX_QUEUED_UPDATES = 256;

export function commitSurface(c: CompositorContext, surface: Surface): void {
  // The extensions' checks first (pre-commit hooks); a violation ends the client.
  if (!surface.checkCommit()) return;
  if (surface.queue.length >= MAX_QUEUED_UPDATES) {
    surface.resource.client.postError(
      1,
      'wl_display',
      WlDisplayError.implementation,
      `wl_surface@${surface.resource.id}: ${MAX_QUEUED_UPDATES} content updates already queued behind unsignaled fences`,
    );
    return;
  }
  const p = surface.takePending();
  surface.runCommitHooks();

  const now = c.now();
  const buffer = p.buffer;
  // Each protocol moves what the core needs into the update: the buffer's
  // sync path, fifo and timing constraints (surface-state.ts).
  const draft: CommitDraft = { hasBuffer: !!buffer, sync: { kind: 'implicit' }, fifoBarrier: false, fifoWait: false, targetNs: null };
  p.states.each((slot, state) => slot.commit?.(state, draft, c));
  const use = buffer ? createUse(buffer, draft.sync) : null;
  const state: CommitState = {
    buffer,
    use,
    frameCallbacks: p.frameCallbacks,
    states: p.states,
    fifoBarrier: draft.fifoBarrier,
    // The state owns the acquire sync_file from here on (closed by closeAcquire).
    acquireFd: use?.sync.kind === 'sync-file' ? use.sync.acquireFd : -1,
  };
  const update = surface.queue.push(state, now, draft.fifoWait, draft.targetNs);
  surface.stats.committed++;
  if (use) {
    addLocks(c, surface, update, use);
    useCommitted(c, surface, use, update.locks > 0);
  }
}

function lockOnFd(c: CompositorContext, surface: Surface, update: ContentUpdate<CommitState>, fd: number): void {
  let cancel = (): void => {};
  const cancelOnce = (): void => cancel();
  surface.queue.lock(update, cancelOnce);
  cancel = whenReadable(c.proc, fd, () => {
    cancel = () => {};
    if (surface.queue.unlock(update, c.now()) && update.state.use && !surface.destroyed) useUnlocked(c, surface, update.state.use);
  });
}

function addLocks(c: CompositorContext, surface: Surface, update: ContentUpdate<CommitState>, use: BufferUse): void {
  const policy = c.policy;
  const sync = use.sync;
  switch (sync.kind) {
    case 'syncobj': {
      if (policy === 'none') return;
      const fd = syncobjExportPoint(c.proc, c.drmFd, sync.acquire.timeline.handle, sync.acquire.point);
      if (fd >= 0) {
        update.state.acquireFd = fd;
        if (policy === 'cpu-wait') lockOnFd(c, surface, update, fd);
        return;
      }
      if (fd !== -EINVAL) return cannotWait(surface, 'export the acquire point', fd);
      // Not submitted yet ("commit before you submit"): wait for the point
      // to materialise (WAIT_AVAILABLE, as wlroots does), then as above.
      waitMaterialized(c, surface, update, sync.acquire);
      return;
    }
    case 'sync-file': {
      if (sync.acquireFd >= 0) {
        if (policy === 'cpu-wait') lockOnFd(c, surface, update, sync.acquireFd);
        return;
      }
      // No acquire fence: the buffer's implicit fences still count, as in
      // Weston, whose EGL import of the dma-buf syncs implicitly.
      if (policy === 'cpu-wait') lockOnSnapshot(c, surface, update, use);
      return;
    }
    case 'implicit': {
      if (policy === 'cpu-wait') lockOnSnapshot(c, surface, update, use);
      return;
    }
  }
}

/** Mutter: a snapshot of the writers now, so later client work cannot extend the wait. */
function lockOnSnapshot(c: CompositorContext, surface: Surface, update: ContentUpdate<CommitState>, use: BufferUse): void {
  const fd = exportSyncFile(c.proc, use.buffer.attrs.fd, DMA_BUF_SYNC_READ);
  if (fd < 0) return cannotWait(surface, 'snapshot the buffer fences (EXPORT_SYNC_FILE)', fd);
  lockOnFd(c, surface, update, fd);
  c.proc.close(fd); // the watch holds the file
}

/**
 * The compositor could not set up the wait an update needs (its own fd table
 * is full, say). Latching without it would sample a buffer still being
 * written, so the client is ended instead, with the reason.
 */
function cannotWait(surface: Surface, what: string, errno: number): void {
  surface.resource.client.postError(1, 'wl_display', WlDisplayError.implementation, `compositor could not ${what}: ${errnoName(errno)}`);
}

function waitMaterialized(c: CompositorContext, surface: Surface, update: ContentUpdate<CommitState>, acquire: TimelinePoint): void {
  let cancelled = false;
  surface.queue.lock(update, () => {
    cancelled = true;
  });
  const attempt = (): void => {
    const arg = {
      handles: [acquire.timeline.handle],
      points: [acquire.point],
      timeout_nsec: c.now() + MATERIALIZE_WAIT_NS,
      count_handles: 1,
      flags: DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE,
      first_signaled: 0,
      pad: 0,
      deadline_nsec: 0n,
    };
    void Promise.resolve(c.proc.ioctl(c.drmFd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, arg)).then(onResult).catch((err: unknown) => {
      c.display.options.onInternalError?.(err, surface.resource.client);
    });
  };
  const onResult = (r: number): void => {
    if (cancelled) return;
    if (r !== 0) return attempt(); // -ETIME: ask again while the update waits
    const fd = syncobjExportPoint(c.proc, c.drmFd, acquire.timeline.handle, acquire.point);
    if (fd < 0) return cannotWait(surface, 'export the acquire point', fd);
    update.state.acquireFd = fd;
    if (c.policy === 'cpu-wait') lockOnFd(c, surface, update, fd);
    if (surface.queue.unlock(update, c.now()) && update.state.use) useUnlocked(c, surface, update.state.use);
  };
  attempt();
}

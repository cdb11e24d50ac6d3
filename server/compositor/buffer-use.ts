/**
 * The end of a buffer use: handing the buffer back to its client through
 * the path the client chose, with the fences of the compositions that read
 * it (one merged sync_file when several frames did).
 *
 * - linux-drm-syncobj-v1: the merged composition fence becomes the release
 *   point (FD_TO_HANDLE with IMPORT_SYNC_FILE at the point); a buffer that
 *   was never sampled gets its point signalled at once (TIMELINE_SIGNAL) —
 *   release without acquire is allowed, and releases may come out of order.
 * - linux-explicit-synchronization-v1: fenced_release(sync_file) or
 *   immediate_release, and wl_buffer.release as well.
 * - implicit: the composition fence was imported into the dma-buf as a
 *   READ fence right after each composition (repaint.ts), so the client's
 *   next implicitly synced write waits for it; wl_buffer.release now.
 */
import { DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL } from '../../shared/kernel/uapi';
import type { Compositor } from './compositor';
import type { Surface } from './surface';
import type { BufferUse, Frame, SyncobjTimeline } from './types';
import { mergeSyncFiles, syncobjDestroy, syncobjImportPoint, whenReadable } from './sync-ops';

export function frameUnref(c: Compositor, frame: Frame): void {
  frame.refs--;
  if (frame.refs === 0 && frame.fenceFd >= 0) {
    c.proc.close(frame.fenceFd);
    frame.fenceFd = -1;
  }
}

/** A composition read the buffer of this use: remember the frame (the latest per output). */
export function useSampled(use: BufferUse, frame: Frame, c: Compositor): void {
  // One output, one ring: a later frame's fence signals after every earlier
  // one, so the latest frame stands for all of them (a merge would keep
  // only it too: dma_fence_unwrap_merge keeps the latest per context).
  const prev = use.frames.pop();
  if (prev) frameUnref(c, prev);
  use.frames.push(frame);
  frame.refs++;
}

export function timelineUnref(c: Compositor, timeline: SyncobjTimeline): void {
  timeline.refs--;
  if (timeline.refs === 0) syncobjDestroy(c.proc, c.drmFd, timeline.handle);
}

/** Merge the fences of every frame that read the use; a new fd the caller closes, or -1. */
function mergedFence(c: Compositor, frames: readonly Frame[]): number {
  let fd = -1;
  for (const f of frames) {
    if (f.fenceFd < 0) continue;
    if (fd < 0) {
      fd = c.proc.dup(f.fenceFd);
      continue;
    }
    const merged = mergeSyncFiles(c.proc, fd, f.fenceFd, 'release');
    c.proc.close(fd);
    fd = merged;
  }
  return fd;
}

export function endUse(c: Compositor, surface: Surface | null, use: BufferUse): void {
  if (use.ended) return;
  use.ended = true;
  const buffer = use.buffer;
  const fence = mergedFence(c, use.frames);
  const sync = use.sync;
  switch (sync.kind) {
    case 'syncobj': {
      const { timeline, point } = sync.release;
      if (fence >= 0) {
        syncobjImportPoint(c.proc, c.drmFd, timeline.handle, point, fence);
      } else {
        c.proc.ioctl(c.drmFd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, {
          handles: [timeline.handle],
          points: [point],
          count_handles: 1,
          flags: 0,
        });
      }
      timelineUnref(c, sync.acquire.timeline);
      timelineUnref(c, timeline);
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
    c.bufferState(buffer, surface, 'release-pending');
    whenReadable(c.proc, fence, () => c.bufferState(buffer, surface, 'released'));
    c.proc.close(fence); // the watch holds it
  }
  if (buffer.releaseUse()) {
    if (fence < 0) c.bufferState(buffer, surface, 'released');
    if (buffer.resource && !buffer.resource.destroyed) buffer.resource.send.release();
  }
}

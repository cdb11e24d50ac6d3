/**
 * The repaint cycle's policy (Output calls these hooks):
 *
 * - latch deadline: take each mapped surface's ready updates in order; all
 *   but the last are superseded; the last becomes current (its predecessor's
 *   buffer use ends). Then submit one composition job on the compositor's
 *   ring that reads every on-screen buffer. Under gpu-wait the job waits on
 *   the GPU for the acquire fences (explicit: a merged in-fence; implicit:
 *   the driver's implicit sync, no NO_IMPLICIT flag); under cpu-wait and
 *   none it waits for nothing. The composition fence is imported as a READ
 *   fence into implicit clients' buffers.
 * - vblank after the job completes: flip, presentation feedback, frame
 *   callbacks. A vblank that passes with the job still running is a missed
 *   frame for every surface waiting on it.
 */
import { DMA_BUF_SYNC_READ } from '../../shared/kernel/uapi';
import {
  DRM_IOCTL_VGPU_SUBMIT,
  VGPU_BO_READ,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  VGPU_SUBMIT_NO_IMPLICIT,
  type DrmVgpuSubmitBo,
} from '../../shared/kernel/vgpu-drm';
import type { Compositor } from './compositor';
import type { Output, OutputHooks } from './output';
import type { Frame, LatchedUpdate } from './types';
import { closeAcquire, discardUpdate } from './commit';
import { endUse, frameUnref, useSampled } from './release';
import { importSyncFile, mergeSyncFiles, whenReadable } from './sync-ops';
import { WpPresentationFeedbackKind } from '../../shared/protocol/generated/presentation-time';

export class Repaint implements OutputHooks {
  private readonly c: Compositor;
  /** The frame whose composition is in flight or waiting to flip. */
  private frame: Frame | null = null;
  readonly stats = { compositions: 0, submitFailures: 0, hookErrors: 0 };

  constructor(c: Compositor) {
    this.c = c;
  }

  repaint(output: Output, seq: bigint, presentAt: bigint): boolean {
    const c = this.c;
    const now = c.now();
    const frame: Frame = { seq, fenceFd: -1, refs: 1, updates: [], superseded: [] };
    for (const surface of c.surfaces.values()) {
      const taken = surface.queue.takeReady({ barrierActive: false, presentAt }, (u) => u.state.fifoBarrier);
      taken.forEach((u, i) => {
        const latched: LatchedUpdate = {
          surfaceKey: surface.key,
          surface,
          commitSeq: u.seq,
          committedAt: u.committedAt,
          latchedAt: now,
          state: u.state,
        };
        if (u.state.buffer !== undefined) {
          const old = surface.current;
          surface.current = u.state.use;
          if (old) endUse(c, surface, old);
          // Ending a use can end its client (an fd it cannot take): then this
          // use ends too, since nobody will replace it.
          if (surface.destroyed && surface.current) {
            const gone = surface.current;
            surface.current = null;
            endUse(c, surface, gone);
          }
        }
        if (u.state.use) c.bufferState(u.state.use.buffer, surface, 'latched');
        c.emit({
          type: 'surface.latch',
          t: now,
          client: surface.clientKey,
          surface: surface.resource.id,
          buffer: u.state.use?.buffer.resource?.id ?? 0,
          ...(u.state.use ? { buf: u.state.use.buffer.attrs.buf } : {}),
          commit: u.seq,
          latency: now - u.committedAt,
        });
        (i < taken.length - 1 ? frame.superseded : frame.updates).push(latched);
      });
    }
    this.discardUnmapped(now);
    let started = false;
    if (frame.updates.length > 0) {
      started = this.submit(frame);
      if (started) this.frame = frame;
      else this.finishFrame(frame, null, c.now());
    }
    // Releases and discards from this latch go out now, not at the flip.
    c.display.flushClients();
    return started;
  }

  /**
   * Surfaces without a mapped role are never shown: their ready updates are
   * discarded at each deadline (buffers handed back at once), so their
   * queues stay bounded and every commit still ends presented or discarded.
   */
  private discardUnmapped(now: bigint): void {
    const c = this.c;
    for (const info of c.clients.values()) {
      for (const surface of info.surfaces) {
        if (c.surfaces.has(surface.key) || surface.destroyed) continue;
        for (const u of surface.queue.takeReady({ barrierActive: false, presentAt: now }, () => false)) {
          if (u.state.buffer !== undefined) {
            const old = surface.current;
            surface.current = u.state.use;
            if (old) endUse(c, surface, old);
          }
          discardUpdate(c, surface, { ...u.state, use: null });
        }
        if (surface.current) {
          const use = surface.current;
          surface.current = null;
          endUse(c, surface, use);
        }
      }
    }
  }

  /** Submit the composition job for `frame`; false if the kernel refused it. */
  private submit(frame: Frame): boolean {
    const c = this.c;
    const gpuWait = c.policy === 'gpu-wait';
    const bos: DrmVgpuSubmitBo[] = [];
    let onScreen = 0n;
    for (const s of c.surfaces.values()) {
      if (!s.current) continue;
      bos.push({ fd: s.current.buffer.attrs.fd, flags: VGPU_BO_READ });
      onScreen++;
    }
    // gpu-wait: the composition depends on every latched acquire fence.
    let inFd = -1;
    if (gpuWait) {
      for (const u of frame.updates) {
        const a = u.state.acquireFd;
        if (a < 0) continue;
        if (inFd < 0) inFd = c.proc.dup(a);
        else {
          const m = mergeSyncFiles(c.proc, inFd, a, 'acquire');
          c.proc.close(inFd);
          inFd = m;
        }
      }
    }
    let flags = VGPU_SUBMIT_FENCE_FD_OUT;
    if (!gpuWait) flags |= VGPU_SUBMIT_NO_IMPLICIT;
    if (inFd >= 0) flags |= VGPU_SUBMIT_FENCE_FD_IN;
    const arg = {
      flags: flags >>> 0,
      ring: c.ring,
      bos,
      in_syncobjs: null,
      out_syncobjs: null,
      duration_ns: c.compositionCost.baseNs + c.compositionCost.perSurfaceNs * onScreen,
      nr_bos: bos.length,
      nr_in_syncobjs: 0,
      nr_out_syncobjs: 0,
      fence_fd: inFd,
      fence: 0,
      pad: 0,
      label: `compose ${frame.seq}`,
    };
    const r = c.proc.ioctl(c.drmFd, DRM_IOCTL_VGPU_SUBMIT, arg);
    if (inFd >= 0) c.proc.close(inFd);
    for (const u of frame.updates) closeAcquire(c, u.state);
    for (const u of frame.superseded) closeAcquire(c, u.state);
    if (r !== 0) {
      this.stats.submitFailures++;
      return false;
    }
    this.stats.compositions++;
    frame.fenceFd = arg.fence_fd;
    for (const s of c.surfaces.values()) {
      const use = s.current;
      if (!use) continue;
      useSampled(use, frame, c);
      // Implicit clients: the next implicitly synced write waits for this read.
      if (use.sync.kind === 'implicit') importSyncFile(c.proc, use.buffer.attrs.fd, DMA_BUF_SYNC_READ, frame.fenceFd);
    }
    whenReadable(c.proc, frame.fenceFd, () => {
      c.output.compositionDone();
    });
    return true;
  }

  error(err: unknown): void {
    this.stats.hookErrors++;
    this.c.emit({
      type: 'output.missed',
      t: this.c.now(),
      output: this.c.output.name,
      seq: Number(this.c.output.seq),
      reason: `compositor bug in the repaint cycle: ${err instanceof Error ? err.message : String(err)}`,
    });
  }

  flipped(output: Output, seq: bigint, at: bigint, _targetSeq: bigint): void {
    const frame = this.frame;
    this.frame = null;
    if (frame) this.finishFrame(frame, output, at, seq);
    this.c.emit({ type: 'output.vblank', t: at, output: output.name, seq: Number(seq), timestamp: at, flip: true });
  }

  missed(output: Output, seq: bigint, targetSeq: bigint): void {
    const c = this.c;
    const frame = this.frame;
    c.emit({
      type: 'output.missed',
      t: c.now(),
      output: output.name,
      seq: Number(seq),
      reason: `composition for vblank ${targetSeq} still running`,
    });
    if (!frame) return;
    const counted = new Set<number>();
    for (const u of frame.updates) counted.add(u.surfaceKey);
    // Surfaces with a ready update that could not be latched wait too.
    for (const s of c.surfaces.values()) if (s.queue.headReady({ barrierActive: false, presentAt: output.nextVblank })) counted.add(s.key);
    for (const key of counted) {
      const s = c.surfaces.get(key);
      if (s) s.stats.missed++;
    }
  }

  /** Present (or, without an output, discard) every update of a frame. */
  private finishFrame(frame: Frame, output: Output | null, at: bigint, seq = 0n): void {
    const c = this.c;
    const ms = Number((at / 1_000_000n) & 0xffff_ffffn);
    for (const u of frame.superseded) {
      const s = u.surface;
      discardUpdate(c, s, { ...u.state, use: null });
      if (!s.destroyed) for (const cb of u.state.frameCallbacks) if (!cb.destroyed) cb.send.done(ms);
    }
    for (const u of frame.updates) {
      const s = u.surface;
      // A surface destroyed (or its client gone) after the latch was never shown.
      if (!output || s.destroyed) {
        discardUpdate(c, s, { ...u.state, use: null });
        // Not shown, but the client may draw again: its frame callbacks still fire.
        if (!s.destroyed) for (const cb of u.state.frameCallbacks) if (!cb.destroyed) cb.send.done(ms);
        continue;
      }
      s.stats.presented++;
      const latency = at - u.committedAt;
      s.recordLatency(latency, Number((latency + output.periodNs - 1n) / output.periodNs));
      c.emit({
        type: 'surface.presentation',
        t: at,
        client: s.clientKey,
        surface: s.resource.id,
        result: 'presented',
        commit: u.commitSeq,
        output: output.name,
        seq: Number(seq),
      });
      if (u.state.use && s.current === u.state.use) c.bufferState(u.state.use.buffer, s, 'on-screen');
      const sec = at / 1_000_000_000n;
      for (const fb of u.state.feedbacks) {
        if (fb.destroyed) continue;
        fb.send.presented(
          Number(sec >> 32n),
          Number(sec & 0xffff_ffffn),
          Number(at % 1_000_000_000n),
          // refresh is a u32 of ns; a slowed-down period past 4.29 s is "unknown" (0).
          output.periodNs > 0xffff_ffffn ? 0 : Number(output.periodNs),
          Number(seq >> 32n),
          Number(seq & 0xffff_ffffn),
          WpPresentationFeedbackKind.vsync,
        );
      }
      for (const cb of u.state.frameCallbacks) if (!cb.destroyed) cb.send.done(ms);
    }
    frameUnref(c, frame);
    c.display.flushClients();
  }
}

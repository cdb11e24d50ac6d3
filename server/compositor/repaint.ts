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
import type { CompositorContext } from './context';
import type { Output, OutputHooks } from './output';
import type { Surface } from './surface';
import type { OutputFrame } from './types';
import type { CommitState } from './surface-state';
import {
  closeAcquire,
  destroyCallbacks,
  discardUpdate,
  fireCallbacks,
  frameUnref,
  presentUpdate,
  replaceCurrent,
  sampleUse,
  useLatched,
} from './buffer-use';
import { importSyncFile, mergeFences, mustSucceed, whenReadable } from './sync-ops';

/** An update taken at a latch deadline. */
interface LatchedUpdate {
  /** Kept so an update whose surface goes before the flip still ends (discarded). */
  readonly surface: Surface;
  readonly commitSeq: number;
  readonly committedAt: bigint;
  readonly state: CommitState;
}

/** A composition and the updates it presents. */
interface RepaintFrame extends OutputFrame {
  /** Latched updates this frame presents. */
  readonly updates: LatchedUpdate[];
  /** Updates superseded in the same latch (discarded at flip time, callbacks fired then). */
  readonly superseded: LatchedUpdate[];
}

export class Repaint implements OutputHooks {
  private readonly c: CompositorContext;
  /** The frame whose composition is in flight or waiting to flip. */
  private frame: RepaintFrame | null = null;
  readonly stats = { compositions: 0, submitFailures: 0, hookErrors: 0 };

  constructor(c: CompositorContext) {
    this.c = c;
  }

  repaint(output: Output, seq: bigint, presentAt: bigint): boolean {
    const c = this.c;
    const now = c.now();
    const frame: RepaintFrame = { seq, fenceFd: -1, refs: 1, updates: [], superseded: [] };
    for (const surface of c.surfaces.values()) {
      const taken = surface.queue.takeReady({ barrierActive: false, presentAt }, (u) => u.state.fifoBarrier);
      taken.forEach((u, i) => {
        const latched: LatchedUpdate = { surface, commitSeq: u.seq, committedAt: u.committedAt, state: u.state };
        if (u.state.buffer !== undefined) replaceCurrent(c, surface, u.state.use);
        if (u.state.use) useLatched(c, surface, u.state.use);
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
          if (u.state.buffer !== undefined) replaceCurrent(c, surface, u.state.use);
          discardUpdate(c, surface, u.state, 'kept');
          // Not shown: its callbacks wait until the surface is (or is destroyed).
          surface.heldCallbacks.push(...u.state.frameCallbacks);
        }
        replaceCurrent(c, surface, null);
      }
    }
  }

  /** Submit the composition job for `frame`; false if the kernel refused it. */
  private submit(frame: RepaintFrame): boolean {
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
    const inFd = gpuWait
      ? mergeFences(
          c.proc,
          frame.updates.map((u) => u.state.acquireFd),
          'acquire',
        )
      : -1;
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
      sampleUse(c, use, frame);
      // Implicit clients: the next implicitly synced write waits for this read.
      if (use.sync.kind === 'implicit') {
        mustSucceed('DMA_BUF_IOCTL_IMPORT_SYNC_FILE', importSyncFile(c.proc, use.buffer.attrs.fd, DMA_BUF_SYNC_READ, frame.fenceFd));
      }
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
    // The surfaces that miss this vblank: those in the frame still
    // composing, and those with a ready update that could not be latched.
    const counted = new Set<Surface>();
    if (frame) {
      for (const u of frame.updates) if (c.surfaces.get(u.surface.key) === u.surface) counted.add(u.surface);
      for (const s of c.surfaces.values()) if (s.queue.headReady({ barrierActive: false, presentAt: output.nextVblank })) counted.add(s);
    }
    c.emit({
      type: 'output.missed',
      t: c.now(),
      output: output.name,
      seq: Number(seq),
      reason: `composition for vblank ${targetSeq} still running`,
      ...(counted.size > 0 ? { surfaces: [...counted].map((s) => ({ client: s.clientKey, surface: s.resource.id })) } : {}),
    });
    for (const s of counted) s.stats.missed++;
  }

  /** Present (or, without an output, discard) every update of a frame. */
  private finishFrame(frame: RepaintFrame, output: Output | null, at: bigint, seq = 0n): void {
    const c = this.c;
    const ms = Number((at / 1_000_000n) & 0xffff_ffffn);
    // A superseded update's callbacks fire with the update that replaced it
    // (wlroots, Weston and Mutter merge them into the next state); those of
    // a surface destroyed meanwhile are destroyed, handing their ids back.
    const done = (u: LatchedUpdate): void => {
      if (u.surface.destroyed) destroyCallbacks(u.state.frameCallbacks);
      else fireCallbacks(u.surface, u.state, ms);
    };
    for (const u of frame.superseded) {
      discardUpdate(c, u.surface, u.state, 'kept');
      done(u);
    }
    for (const u of frame.updates) {
      const s = u.surface;
      // A surface destroyed (or its client gone) after the latch was never shown.
      if (!output || s.destroyed) {
        discardUpdate(c, s, u.state, 'kept');
        // Not shown, but the client may draw again: its frame callbacks still fire.
        done(u);
        continue;
      }
      presentUpdate(c, s, u.state, u.commitSeq, u.committedAt, { at, seq, periodNs: output.periodNs });
      done(u);
    }
    frameUnref(c, frame);
    c.display.flushClients();
  }
}

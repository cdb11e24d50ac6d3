/**
 * Headless clients of every sync kind: each one renders into dma-bufs with
 * the vgpu (a modelled render job per frame on its own ring), commits, and
 * reuses buffers the way its kind does. They pace themselves by frame
 * callbacks, like a real client with vsync. Used by tests, the demo and
 * benchmarks.
 *
 * | kind            | protocol                    | render job            | reuse waits for                      |
 * |-----------------|-----------------------------|-----------------------|--------------------------------------|
 * | explicit        | linux-drm-syncobj-v1        | NO_IMPLICIT, out point| the buffer's release point           |
 * | explicit-fd     | linux-explicit-sync-v1      | NO_IMPLICIT, out fd   | fenced_release fd / immediate_release |
 * | implicit        | none (implicit)             | implicit sync         | wl_buffer.release                    |
 * | bridged         | none (implicit)             | NO_IMPLICIT + IMPORT/ | wl_buffer.release, then              |
 * |                 |                             | EXPORT_SYNC_FILE      | EXPORT_SYNC_FILE(WRITE) as in-fence  |
 * | naive           | none (implicit)             | NO_IMPLICIT, no fences| nothing (ignores release): hazards   |
 *
 * "slow-<kind>" is the same client with a render job longer than a frame.
 */
import type { Proxy } from '../../shared/protocol/client';
import { wlCompositorInterface } from '../../shared/protocol/generated/wayland';
import { xdgWmBaseInterface } from '../../shared/protocol/generated/xdg-shell';
import { zwpLinuxDmabufV1Interface } from '../../shared/protocol/generated/linux-dmabuf-v1';
import { wpLinuxDrmSyncobjManagerV1Interface } from '../../shared/protocol/generated/linux-drm-syncobj-v1';
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import { wpPresentationInterface } from '../../shared/protocol/generated/presentation-time';
import {
  DMA_HEAP_IOCTL_ALLOC,
  DRM_IOCTL_SYNCOBJ_CREATE,
  DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
  DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
  POLLIN,
} from '../../shared/kernel/uapi';
import {
  DRM_IOCTL_VGPU_RING_NEW,
  DRM_IOCTL_VGPU_SUBMIT,
  VGPU_BO_WRITE,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  VGPU_SUBMIT_NO_IMPLICIT,
} from '../../shared/kernel/vgpu-drm';
import type { ClientEnv } from './env';
import { DRM_FORMAT_ARGB8888 } from '../../shared/protocol/drm-fourcc';
import { signalDmaBufFromSyncFile, syncFileForDmaBufWrite } from '../implicit-bridge';

export type SyncKind = 'explicit' | 'explicit-fd' | 'implicit' | 'bridged' | 'naive';
export const SYNC_KINDS: readonly SyncKind[] = ['explicit', 'explicit-fd', 'implicit', 'bridged', 'naive'];

export interface HeadlessOptions {
  kind: SyncKind;
  name: string;
  /** Modelled GPU time of one frame's render job. */
  renderNs: bigint;
  /** Swapchain length. Default 3. */
  buffers?: number;
  width?: number;
  height?: number;
  /** Stop after this many commits (default: run until stop()). */
  frames?: number;
}

/** Parse "explicit", "slow-implicit", ... into a kind and whether it is slow. */
export function parseClientSpec(spec: string): { kind: SyncKind; slow: boolean } {
  const slow = spec.startsWith('slow-');
  const kind = (slow ? spec.slice(5) : spec) as SyncKind;
  if (!SYNC_KINDS.includes(kind)) {
    throw new Error(`unknown client kind "${spec}": expected one of ${SYNC_KINDS.join(', ')}, optionally prefixed with slow-`);
  }
  return { kind, slow };
}

const FOREVER = 0x7fff_ffff_ffff_ffffn;

interface SwapBuffer {
  readonly index: number;
  readonly fd: number;
  readonly proxy: Proxy<'wl_buffer'>;
  /** Committed and not yet handed back (wl_buffer.release / release fence). */
  busy: boolean;
  /** Resolves waiters when the buffer is handed back. */
  waiters: (() => void)[];
  // explicit (syncobj): this buffer's release timeline and its last point
  releaseHandle: number;
  releaseTimeline: Proxy<'wp_linux_drm_syncobj_timeline_v1'> | null;
  releasePoint: bigint;
  // explicit-fd: the fenced_release sync_file to wait on before reuse
  releaseFenceFd: number;
}

export class HeadlessClient {
  readonly options: Required<Omit<HeadlessOptions, 'frames'>> & { frames: number | undefined };
  readonly stats = { committed: 0, presented: 0, discarded: 0, renders: 0, errors: 0 };
  private readonly env: ClientEnv;
  private surface!: Proxy<'wl_surface'>;
  private presentation: Proxy<'wp_presentation'> | null = null;
  private syncobjSurface: Proxy<'wp_linux_drm_syncobj_surface_v1'> | null = null;
  private surfaceSync: Proxy<'zwp_linux_surface_synchronization_v1'> | null = null;
  private drmFd = -1;
  private ring = 0;
  private acquireHandle = 0;
  private acquireTimeline: Proxy<'wp_linux_drm_syncobj_timeline_v1'> | null = null;
  private acquirePoint = 0n;
  private swapchain: SwapBuffer[] = [];
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(env: ClientEnv, options: HeadlessOptions) {
    this.env = env;
    this.options = {
      buffers: 3,
      width: 64,
      height: 64,
      ...options,
      frames: options.frames,
    };
  }

  /** Set up the window and buffers, then run the frame loop in the background. */
  async start(): Promise<void> {
    await this.setup();
    this.running = true;
    this.loopDone = this.loop().catch(() => {
      this.stats.errors++;
    });
  }

  /** Stop after the frame in progress; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.running = false;
    for (const b of this.swapchain) for (const w of b.waiters.splice(0)) w();
    // A frame callback may never come (the connection is gone): stop waiting for it.
    this.pendingFrame?.();
    await this.loopDone;
  }

  private pendingFrame: (() => void) | null = null;

  /** Resolves when the frame loop ends by itself (frames reached) or by stop(). */
  finished(): Promise<void> {
    return this.loopDone;
  }

  private async setup(): Promise<void> {
    const { env, options } = this;
    const k = env.kernel;
    const compositor = env.bind(wlCompositorInterface, 6);
    const wm = env.bind(xdgWmBaseInterface, 5);
    wm.setListener({ ping: (serial) => wm.send.pong(serial) });
    const dmabuf = env.bind(zwpLinuxDmabufV1Interface, 3);
    this.presentation = env.bind(wpPresentationInterface, 2);
    this.surface = compositor.send.createSurface();
    const xdgSurface = wm.send.getXdgSurface(this.surface);
    xdgSurface.setListener({ configure: (serial) => xdgSurface.send.ackConfigure(serial) });
    const toplevel = xdgSurface.send.getToplevel();
    toplevel.send.setTitle(`${options.name} (${options.kind})`);
    this.surface.send.commit(); // initial commit: ask for the first configure
    await env.roundtrip();

    this.drmFd = await k.open('/dev/dri/card0');
    if (this.drmFd < 0) throw new Error(`open /dev/dri/card0: ${this.drmFd}`);
    const ringArg = { name: `render-${options.name}`, flags: 0, ring: 0 };
    if ((await k.ioctl(this.drmFd, DRM_IOCTL_VGPU_RING_NEW, ringArg)) === 0) this.ring = ringArg.ring;

    if (options.kind === 'explicit') {
      const mgr = env.bind(wpLinuxDrmSyncobjManagerV1Interface, 1);
      this.syncobjSurface = mgr.send.getSurface(this.surface);
      const acq = await this.newTimeline();
      this.acquireHandle = acq.handle;
      this.acquireTimeline = mgr.send.importTimeline(acq.fd);
      await k.close(acq.fd);
      this.swapchainMgr = mgr;
    } else if (options.kind === 'explicit-fd') {
      const mgr = env.bind(zwpLinuxExplicitSynchronizationV1Interface, 2);
      this.surfaceSync = mgr.send.getSynchronization(this.surface);
    }

    const heap = await k.open('/dev/dma_heap/system');
    const stride = options.width * 4;
    for (let i = 0; i < options.buffers; i++) {
      const alloc = { len: BigInt(stride * options.height), fd: 0, fd_flags: 0, heap_flags: 0n };
      const r = await k.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, alloc);
      if (r < 0) throw new Error(`DMA_HEAP_IOCTL_ALLOC: ${r}`);
      const params = dmabuf.send.createParams();
      params.send.add(alloc.fd, 0, 0, stride, 0, 0);
      const proxy = params.send.createImmed(options.width, options.height, DRM_FORMAT_ARGB8888, 0);
      params.send.destroy();
      const buf: SwapBuffer = {
        index: i,
        fd: alloc.fd,
        proxy,
        busy: false,
        waiters: [],
        releaseHandle: 0,
        releaseTimeline: null,
        releasePoint: 0n,
        releaseFenceFd: -1,
      };
      proxy.setListener({ release: () => this.handBack(buf) });
      if (options.kind === 'explicit' && this.swapchainMgr) {
        const tl = await this.newTimeline();
        buf.releaseHandle = tl.handle;
        buf.releaseTimeline = this.swapchainMgr.send.importTimeline(tl.fd);
        await k.close(tl.fd);
      }
      this.swapchain.push(buf);
    }
    await k.close(heap);
    await env.roundtrip();
  }

  private swapchainMgr: Proxy<'wp_linux_drm_syncobj_manager_v1'> | null = null;

  private async newTimeline(): Promise<{ handle: number; fd: number }> {
    const k = this.env.kernel;
    const create = { handle: 0, flags: 0 };
    await k.ioctl(this.drmFd, DRM_IOCTL_SYNCOBJ_CREATE, create);
    const h2f = { handle: create.handle, flags: 0, fd: -1, pad: 0, point: 0n };
    await k.ioctl(this.drmFd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, h2f);
    return { handle: create.handle, fd: h2f.fd };
  }

  private handBack(buf: SwapBuffer): void {
    buf.busy = false;
    for (const w of buf.waiters.splice(0)) w();
  }

  private async loop(): Promise<void> {
    let frame = 0;
    while (this.running && (this.options.frames === undefined || this.stats.committed < this.options.frames)) {
      const buf = this.swapchain[frame % this.swapchain.length]!;
      frame++;
      await this.waitReusable(buf);
      if (!this.running) break;
      const sync = await this.render(buf);
      // stop() may have come while the render was being submitted: no
      // commit then, and no frame callback to wait for that might never come.
      if (!this.running) break;
      const presented = this.requestFrame();
      this.commit(buf, sync);
      await presented;
    }
    this.running = false;
  }

  /** Wait until the compositor has handed `buf` back, the way this kind learns it. */
  private async waitReusable(buf: SwapBuffer): Promise<void> {
    const k = this.env.kernel;
    switch (this.options.kind) {
      case 'naive':
        return; // ignores release: renders into a buffer the compositor may be reading
      case 'explicit':
        if (buf.releasePoint === 0n) return;
        await k.ioctl(this.drmFd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, {
          handles: [buf.releaseHandle],
          points: [buf.releasePoint],
          timeout_nsec: FOREVER,
          count_handles: 1,
          flags: DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
          first_signaled: 0,
          pad: 0,
          deadline_nsec: 0n,
        });
        return;
      case 'explicit-fd':
        if (buf.busy) await new Promise<void>((r) => buf.waiters.push(r));
        if (buf.releaseFenceFd >= 0) {
          await k.poll([{ fd: buf.releaseFenceFd, events: POLLIN, revents: 0 }], -1);
          await k.close(buf.releaseFenceFd);
          buf.releaseFenceFd = -1;
        }
        return;
      case 'implicit':
      case 'bridged':
        if (buf.busy) await new Promise<void>((r) => buf.waiters.push(r));
        return;
    }
  }

  /** Submit this frame's render job; returns what the commit must carry. */
  private async render(buf: SwapBuffer): Promise<{ acquireFd: number }> {
    const k = this.env.kernel;
    const kind = this.options.kind;
    let flags = 0;
    let inFd = -1;
    const out: { handle: number; flags: number; point: bigint }[] = [];
    if (kind !== 'implicit') flags |= VGPU_SUBMIT_NO_IMPLICIT;
    if (kind === 'explicit') {
      this.acquirePoint++;
      out.push({ handle: this.acquireHandle, flags: 0, point: this.acquirePoint });
    }
    if (kind === 'bridged') {
      // Mesa WSI: wait for the compositor's implicit reads before reusing the image.
      const fd = await syncFileForDmaBufWrite(k, buf.fd);
      if (fd >= 0) {
        inFd = fd;
        flags |= VGPU_SUBMIT_FENCE_FD_IN;
      }
    }
    if (kind === 'explicit-fd' || kind === 'bridged') flags |= VGPU_SUBMIT_FENCE_FD_OUT;
    const arg = {
      flags: flags >>> 0,
      ring: this.ring,
      bos: [{ fd: buf.fd, flags: VGPU_BO_WRITE }],
      in_syncobjs: null,
      out_syncobjs: out,
      duration_ns: this.options.renderNs,
      nr_bos: 1,
      nr_in_syncobjs: 0,
      nr_out_syncobjs: out.length,
      fence_fd: inFd,
      fence: 0,
      pad: 0,
      label: `${this.options.name} frame ${this.stats.renders + 1}`,
    };
    const r = await k.ioctl(this.drmFd, DRM_IOCTL_VGPU_SUBMIT, arg);
    if (inFd >= 0) await k.close(inFd);
    if (r !== 0) throw new Error(`DRM_IOCTL_VGPU_SUBMIT: ${r}`);
    this.stats.renders++;
    let acquireFd = -1;
    if (kind === 'bridged') {
      // Mesa WSI: make the render fence the buffer's implicit write fence before commit.
      await signalDmaBufFromSyncFile(k, buf.fd, arg.fence_fd);
      await k.close(arg.fence_fd);
    } else if (kind === 'explicit-fd') {
      acquireFd = arg.fence_fd;
    }
    return { acquireFd };
  }

  private requestFrame(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.pendingFrame = null;
        resolve();
      };
      this.pendingFrame = done;
      this.surface.send.frame().setListener({ done });
    });
  }

  private commit(buf: SwapBuffer, sync: { acquireFd: number }): void {
    const { surface } = this;
    if (this.presentation) {
      this.presentation.send.feedback(surface).setListener({
        presented: () => this.stats.presented++,
        discarded: () => this.stats.discarded++,
      });
    }
    if (this.syncobjSurface && this.acquireTimeline && buf.releaseTimeline) {
      buf.releasePoint++;
      this.syncobjSurface.send.setAcquirePoint(this.acquireTimeline, hi(this.acquirePoint), lo(this.acquirePoint));
      this.syncobjSurface.send.setReleasePoint(buf.releaseTimeline, hi(buf.releasePoint), lo(buf.releasePoint));
    }
    if (this.surfaceSync) {
      if (sync.acquireFd >= 0) this.surfaceSync.send.setAcquireFence(sync.acquireFd);
      this.surfaceSync.send.getRelease().setListener({
        fencedRelease: (fd) => {
          buf.releaseFenceFd = fd;
        },
        immediateRelease: () => {},
      });
    }
    buf.busy = true;
    surface.send.attach(buf.proxy, 0, 0);
    surface.send.damageBuffer(0, 0, this.options.width, this.options.height);
    surface.send.commit();
    this.stats.committed++;
    this.env.flush();
    // The acquire fd was sent (the transport dup'ed it): ours can go.
    if (sync.acquireFd >= 0) this.env.kernel.close(sync.acquireFd).catch(() => {});
  }
}

function hi(v: bigint): number {
  return Number(v >> 32n);
}
function lo(v: bigint): number {
  return Number(v & 0xffff_ffffn);
}

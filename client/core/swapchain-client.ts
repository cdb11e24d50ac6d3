/**
 * A window that renders into a swapchain of dma-bufs and presents them,
 * paced by frame callbacks like a real client with vsync. One frame loop
 * for every sync kind and every renderer:
 *
 *   wait until the next buffer may be written   (the sync strategy)
 *   submit the frame's render job(s) to the vgpu (fenced by the strategy,
 *                                                executed by the renderer)
 *   ask for a frame callback, commit with presentation feedback
 *   wait for the frame callback
 *
 * The strategy (sync/) decides the protocol objects, fences and reuse
 * rule; the renderer (renderer.ts) decides what executes each job: the
 * simulated engine (modelled-renderer.ts) or the client's own GPU work
 * (the page's WebGPU client). Counts land in `stats`.
 */
import type { Proxy } from '../../shared/protocol/client';
import { wlCompositorInterface } from '../../shared/protocol/generated/wayland';
import { xdgWmBaseInterface } from '../../shared/protocol/generated/xdg-shell';
import { zwpLinuxDmabufV1Interface } from '../../shared/protocol/generated/linux-dmabuf-v1';
import { wpPresentationInterface } from '../../shared/protocol/generated/presentation-time';
import { DRM_IOCTL_VGPU_RING_NEW, DRM_IOCTL_VGPU_SUBMIT, VGPU_BO_WRITE, VGPU_SUBMIT_FENCE_FD_IN, VGPU_SUBMIT_FENCE_FD_OUT, type DrmVgpuSubmit } from '../../shared/kernel/vgpu-drm';
import type { ClientEnv } from './kernel-api';
import type { Renderer, RenderSlice } from './renderer';
import { allocateSwapBuffer, wakeWaiters, type SwapBuffer } from './swapchain';
import { SYNC_SETUPS, type RenderFences, type SyncKind, type SyncStrategy } from './sync/index';

export interface SwapchainOptions {
  kind: SyncKind;
  name: string;
  /** Swapchain length. Default 3. */
  buffers?: number;
  width?: number;
  height?: number;
  /** Stop after this many commits (default: run until stop()). */
  frames?: number;
}

export type ResolvedSwapchainOptions = Required<Omit<SwapchainOptions, 'frames'>> & { frames: number | undefined };

export interface SwapchainStats {
  committed: number;
  presented: number;
  discarded: number;
  /** Frames rendered (each frame's submissions count once). */
  renders: number;
  /** The frame loop ended on an error. */
  errors: number;
}

export class SwapchainClient {
  readonly options: ResolvedSwapchainOptions;
  readonly stats: SwapchainStats = { committed: 0, presented: 0, discarded: 0, renders: 0, errors: 0 };
  private readonly env: ClientEnv;
  private readonly renderer: Renderer;
  private surface!: Proxy<'wl_surface'>;
  private presentation: Proxy<'wp_presentation'> | null = null;
  private sync!: SyncStrategy;
  private drmFd = -1;
  private ring = 0;
  private swapchain: SwapBuffer[] = [];
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private pendingFrame: (() => void) | null = null;

  constructor(env: ClientEnv, options: SwapchainOptions, renderer: Renderer) {
    this.env = env;
    this.renderer = renderer;
    this.options = { buffers: 3, width: 64, height: 64, ...options, frames: options.frames };
  }

  /** Set up the window and buffers, then run the frame loop in the background. */
  async start(): Promise<void> {
    await this.setup();
    this.running = true;
    this.loopDone = this.run();
  }

  /** Stop after the frame in progress; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.running = false;
    for (const b of this.swapchain) wakeWaiters(b);
    // A frame callback may never come (the connection is gone): stop waiting for it.
    this.pendingFrame?.();
    await this.loopDone;
  }

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
    const ringArg = { name: `render-${options.name}`, flags: this.renderer.ringFlags, ring: 0 };
    const ringNew = await k.ioctl(this.drmFd, DRM_IOCTL_VGPU_RING_NEW, ringArg);
    if (ringNew === 0) this.ring = ringArg.ring;
    // Without a ring of its own a client renders on "gfx" (ring 0); a
    // renderer that asked for flags must not find its jobs run elsewhere.
    else if (this.renderer.ringFlags !== 0) throw new Error(`DRM_IOCTL_VGPU_RING_NEW(flags ${this.renderer.ringFlags}): ${ringNew}`);

    this.sync = await SYNC_SETUPS[options.kind]({ env, surface: this.surface, drmFd: this.drmFd });

    const heap = await k.open('/dev/dma_heap/system');
    for (let i = 0; i < options.buffers; i++) {
      const buf = await allocateSwapBuffer(k, heap, dmabuf, i, options.width, options.height);
      await this.sync.addBuffer(buf);
      this.swapchain.push(buf);
    }
    await k.close(heap);
    await env.roundtrip();
    await this.renderer.attach?.({ kernel: k, drmFd: this.drmFd, ring: this.ring, buffers: this.swapchain });
  }

  /** The frame loop, then the renderer's detach; a failure of either counts in stats.errors. */
  private async run(): Promise<void> {
    try {
      await this.loop();
    } catch {
      this.stats.errors++;
    }
    try {
      await this.renderer.detach?.();
    } catch {
      this.stats.errors++;
    }
  }

  private async loop(): Promise<void> {
    let frame = 0;
    while (this.running && (this.options.frames === undefined || this.stats.committed < this.options.frames)) {
      const buf = this.swapchain[frame % this.swapchain.length]!;
      frame++;
      await this.sync.waitReusable(buf);
      if (!this.running) break;
      await this.render(buf);
      // stop() may have come while the render was being submitted: no
      // commit then, and no frame callback to wait for that might never come.
      if (!this.running) break;
      const presented = this.requestFrame();
      this.commit(buf);
      await presented;
    }
    this.running = false;
  }

  /**
   * Submit this frame's render job(s), fenced by the strategy: the first
   * slice waits on the in-fence, the last signals the out-fences.
   */
  private async render(buf: SwapBuffer): Promise<void> {
    const fences = await this.sync.renderFences(buf);
    const frame = this.stats.renders + 1;
    const slices = this.renderer.planFrame(buf, frame);
    if (slices.length === 0) throw new Error('the renderer planned a frame of no submissions');
    let outFenceFd = -1;
    for (const [i, slice] of slices.entries()) {
      const first = i === 0;
      const last = i === slices.length - 1;
      if (slice.ready) await slice.ready();
      const label = slices.length === 1 ? `${this.options.name} frame ${frame}` : `${this.options.name} frame ${frame}.${i + 1}`;
      const arg = this.submission(buf, fences, slice, first, last, label);
      const r = await this.env.kernel.ioctl(this.drmFd, DRM_IOCTL_VGPU_SUBMIT, arg);
      if (first && fences.inFenceFd >= 0) await this.env.kernel.close(fences.inFenceFd);
      if (r !== 0) throw new Error(`DRM_IOCTL_VGPU_SUBMIT: ${r}`);
      this.renderer.submitted?.({ seqno: arg.fence, buffer: buf, frame, slice: i, slices: slices.length });
      if (last && (arg.flags & VGPU_SUBMIT_FENCE_FD_OUT) !== 0) outFenceFd = arg.fence_fd;
    }
    this.stats.renders++;
    await this.sync.rendered(buf, outFenceFd);
  }

  /** drm_vgpu_submit for one slice of a frame into `buf`. */
  private submission(buf: SwapBuffer, fences: RenderFences, slice: RenderSlice, first: boolean, last: boolean, label: string): DrmVgpuSubmit {
    let flags = fences.flags;
    if (!first) flags &= ~VGPU_SUBMIT_FENCE_FD_IN;
    if (!last) flags &= ~VGPU_SUBMIT_FENCE_FD_OUT;
    const out = last ? [...fences.outSyncobjs] : [];
    return {
      flags: flags >>> 0,
      ring: this.ring,
      bos: [{ fd: buf.fd, flags: VGPU_BO_WRITE }],
      in_syncobjs: null,
      out_syncobjs: out,
      duration_ns: slice.durationNs,
      nr_bos: 1,
      nr_in_syncobjs: 0,
      nr_out_syncobjs: out.length,
      fence_fd: first ? fences.inFenceFd : -1,
      fence: 0,
      pad: 0,
      label,
    };
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

  private commit(buf: SwapBuffer): void {
    const { surface } = this;
    if (this.presentation) {
      this.presentation.send.feedback(surface).setListener({
        presented: () => this.stats.presented++,
        discarded: () => this.stats.discarded++,
      });
    }
    this.sync.commit(buf);
    buf.busy = true;
    surface.send.attach(buf.proxy, 0, 0);
    surface.send.damageBuffer(0, 0, this.options.width, this.options.height);
    surface.send.commit();
    this.stats.committed++;
    this.env.flush();
    this.sync.committed(buf);
  }
}

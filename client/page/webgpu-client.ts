/**
 * The WebGPU side of an in-page client: one GPUTexture per dma-buf of its
 * swapchain (on the page's one device, registered by dma-buf id for the
 * display), and the frame renderer its sync strategy drives through a
 * small renderer port:
 *
 *   addBuffer(index, buf, w, h)   a swapchain buffer exists (buf: its
 *                                 dma-buf id, fstat's st_ino)
 *   frameSubmitted(fence, index)  the frame's vgpu job was submitted with
 *                                 this seqno and writes buffer `index`
 *   runJob(fence, durationNs)     the job is running on the client's own
 *                                 engine (JOB_WAIT returned it): draw it,
 *                                 resolve 0 / errno once the GPU is done
 *
 * Extra GPU load is real: more render passes per frame and a fragment
 * loop. A naive client draws its frame in slices spread over the job's
 * modelled duration (see pattern-renderer.ts).
 */
import { BUFFER_TEXTURE_USAGE, type BufferTextures } from './buffer-textures';
import { submittedWorkDone, type PageGpu } from './gpu-device';
import { PatternRenderer, type Rgb } from './pattern-renderer';
import type { ClientMode } from './url-state';

/** The port a client's sync strategy drives (minimal; the client library's port replaces it). */
export interface RendererPort {
  addBuffer(index: number, buf: number, width: number, height: number): void;
  removeBuffer(index: number): void;
  frameSubmitted(fence: number, index: number): void;
  runJob(fence: number, durationNs: bigint): Promise<number>;
}

export interface WebGpuClientOptions {
  readonly name: string;
  readonly mode: ClientMode;
  readonly colour: Rgb;
  /** Extra render passes per frame (0..8). */
  readonly load: number;
  /** Naive clients: bands per frame, each its own submit. Default 4 for naive, else 1. */
  readonly slices?: number;
}

interface GpuBuffer {
  readonly buf: number;
  readonly texture: GPUTexture;
  readonly width: number;
  readonly height: number;
}

/** The pipeline is per device; every client of the page shares it. */
const renderers = new WeakMap<GPUDevice, PatternRenderer>();
function rendererFor(device: GPUDevice): PatternRenderer {
  let r = renderers.get(device);
  if (!r) {
    r = new PatternRenderer(device);
    renderers.set(device, r);
  }
  return r;
}

export class WebGpuClient implements RendererPort {
  readonly options: WebGpuClientOptions;
  readonly stats = { frames: 0, gpuErrors: 0, lastSubmitToDoneMs: NaN };
  private readonly gpu: PageGpu;
  private readonly textures: BufferTextures;
  private readonly renderer: PatternRenderer;
  private readonly buffers = new Map<number, GpuBuffer>();
  /** seqno of a submitted job → the buffer index it writes (a client knows its own jobs). */
  private readonly jobs = new Map<number, number>();
  private frame = 0;

  constructor(gpu: PageGpu, textures: BufferTextures, options: WebGpuClientOptions) {
    this.gpu = gpu;
    this.textures = textures;
    this.options = options;
    this.renderer = rendererFor(gpu.device);
  }

  get slices(): number {
    return this.options.slices ?? (this.options.mode === 'naive' ? 4 : 1);
  }

  addBuffer(index: number, buf: number, width: number, height: number): void {
    const texture = this.gpu.device.createTexture({
      label: `${this.options.name} buffer ${index} (dma-buf ${buf})`,
      size: { width, height },
      // rgba8unorm: SwiftShader's preferred format; the display samples it as is.
      format: 'rgba8unorm',
      usage: BUFFER_TEXTURE_USAGE,
    });
    const b: GpuBuffer = { buf, texture, width, height };
    this.buffers.set(index, b);
    this.textures.register({ buf, texture, width, height, owner: `${this.options.name} (${this.options.mode})` });
  }

  removeBuffer(index: number): void {
    const b = this.buffers.get(index);
    if (!b) return;
    this.buffers.delete(index);
    this.textures.unregister(b.buf);
  }

  /** Every buffer goes (the client closes); textures are left to GC, see BufferTextures. */
  dispose(): void {
    for (const index of [...this.buffers.keys()]) this.removeBuffer(index);
    this.jobs.clear();
  }

  frameSubmitted(fence: number, index: number): void {
    this.jobs.set(fence, index);
  }

  async runJob(fence: number, durationNs: bigint): Promise<number> {
    const index = this.jobs.get(fence);
    this.jobs.delete(fence);
    if (index === undefined) return 0; // not a frame of ours: nothing to draw
    return this.drawFrame(index, Number(durationNs) / 1e6);
  }

  /**
   * Draw the next frame into buffer `index` and wait for the GPU. Also the
   * path of a client whose job runs on the simulated engine (no external
   * ring): it draws when the job starts.
   */
  async drawFrame(index: number, spreadMs: number): Promise<number> {
    const b = this.buffers.get(index);
    if (!b) return 0;
    this.frame++;
    const params = { frame: this.frame, colour: this.options.colour, passes: 1 + this.options.load, fragmentLoad: this.options.load * 32 };
    const t0 = performance.now();
    if (this.slices > 1) await this.renderer.submitSliced(b, params, this.slices, spreadMs);
    else this.renderer.submitFrame(b, params);
    const error = await submittedWorkDone(this.gpu);
    this.stats.lastSubmitToDoneMs = performance.now() - t0;
    this.stats.frames++;
    if (error !== 0) this.stats.gpuErrors++;
    return error;
  }

  /** The buffer index backed by dma-buf `buf`, if it is one of ours. */
  indexOf(buf: number): number | undefined {
    for (const [i, b] of this.buffers) if (b.buf === buf) return i;
    return undefined;
  }
}

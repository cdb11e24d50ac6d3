/**
 * The page's one GPUDevice. Every client texture and the display's
 * composition live on it, because WebGPU textures cannot cross devices;
 * pixi is handed this device so it never makes (or silently remakes) one
 * of its own. No adapter means no WebGPU: the caller says so in plain
 * words and lets the clients run on the simulated engine.
 */

export interface GpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software or fallback adapter (SwiftShader here is one, and is real WebGPU). */
  readonly isFallbackAdapter: boolean;
}

export interface PageGpu {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly info: GpuAdapterInfo;
  /** Set once the device is lost; every job completed after that reports an error. */
  lost: GPUDeviceLostInfo | null;
  readonly timestampQuery: boolean;
}

export type GpuResult = { ok: true; gpu: PageGpu } | { ok: false; reason: string };

/** Request the adapter and device; never throws. */
export async function openGpu(): Promise<GpuResult> {
  if (!('gpu' in navigator) || navigator.gpu === undefined) {
    return { ok: false, reason: 'This browser has no WebGPU (navigator.gpu is missing).' };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, reason: `requestAdapter failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (adapter === null) return { ok: false, reason: 'WebGPU is present but gave no adapter (disabled, or blocklisted for this GPU).' };
  const timestampQuery = adapter.features.has('timestamp-query');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: timestampQuery ? ['timestamp-query'] : [] });
  } catch (err) {
    return { ok: false, reason: `requestDevice failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const i = adapter.info;
  const info: GpuAdapterInfo = {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    isFallbackAdapter: (i as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
  };
  const gpu: PageGpu = { adapter, device, info, lost: null, timestampQuery };
  void device.lost.then((l) => {
    gpu.lost = l;
  });
  return { ok: true, gpu };
}

/** One line for the status bar: "google swiftshader (fallback adapter)". */
export function describeAdapter(info: GpuAdapterInfo): string {
  const name = [info.vendor, info.architecture, info.description].filter((s) => s !== '').join(' ');
  return `${name || 'unknown adapter'}${info.isFallbackAdapter ? ' (software/fallback adapter)' : ''}`;
}

/**
 * Wait until every submission so far has finished on the GPU: the fence
 * of a job. onSubmittedWorkDone() resolves on a lost device too, so the
 * device's state is checked after: 0, or a positive errno (EIO) for work
 * that never ran.
 */
export async function submittedWorkDone(gpu: PageGpu): Promise<number> {
  try {
    await gpu.device.queue.onSubmittedWorkDone();
  } catch {
    return EIO;
  }
  return gpu.lost === null ? 0 : EIO;
}

export const EIO = 5;

/**
 * GPUTextureUsage / GPUBufferUsage flag values (WebGPU spec §6.1, §5.1):
 * TypeScript's DOM library has the interfaces but not these namespaces.
 */
export const TextureUsage = { COPY_SRC: 0x01, COPY_DST: 0x02, TEXTURE_BINDING: 0x04, STORAGE_BINDING: 0x08, RENDER_ATTACHMENT: 0x10 } as const;
export const BufferUsage = { MAP_READ: 0x0001, MAP_WRITE: 0x0002, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040 } as const;

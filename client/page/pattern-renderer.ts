/**
 * What an in-page WebGPU client draws into its buffer's GPUTexture: a
 * pattern a test can recognise on a screenshot. The whole buffer is the
 * client's colour; a darker vertical bar moves 1/16 of the width per frame
 * (frame n: bar n mod 16), so consecutive frames differ and a torn frame —
 * the top slices of frame n over the bottom of frame n-1 — shows the bar
 * broken at the slice line.
 *
 * GPU load is real work: `passes` render passes per frame over the same
 * pixels (each one redraws the pattern, with loadOp 'load'), plus a
 * fragment loop of `load` iterations. A naive client draws its frame in
 * `slices` horizontal bands, each its own queue.submit, so a composition
 * submitted between two of them samples a half-drawn buffer; one WebGPU
 * queue runs everything in submission order, so a single-submit frame can
 * never tear.
 */

export const BAR_STEPS = 16;

/** rgb 0..255: the client's colour, which the test checks on the screenshot. */
export type Rgb = readonly [number, number, number];

/** Distinct colours for clients 0, 1, 2, ... (the e2e test knows them). */
export const CLIENT_COLOURS: readonly Rgb[] = [
  [230, 60, 60],
  [60, 180, 75],
  [60, 110, 230],
  [240, 200, 40],
  [170, 70, 200],
  [40, 200, 210],
  [240, 130, 40],
  [200, 200, 200],
];

export function clientColour(index: number): Rgb {
  return CLIENT_COLOURS[index % CLIENT_COLOURS.length]!;
}

const SHADER = /* wgsl */ `
struct Params {
  colour: vec4f,
  // x: bar index 0..15, y: extra fragment iterations, z: width, w: height
  frame: vec4f,
};
@group(0) @binding(0) var<uniform> params: Params;

@vertex fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
  // One triangle covering the target.
  let p = array<vec2f, 3>(vec2f(-1.0, -1.0), vec2f(3.0, -1.0), vec2f(-1.0, 3.0));
  return vec4f(p[i], 0.0, 1.0);
}

@fragment fn fs(@builtin(position) pos: vec4f) -> @location(0) vec4f {
  var c = params.colour.rgb;
  let barW = params.frame.z / 16.0;
  let bar = floor(pos.x / barW);
  if (bar == params.frame.x) { c = c * 0.35; }
  // GPU load: work whose result is kept (so it is not optimised away) but
  // does not change the colour beyond rounding.
  var acc = 0.0;
  let n = i32(params.frame.y);
  for (var k = 0; k < n; k++) { acc = fract(acc * 1.0001 + sin(pos.x * 0.01 + f32(k))); }
  return vec4f(c + vec3f(acc * 0.0), 1.0);
}
`;

export interface FrameTarget {
  readonly texture: GPUTexture;
  readonly width: number;
  readonly height: number;
}

export interface FrameParams {
  /** Frame number (drives the bar position). */
  readonly frame: number;
  readonly colour: Rgb;
  /** Render passes per frame (1 + extra GPU load). */
  readonly passes: number;
  /** Extra fragment iterations per pixel per pass. */
  readonly fragmentLoad: number;
}

export class PatternRenderer {
  private readonly device: GPUDevice;
  private readonly pipelines = new Map<GPUTextureFormat, GPURenderPipeline>();
  private readonly module: GPUShaderModule;

  constructor(device: GPUDevice) {
    this.device = device;
    this.module = device.createShaderModule({ code: SHADER, label: 'client pattern' });
  }

  private pipeline(format: GPUTextureFormat): GPURenderPipeline {
    let p = this.pipelines.get(format);
    if (!p) {
      p = this.device.createRenderPipeline({
        label: `client pattern ${format}`,
        layout: 'auto',
        vertex: { module: this.module, entryPoint: 'vs' },
        fragment: { module: this.module, entryPoint: 'fs', targets: [{ format }] },
        primitive: { topology: 'triangle-list' },
      });
      this.pipelines.set(format, p);
    }
    return p;
  }

  /**
   * Encode band `slice` of `slices` (rows [slice*h/slices, (slice+1)*h/slices))
   * of a frame, `passes` times. One command buffer; the caller submits it.
   */
  encode(target: FrameTarget, params: FrameParams, slice = 0, slices = 1): GPUCommandBuffer {
    const d = this.device;
    const pipeline = this.pipeline(target.texture.format);
    const uniform = d.createBuffer({ size: 32, usage: 0x0040 | 0x0008 /* UNIFORM | COPY_DST */ });
    const [r, g, b] = params.colour;
    d.queue.writeBuffer(
      uniform,
      0,
      new Float32Array([r / 255, g / 255, b / 255, 1, params.frame % BAR_STEPS, params.fragmentLoad, target.width, target.height]),
    );
    const bind = d.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uniform } }] });
    const y0 = Math.floor((slice * target.height) / slices);
    const y1 = Math.floor(((slice + 1) * target.height) / slices);
    const enc = d.createCommandEncoder({ label: `frame ${params.frame} slice ${slice}/${slices}` });
    const view = target.texture.createView();
    for (let p = 0; p < Math.max(1, params.passes); p++) {
      const pass = enc.beginRenderPass({ colorAttachments: [{ view, loadOp: 'load', storeOp: 'store' }] });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.setScissorRect(0, y0, target.width, Math.max(0, y1 - y0));
      pass.draw(3);
      pass.end();
    }
    return enc.finish();
  }

  /** The whole frame in one submit: it can never be sampled half-drawn. */
  submitFrame(target: FrameTarget, params: FrameParams): void {
    this.device.queue.submit([this.encode(target, params)]);
  }

  /**
   * The naive client's frame: `slices` submits spread over `spreadMs`
   * (the job's duration), so compositions between them see a torn buffer.
   */
  async submitSliced(target: FrameTarget, params: FrameParams, slices: number, spreadMs: number): Promise<void> {
    for (let s = 0; s < slices; s++) {
      if (s > 0) await new Promise<void>((r) => setTimeout(r, spreadMs / slices));
      this.device.queue.submit([this.encode(target, params, s, slices)]);
    }
  }
}

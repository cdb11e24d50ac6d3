/**
 * The desktop drawn with pixi.js v8 on the page's own GPUDevice: one
 * window per buffer a composition job reads, in the job's stacking order,
 * each with a title bar (title, sync mode), live fps, and an orange
 * "waiting on fence" mark while its newest update is held back by a fence
 * (so the previous frame visibly stays on screen).
 *
 * Client content is the client's own GPUTexture, shown through pixi's
 * ExternalSource (no copy, no upload): one pixi Texture per buffer, cached,
 * so a buffer swap is a `sprite.texture` change with a cached bind group.
 * A buffer with no texture in this page (a headless client in Node) is a
 * labelled placeholder in a colour derived from its id.
 *
 * compose() records and submits exactly one pixi render; the caller
 * awaits onSubmittedWorkDone() for the job's fence.
 */
import { Application, Container, ExternalSource, Graphics, Sprite, Text, Texture } from 'pixi.js';
import type { PageGpu } from './gpu-device';
import type { BufferTextures } from './buffer-textures';
import { isWaitingOnFence, type DesktopModel } from './desktop-model';
import { fps } from './frame-timing';
import { layoutWindows, TITLE_H, type Size } from './desktop-layout';

export const DESKTOP_WIDTH = 960;
export const DESKTOP_HEIGHT = 540;
const PLACEHOLDER_W = 160;
const PLACEHOLDER_H = 120;
/** Labels change at most this often: text is re-rasterised on each change. */
const LABEL_REFRESH_MS = 500;

interface WindowView {
  readonly root: Container;
  readonly frame: Graphics;
  readonly title: Text;
  readonly status: Text;
  readonly mark: Container;
  readonly sprite: Sprite;
  readonly placeholder: Graphics;
  readonly placeholderLabel: Text;
  labelAt: number;
  lastStatus: string;
}

export interface ComposedWindow {
  readonly buf: number;
  readonly key: string;
  readonly title: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly hasTexture: boolean;
  readonly waitingOnFence: boolean;
}

function colourOf(buf: number): number {
  // A stable, well-spread hue per buffer id (golden-ratio steps).
  const h = ((buf * 0.618033988749895) % 1) * 6;
  const f = h - Math.floor(h);
  const v = 0.55;
  const p = 0.15;
  const q = v - (v - p) * f;
  const t = p + (v - p) * f;
  const rgb = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][Math.floor(h) % 6]!;
  return (Math.round(rgb[0]! * 255) << 16) | (Math.round(rgb[1]! * 255) << 8) | Math.round(rgb[2]! * 255);
}

export class DesktopScene {
  readonly app: Application;
  readonly canvas: HTMLCanvasElement;
  private readonly windows = new Map<string, WindowView>();
  private readonly pixiTextures = new Map<number, { gpu: GPUTexture; texture: Texture }>();
  private readonly windowLayer = new Container();
  /** What the last compose() drew, for tests and the status line. */
  lastComposed: ComposedWindow[] = [];

  private constructor(app: Application) {
    this.app = app;
    this.canvas = app.canvas;
    app.stage.addChild(this.windowLayer);
  }

  static async create(gpu: PageGpu, width = DESKTOP_WIDTH, height = DESKTOP_HEIGHT): Promise<DesktopScene> {
    const app = new Application();
    await app.init({
      preference: 'webgpu',
      // Our device: pixi must neither make its own nor replace it on loss
      // (every client texture lives on this one).
      gpu: { adapter: gpu.adapter, device: gpu.device },
      width,
      height,
      background: '#20303c',
      antialias: false,
      autoStart: false,
      sharedTicker: false,
      // The canvas in the device's preferred format (rgba8unorm on
      // SwiftShader): pixi's default bgra8unorm costs a copy per frame.
      // pixi passes it to its CanvasSource; its option types omit it.
      ...({ format: navigator.gpu.getPreferredCanvasFormat() } as object),
    });
    if (app.renderer.name !== 'webgpu') throw new Error(`pixi chose the ${app.renderer.name} renderer, not WebGPU`);
    return new DesktopScene(app);
  }

  /** A pixi Texture over a client's GPUTexture, made once per buffer. */
  private textureFor(buf: number, textures: BufferTextures): Texture | undefined {
    const bt = textures.get(buf);
    if (!bt) {
      this.pixiTextures.delete(buf);
      return undefined;
    }
    const cached = this.pixiTextures.get(buf);
    if (cached && cached.gpu === bt.texture) return cached.texture;
    const texture = new Texture({ source: new ExternalSource({ resource: bt.texture, renderer: this.app.renderer, label: `buf ${buf}` }) });
    this.pixiTextures.set(buf, { gpu: bt.texture, texture });
    return texture;
  }

  private view(key: string): WindowView {
    let v = this.windows.get(key);
    if (v) return v;
    const root = new Container();
    const frame = new Graphics();
    const title = new Text({ text: '', style: { fontFamily: 'sans-serif', fontSize: 13, fill: 0xffffff } });
    const status = new Text({ text: '', style: { fontFamily: 'monospace', fontSize: 12, fill: 0xb8d4e8 } });
    const sprite = new Sprite();
    const placeholder = new Graphics();
    const placeholderLabel = new Text({ text: '', style: { fontFamily: 'sans-serif', fontSize: 11, fill: 0xffffff, wordWrap: true, wordWrapWidth: PLACEHOLDER_W - 12 } });
    const mark = new Container();
    const markBg = new Graphics().roundRect(0, 0, 128, 18, 4).fill(0xf08c00);
    const markText = new Text({ text: 'waiting on fence', style: { fontFamily: 'sans-serif', fontSize: 12, fill: 0x000000, fontWeight: 'bold' } });
    markText.position.set(6, 1);
    mark.addChild(markBg, markText);
    root.addChild(frame, title, status, sprite, placeholder, placeholderLabel, mark);
    v = { root, frame, title, status, mark, sprite, placeholder, placeholderLabel, labelAt: -Infinity, lastStatus: '' };
    this.windows.set(key, v);
    this.windowLayer.addChild(root);
    return v;
  }

  /**
   * Lay out and draw the buffers of one composition job (stacking order,
   * bottom first), then submit one render. Returns what was drawn.
   */
  compose(buffers: readonly number[], model: DesktopModel, textures: BufferTextures, nowMs: number): ComposedWindow[] {
    const seen = new Set<string>();
    const out: ComposedWindow[] = [];
    // One window per surface: its newest buffer wins.
    const entries: { buf: number; key: string; size: Size }[] = [];
    for (const buf of buffers) {
      const key = model.byBuf.get(buf)?.key ?? `buf:${buf}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const bt = textures.get(buf);
      entries.push({ buf, key, size: { width: bt?.width ?? PLACEHOLDER_W, height: bt?.height ?? PLACEHOLDER_H } });
    }
    const places = layoutWindows(
      entries.map((e) => e.size),
      { width: this.app.renderer.width, height: this.app.renderer.height },
    );
    entries.forEach(({ buf, key }, i) => {
      const { x, y, width: w, height: h } = places[i]!;
      const win = model.byBuf.get(buf);
      const bt = textures.get(buf);
      const texture = this.textureFor(buf, textures);
      const client = win ? model.clients.get(win.client) : undefined;
      const title = client?.title || bt?.owner || client?.name || `buffer ${buf}`;
      const waiting = win !== undefined && isWaitingOnFence(win);
      const v = this.view(key);
      v.root.visible = true;
      v.root.position.set(x, y);
      v.frame.clear().rect(-2, -TITLE_H, w + 4, h + TITLE_H + 2).fill(waiting ? 0x6b4a10 : 0x3a4b58);
      if (v.title.text !== title) v.title.text = title;
      v.title.position.set(4, -TITLE_H + 3);
      if (nowMs - v.labelAt >= LABEL_REFRESH_MS) {
        v.labelAt = nowMs;
        const f = win ? fps(win.timing.frames, model.nowMs) : NaN;
        v.lastStatus = Number.isFinite(f) ? `${f.toFixed(0)} fps` : '';
      }
      if (v.status.text !== v.lastStatus) v.status.text = v.lastStatus;
      v.status.position.set(Math.max(4, w - v.status.width - 4), -TITLE_H + 4);
      if (texture) {
        v.sprite.texture = texture;
        v.sprite.visible = true;
        v.sprite.width = w;
        v.sprite.height = h;
        v.placeholder.visible = false;
        v.placeholderLabel.visible = false;
      } else {
        v.sprite.visible = false;
        v.placeholder.visible = true;
        v.placeholder.clear().rect(0, 0, w, h).fill(colourOf(buf));
        v.placeholderLabel.visible = true;
        const label = `dma-buf ${buf}\n(no GPU texture in this page)`;
        if (v.placeholderLabel.text !== label) v.placeholderLabel.text = label;
        v.placeholderLabel.position.set(6, 6);
      }
      v.mark.visible = waiting;
      v.mark.position.set(4, h - 22);
      out.push({ buf, key, title, x, y, width: w, height: h, hasTexture: texture !== undefined, waitingOnFence: waiting });
    });
    for (const [key, v] of this.windows) {
      if (seen.has(key)) continue;
      v.root.destroy({ children: true });
      this.windows.delete(key);
    }
    for (const buf of [...this.pixiTextures.keys()]) if (!textures.get(buf)) this.pixiTextures.delete(buf);
    this.app.renderer.render(this.app.stage);
    this.lastComposed = out;
    return out;
  }
}

/**
 * Frame timing on screen, drawn with uPlot on software 2D canvases:
 *
 * - the compositor: composition GPU time (the display's submit →
 *   onSubmittedWorkDone), repaint (latch → flip), missed vblanks, the
 *   output's refresh and slow-motion factor;
 * - per window: fps, a frame-time graph over the last seconds, the
 *   commit→present latency as histograms in ms and in vblanks, and the
 *   presented / discarded / missed counts.
 *
 * With the WebGPU flags Chromium's accelerated Canvas2D goes through
 * SwiftShader and is very slow; a context created with willReadFrequently
 * is a software one. uPlot makes its own canvases, so the first
 * getContext('2d') of every canvas asks for that (set once, below).
 * Updated from a timer, never rAF: a hidden tab stops rAF.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { histogram, ringValues, samplesSince, summary, type SampleRing } from './frame-timing';
import { isWaitingOnFence, type DesktopModel } from './desktop-model';
import { fps } from './frame-timing';

let softwareCanvas = false;
/** Every later 2D context is a software one (see the overview). */
export function preferSoftware2d(): void {
  if (softwareCanvas) return;
  softwareCanvas = true;
  const proto = HTMLCanvasElement.prototype;
  const original = proto.getContext as (this: HTMLCanvasElement, id: string, options?: unknown) => RenderingContext | null;
  const patched = function (this: HTMLCanvasElement, id: string, options?: unknown): RenderingContext | null {
    if (id === '2d') return original.call(this, id, { willReadFrequently: true, ...(typeof options === 'object' && options !== null ? options : {}) });
    return original.call(this, id, options);
  };
  proto.getContext = patched as typeof proto.getContext;
}

const SECONDS = 10;
const LINE = { width: 1.5 };
/** Axes readable on the page's dark background. */
const AXIS = { stroke: '#c8d4dc', grid: { stroke: '#2c3a44', width: 1 }, ticks: { stroke: '#2c3a44', width: 1 } };

function lineChart(el: HTMLElement, title: string, series: { label: string; stroke: string }[], width: number): uPlot {
  return new uPlot(
    {
      title,
      width,
      height: 140,
      scales: { x: { time: false } },
      axes: [{ ...AXIS, label: 's ago', size: 30 }, { ...AXIS, label: 'ms', size: 44 }],
      series: [{ label: 's ago' }, ...series.map((s) => ({ ...s, ...LINE, spanGaps: true, points: { show: false } }))],
      legend: { show: true },
      cursor: { show: false },
    },
    [[], ...series.map(() => [])],
    el,
  );
}

function barChart(el: HTMLElement, title: string, xLabel: string, width: number, stroke: string): uPlot {
  const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
  return new uPlot(
    {
      title,
      width,
      height: 120,
      scales: { x: { time: false } },
      axes: [{ ...AXIS, label: xLabel, size: 30 }, { ...AXIS, label: 'frames', size: 40 }],
      series: [{ label: xLabel }, { label: 'frames', stroke, fill: `${stroke}88`, ...(bars ? { paths: bars } : {}), points: { show: false } }],
      legend: { show: false },
      cursor: { show: false },
    },
    [[], []],
    el,
  );
}

/** (times ms, values) → x in seconds before `nowMs`. */
function ago(ring: SampleRing, nowMs: number): [number[], (number | null)[]] {
  const [ts, vs] = samplesSince(ring, nowMs - SECONDS * 1000);
  // uPlot draws null as a gap; NaN would spoil the scale.
  return [ts.map((t) => (t - nowMs) / 1000), vs.map((v) => (Number.isFinite(v) ? v : null))];
}

interface WindowCard {
  readonly root: HTMLElement;
  readonly summary: HTMLElement;
  readonly frames: uPlot;
  readonly latencyMs: uPlot;
  readonly latencyVblanks: uPlot;
}

export interface CompositorFigures {
  /** Page-measured composition time: submit → onSubmittedWorkDone (page clock, ms). */
  readonly compositionMs: SampleRing;
  readonly pageNowMs: number;
  readonly refreshHz: number | undefined;
  readonly slowMotion: number | undefined;
}

/** How many windows get charts (the rest: counts only). */
export const MAX_CHARTED_WINDOWS = 8;

export class TimingPanel {
  private readonly root: HTMLElement;
  private readonly compositorSummary: HTMLElement;
  private readonly compositorChart: uPlot;
  private readonly cards = new Map<string, WindowCard>();
  private readonly windowsEl: HTMLElement;

  constructor(root: HTMLElement) {
    preferSoftware2d();
    this.root = root;
    const comp = document.createElement('section');
    comp.className = 'timing-card';
    const h = document.createElement('h3');
    h.textContent = 'Compositor';
    this.compositorSummary = document.createElement('p');
    this.compositorSummary.className = 'figures';
    const chartEl = document.createElement('div');
    comp.append(h, this.compositorSummary, chartEl);
    this.windowsEl = document.createElement('div');
    this.windowsEl.className = 'timing-windows';
    root.append(comp, this.windowsEl);
    this.compositorChart = lineChart(chartEl, 'composition GPU time and repaint (latch → flip)', [
      { label: 'composition (submit → done)', stroke: '#e8590c' },
      { label: 'repaint (latch → flip)', stroke: '#1c7ed6' },
    ], 420);
  }

  update(model: DesktopModel, comp: CompositorFigures): void {
    const c = summary(comp.compositionMs);
    const r = summary(model.compositor.repaintMs);
    const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
    this.compositorSummary.textContent =
      `composition GPU p50 ${f(c.p50)} ms, p95 ${f(c.p95)} ms · repaint p50 ${f(r.p50)} ms · ` +
      `flips ${model.compositor.flips} · missed vblanks ${model.compositor.missed} · ` +
      `refresh ${comp.refreshHz ?? '?'} Hz · slow motion ×${comp.slowMotion ?? '?'} · period ${f(model.periodMs)} ms`;
    // The two series have different clocks (page, server): each is put on
    // "seconds ago" of its own clock, then joined on one x axis.
    const [cx, cy] = ago(comp.compositionMs, comp.pageNowMs);
    const [rx, ry] = ago(model.compositor.repaintMs, model.nowMs);
    const xs = [...cx, ...rx].map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
    const xData = xs.map((p) => p.x);
    const s1 = xs.map((p) => (p.i < cx.length ? (cy[p.i] ?? null) : null));
    const s2 = xs.map((p) => (p.i >= cx.length ? (ry[p.i - cx.length] ?? null) : null));
    this.compositorChart.setData([xData, s1, s2]);

    const shown = new Set<string>();
    for (const w of [...model.windows.values()].slice(0, MAX_CHARTED_WINDOWS)) {
      shown.add(w.key);
      const card = this.card(w.key);
      const client = model.clients.get(w.client);
      const lat = summary(w.timing.latencyMs);
      card.summary.textContent =
        `${client?.title || client?.name || w.key}: ${fps(w.timing.frames, model.nowMs).toFixed(0)} fps · ` +
        `presented ${w.timing.presented} · discarded ${w.timing.discarded} · missed ${w.timing.missed} · ` +
        `latency p50 ${f(lat.p50)} ms, p95 ${f(lat.p95)} ms${isWaitingOnFence(w) ? ' · waiting on fence' : ''}`;
      const [fx, fy] = ago(w.timing.frames, model.nowMs);
      card.frames.setData([fx, fy]);
      const period = model.periodMs > 0 ? model.periodMs : 16.7;
      const hm = histogram(ringValues(w.timing.latencyMs).filter(Number.isFinite), Math.max(1, Math.round(period / 4)), 16);
      card.latencyMs.setData([hm.edges, hm.counts]);
      const hv = histogram(ringValues(w.timing.latencyVblanks), 1, 6);
      card.latencyVblanks.setData([hv.edges, hv.counts]);
    }
    for (const [key, card] of this.cards) {
      if (shown.has(key)) continue;
      card.frames.destroy();
      card.latencyMs.destroy();
      card.latencyVblanks.destroy();
      card.root.remove();
      this.cards.delete(key);
    }
  }

  private card(key: string): WindowCard {
    let card = this.cards.get(key);
    if (card) return card;
    const root = document.createElement('section');
    root.className = 'timing-card';
    const sum = document.createElement('p');
    sum.className = 'figures';
    const a = document.createElement('div');
    const b = document.createElement('div');
    const c = document.createElement('div');
    b.className = c.className = 'inline-chart';
    root.append(sum, a, b, c);
    this.windowsEl.append(root);
    card = {
      root,
      summary: sum,
      frames: lineChart(a, 'frame time', [{ label: 'ms between presentations', stroke: '#2f9e44' }], 420),
      latencyMs: barChart(b, 'commit → present (ms)', 'ms', 205, '#7048e8'),
      latencyVblanks: barChart(c, 'commit → present (vblanks)', 'vblanks', 205, '#c2255c'),
    };
    this.cards.set(key, card);
    return card;
  }

  destroy(): void {
    this.compositorChart.destroy();
    for (const c of this.cards.values()) {
      c.frames.destroy();
      c.latencyMs.destroy();
      c.latencyVblanks.destroy();
    }
    this.root.replaceChildren();
  }
}

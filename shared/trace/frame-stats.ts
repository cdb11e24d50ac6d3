/**
 * Per-client frame figures computed from trace events: what the headless
 * demo prints and the page's frame timing shows. Incremental: feed events
 * one by one (recordFrameEvent, in trace order), read the figures at any
 * time (clientFrameFigures, frameFigures); memory stays bounded however
 * long it runs (a ring of latency samples per client, a window of present
 * times, a cap on remembered disconnected clients). Pure: no Node or DOM.
 *
 * Where each figure comes from:
 *
 *   committed   protocol events: wl_surface.commit requests of the client
 *   presented   surface.presentation, result 'presented'
 *   discarded   surface.presentation, result 'discarded'
 *   missed      output.missed naming one of the client's surfaces (once per surface)
 *   fps         presented frames in the last `fpsWindowNs` of trace time
 *   latency     surface.presentation's `latency` (commit → flip), in ms and in
 *               vblanks (ceil(latency / refresh)): p50 and p99 by nearest rank
 *               over the last `samples` presented frames
 */
import type { TraceEvent } from './events';

export interface FrameStatsOptions {
  /** Latency samples kept per client (a ring). Default 4096. */
  samples?: number;
  /** The window `fps` counts presented frames over, in ns of trace time. Default 1 s. */
  fpsWindowNs?: bigint;
  /** Disconnected clients remembered, the oldest forgotten first. Default 64. */
  keepGone?: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

export interface ClientFrameFigures {
  /** The compositor's id of the connection (the trace's `client`). */
  readonly client: number;
  /** The client's process name (client.connect), '' if its connect was not seen. */
  readonly name: string;
  readonly pid: number | undefined;
  readonly connected: boolean;
  readonly committed: number;
  readonly presented: number;
  readonly discarded: number;
  readonly missed: number;
  /** Presented frames per second over the last window. */
  readonly fps: number;
  /** commit → present, in ms. */
  readonly latencyMs: Percentiles;
  /** commit → present, in vblanks. */
  readonly latencyVblanks: Percentiles;
}

interface ClientRecord {
  readonly client: number;
  name: string;
  pid: number | undefined;
  connected: boolean;
  committed: number;
  presented: number;
  discarded: number;
  missed: number;
  /** Ring of latencies in ns and in vblanks; `samples` entries at most. */
  latencyCount: number;
  readonly latencyNs: number[];
  readonly latencyVblanks: number[];
  /** Present times inside the fps window, oldest first, from `presentHead`. */
  presentTimes: bigint[];
  presentHead: number;
}

export interface FrameStats {
  readonly samples: number;
  readonly fpsWindowNs: bigint;
  readonly keepGone: number;
  readonly clients: Map<number, ClientRecord>;
  /** Disconnected clients, oldest first. */
  readonly gone: number[];
  /** The time of the last event fed: the default `now` for reading. */
  lastT: bigint;
}

export function createFrameStats(options: FrameStatsOptions = {}): FrameStats {
  const samples = options.samples ?? 4096;
  if (!(Number.isInteger(samples) && samples > 0)) throw new RangeError('frame-stats: samples must be a positive integer');
  return {
    samples,
    fpsWindowNs: options.fpsWindowNs ?? 1_000_000_000n,
    keepGone: options.keepGone ?? 64,
    clients: new Map(),
    gone: [],
    lastT: 0n,
  };
}

function recordOf(stats: FrameStats, client: number): ClientRecord {
  let r = stats.clients.get(client);
  if (!r) {
    r = {
      client,
      name: '',
      pid: undefined,
      connected: true,
      committed: 0,
      presented: 0,
      discarded: 0,
      missed: 0,
      latencyCount: 0,
      latencyNs: [],
      latencyVblanks: [],
      presentTimes: [],
      presentHead: 0,
    };
    stats.clients.set(client, r);
  }
  return r;
}

/** Drop present times at or before `t - window`; compact the array now and then. */
function trimWindow(stats: FrameStats, r: ClientRecord, now: bigint): void {
  const from = now - stats.fpsWindowNs;
  while (r.presentHead < r.presentTimes.length && r.presentTimes[r.presentHead]! <= from) r.presentHead++;
  if (r.presentHead > 1024 && r.presentHead * 2 > r.presentTimes.length) {
    r.presentTimes = r.presentTimes.slice(r.presentHead);
    r.presentHead = 0;
  }
}

function presented(stats: FrameStats, r: ClientRecord, t: bigint, latency: bigint | undefined, refresh: bigint | undefined): void {
  r.presented++;
  r.presentTimes.push(t);
  trimWindow(stats, r, t);
  if (latency === undefined) return;
  const vblanks = refresh !== undefined && refresh > 0n ? Number((latency + refresh - 1n) / refresh) : 0;
  if (r.latencyNs.length < stats.samples) {
    r.latencyNs.push(Number(latency));
    r.latencyVblanks.push(vblanks);
  } else {
    // A ring: the newest sample replaces the oldest.
    const i = r.latencyCount % stats.samples;
    r.latencyNs[i] = Number(latency);
    r.latencyVblanks[i] = vblanks;
  }
  r.latencyCount++;
}

/** Feed one trace event (others than the ones listed in the module comment are ignored). */
export function recordFrameEvent(stats: FrameStats, ev: TraceEvent): void {
  if (ev.t > stats.lastT) stats.lastT = ev.t;
  switch (ev.type) {
    case 'client.connect': {
      const r = recordOf(stats, ev.client);
      r.name = ev.name ?? r.name;
      r.pid = ev.pid ?? r.pid;
      r.connected = true;
      break;
    }
    case 'client.disconnect': {
      const r = stats.clients.get(ev.client);
      if (!r || !r.connected) break;
      r.connected = false;
      stats.gone.push(ev.client);
      while (stats.gone.length > stats.keepGone) {
        const old = stats.gone.shift()!;
        if (stats.clients.get(old)?.connected === false) stats.clients.delete(old);
      }
      break;
    }
    case 'protocol':
      if (ev.dir === 'request' && ev.iface === 'wl_surface' && ev.message === 'commit') recordOf(stats, ev.client).committed++;
      break;
    case 'surface.presentation': {
      const r = recordOf(stats, ev.client);
      if (ev.result === 'presented') presented(stats, r, ev.t, ev.latency, ev.refresh);
      else r.discarded++;
      break;
    }
    case 'output.missed':
      for (const s of ev.surfaces ?? []) recordOf(stats, s.client).missed++;
      break;
    default:
      break;
  }
}

/** Nearest-rank percentile of unsorted values (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? 0;
}

function figures(stats: FrameStats, r: ClientRecord, now: bigint): ClientFrameFigures {
  trimWindow(stats, r, now);
  const from = now - stats.fpsWindowNs;
  let inWindow = 0;
  for (let i = r.presentHead; i < r.presentTimes.length; i++) if (r.presentTimes[i]! > from && r.presentTimes[i]! <= now) inWindow++;
  return {
    client: r.client,
    name: r.name,
    pid: r.pid,
    connected: r.connected,
    committed: r.committed,
    presented: r.presented,
    discarded: r.discarded,
    missed: r.missed,
    fps: (inWindow * 1e9) / Number(stats.fpsWindowNs),
    latencyMs: { p50: percentile(r.latencyNs, 50) / 1e6, p99: percentile(r.latencyNs, 99) / 1e6 },
    latencyVblanks: { p50: percentile(r.latencyVblanks, 50), p99: percentile(r.latencyVblanks, 99) },
  };
}

/** One client's figures at `now` (default: the last event's time), or undefined if never seen or forgotten. */
export function clientFrameFigures(stats: FrameStats, client: number, now: bigint = stats.lastT): ClientFrameFigures | undefined {
  const r = stats.clients.get(client);
  return r ? figures(stats, r, now) : undefined;
}

/** Every remembered client's figures, in order of first appearance. */
export function frameFigures(stats: FrameStats, now: bigint = stats.lastT): ClientFrameFigures[] {
  return [...stats.clients.values()].map((r) => figures(stats, r, now));
}

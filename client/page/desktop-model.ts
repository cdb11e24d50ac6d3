/**
 * What the desktop knows about its windows, built from the compositor's
 * trace stream (/trace): which client a window belongs to and its title,
 * which kernel dma-buf ids (the `buf` of composition jobs) it shows, whether
 * its newest update is held back by an unsignalled fence, and its frame
 * timing. The display draws from this; it holds no protocol state of its
 * own and works for every client (in this page or headless in Node).
 *
 * Pure: events in, plain data out; time is the events' own `t` (the
 * server's clock), so fps and latencies need no clock in the page.
 */
import type { TraceEvent } from '../../shared/trace/events';
import {
  createCompositorTiming,
  createSurfaceTiming,
  pushSample,
  recordDiscarded,
  recordPresented,
  type CompositorTiming,
  type SurfaceTiming,
} from './frame-timing';

export interface ClientEntry {
  readonly id: number;
  readonly name: string;
  readonly pid: number | undefined;
  /** The client's newest xdg_toplevel title. */
  title: string;
}

export interface WindowEntry {
  /** `${client}/${surface}`: surface ids are per client. */
  readonly key: string;
  readonly client: number;
  readonly surface: number;
  /** dma-buf ids (kernel `buf`) this window has attached. */
  readonly bufs: Set<number>;
  /** Buffers whose update waits on an acquire fence now. */
  readonly waitingBufs: Set<number>;
  readonly timing: SurfaceTiming;
  /** commit seq → commit time (ms), from surface.latch, until presented. */
  readonly commitTimes: Map<number, number>;
}

/** The composition ring the compositor submits on (server/compositor). */
export const COMPOSITOR_RING = 'compositor';

export interface DesktopModel {
  readonly clients: Map<number, ClientEntry>;
  readonly windows: Map<string, WindowEntry>;
  /** dma-buf id → the window that attached it last. */
  readonly byBuf: Map<number, WindowEntry>;
  readonly compositor: CompositorTiming;
  /** The newest event's time (ms, server clock). */
  nowMs: number;
  /** The output's vblank period as seen in the trace (ms); 0 before two vblanks. */
  periodMs: number;
  lastVblank: { seq: number; tMs: number } | undefined;
  /** When the last composition job was queued (the latch), ms. */
  lastComposeQueuedMs: number | undefined;
  /** Composition jobs done, by which engine ran them (from job.done's ring). */
  compositionsDone: number;
}

export function createDesktopModel(): DesktopModel {
  return {
    clients: new Map(),
    windows: new Map(),
    byBuf: new Map(),
    compositor: createCompositorTiming(),
    nowMs: 0,
    periodMs: 0,
    lastVblank: undefined,
    lastComposeQueuedMs: undefined,
    compositionsDone: 0,
  };
}

const ms = (t: bigint): number => Number(t) / 1e6;

function windowFor(m: DesktopModel, client: number, surface: number): WindowEntry {
  const key = `${client}/${surface}`;
  let w = m.windows.get(key);
  if (!w) {
    w = { key, client, surface, bufs: new Set(), waitingBufs: new Set(), timing: createSurfaceTiming(), commitTimes: new Map() };
    m.windows.set(key, w);
  }
  return w;
}

/** A title from a protocol summary: the first argument, a JSON string. */
function titleFrom(args: string): string {
  try {
    const v: unknown = JSON.parse(args);
    return typeof v === 'string' ? v : args;
  } catch {
    return args.replace(/^"|"$/g, '');
  }
}

/** Fold one trace event into the model. */
export function applyTraceEvent(m: DesktopModel, ev: TraceEvent): void {
  m.nowMs = Math.max(m.nowMs, ms(ev.t));
  switch (ev.type) {
    case 'client.connect':
      m.clients.set(ev.client, { id: ev.client, name: ev.name ?? `client ${ev.client}`, pid: ev.pid, title: '' });
      return;
    case 'client.disconnect': {
      m.clients.delete(ev.client);
      for (const [key, w] of m.windows) {
        if (w.client !== ev.client) continue;
        m.windows.delete(key);
        for (const b of w.bufs) if (m.byBuf.get(b) === w) m.byBuf.delete(b);
      }
      return;
    }
    case 'protocol': {
      if (ev.dir === 'request' && ev.iface === 'xdg_toplevel' && (ev.message === 'set_title' || ev.message === 'setTitle')) {
        const c = m.clients.get(ev.client);
        if (c) c.title = titleFrom(ev.args);
      }
      return;
    }
    case 'buffer.state': {
      if (ev.surface === undefined || ev.buf === undefined) return;
      const w = windowFor(m, ev.client, ev.surface);
      w.bufs.add(ev.buf);
      m.byBuf.set(ev.buf, w);
      if (ev.state === 'waiting-on-fence') w.waitingBufs.add(ev.buf);
      else w.waitingBufs.delete(ev.buf);
      return;
    }
    case 'surface.latch': {
      const w = windowFor(m, ev.client, ev.surface);
      w.commitTimes.set(ev.commit, ms(ev.t - ev.latency));
      return;
    }
    case 'surface.presentation': {
      const w = windowFor(m, ev.client, ev.surface);
      if (ev.result === 'discarded') {
        recordDiscarded(w.timing);
        if (ev.commit !== undefined) w.commitTimes.delete(ev.commit);
        return;
      }
      const committed = ev.commit === undefined ? undefined : w.commitTimes.get(ev.commit);
      if (ev.commit !== undefined) w.commitTimes.delete(ev.commit);
      const atMs = ms(ev.t);
      recordPresented(w.timing, atMs, committed === undefined ? NaN : atMs - committed, m.periodMs);
      return;
    }
    case 'output.vblank': {
      const tMs = ms(ev.timestamp);
      if (m.lastVblank && ev.seq > m.lastVblank.seq) m.periodMs = (tMs - m.lastVblank.tMs) / (ev.seq - m.lastVblank.seq);
      m.lastVblank = { seq: ev.seq, tMs };
      if (ev.flip) {
        m.compositor.flips++;
        if (m.lastComposeQueuedMs !== undefined) pushSample(m.compositor.repaintMs, tMs, tMs - m.lastComposeQueuedMs);
      }
      return;
    }
    case 'output.missed':
      m.compositor.missed++;
      return;
    case 'job.queued':
      if (ev.ring === COMPOSITOR_RING) m.lastComposeQueuedMs = ms(ev.t);
      return;
    case 'job.done':
      if (ev.ring === COMPOSITOR_RING) m.compositionsDone++;
      return;
    default:
      return;
  }
}

/** Whether a window's newest update is held back by a fence (the "previous frame stays" rule). */
export function isWaitingOnFence(w: WindowEntry): boolean {
  return w.waitingBufs.size > 0;
}

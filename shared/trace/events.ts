/**
 * Trace events: everything an observer can see. A TraceEvent is either a
 * kernel event (shared/kernel/events.ts, emitted by the kernel model) or a
 * compositor event defined here (emitted by server/compositor). Like kernel
 * events they are plain data with a `t` in nanoseconds of the injected clock,
 * so the ring, the WebSocket observers, the Chrome export and the metrics can
 * all read them without knowing where they came from.
 *
 * Ids: `client` is the compositor's id for a connection; `surface` and
 * `buffer` are that client's protocol object ids (wl_surface, wl_buffer), so
 * they are unique only together with `client`; `buf` is the kernel's dma-buf
 * id (the `buf` of dmabuf.* and resv.add events), unique kernel-wide.
 */
import type { KernelEvent } from '../kernel/events';

/**
 * Who may touch a buffer, in the order a frame moves through them:
 * drawn by the client, committed, waiting for its acquire fence, latched for
 * the next composition, scanned out or sampled, waiting for the composition
 * that read it to finish (release point not yet signalled), given back.
 */
export type BufferState =
  | 'client-owned'
  | 'queued'
  | 'waiting-on-fence'
  | 'latched'
  | 'on-screen'
  | 'release-pending'
  | 'released';

export type CompositorEvent =
  /** A client connected; `pid` is its kernel process when it has one. */
  | { type: 'client.connect'; t: bigint; client: number; pid?: number; name?: string }
  | { type: 'client.disconnect'; t: bigint; client: number; reason?: string }
  /**
   * One wire message. `dir` is 'request' (client → compositor) or 'event'
   * (compositor → client); `object` is the object id the message is sent
   * to/from; `args` is a short human summary ("buffer=7 x=0 y=0"), not the
   * wire bytes.
   */
  | {
      type: 'protocol';
      t: bigint;
      client: number;
      dir: 'request' | 'event';
      iface: string;
      object: number;
      message: string;
      args: string;
    }
  /** A buffer changed owner; `surface` is absent before it is first attached. */
  | {
      type: 'buffer.state';
      t: bigint;
      client: number;
      surface?: number;
      buffer: number;
      /** Kernel dma-buf id backing the wl_buffer, when it is one. */
      buf?: number;
      state: BufferState;
    }
  /**
   * A committed buffer became the surface's current content. `commit` is the
   * surface's commit sequence number, `latency` the ns from that commit to
   * this latch, `fence` the acquire fence whose signal allowed it (if any).
   */
  | {
      type: 'surface.latch';
      t: bigint;
      client: number;
      surface: number;
      buffer: number;
      buf?: number;
      commit: number;
      latency: bigint;
      fence?: number;
    }
  /**
   * Vblank on an output: `seq` is the vblank counter, `timestamp` the
   * hardware time of the vblank (what wp_presentation reports), `flip`
   * whether a new frame went on screen at it.
   */
  | { type: 'output.vblank'; t: bigint; output: string; seq: number; timestamp: bigint; flip: boolean }
  /**
   * The frame meant for vblank `seq` was not ready; `reason` says what held
   * it, `surfaces` which surfaces missed the vblank (those in the frame still
   * composing and those waiting behind it), when any did.
   */
  | {
      type: 'output.missed';
      t: bigint;
      output: string;
      seq: number;
      reason: string;
      surfaces?: { client: number; surface: number }[];
    }
  /** wp_presentation_feedback outcome for one commit of a surface. */
  | {
      type: 'surface.presentation';
      t: bigint;
      client: number;
      surface: number;
      result: 'presented' | 'discarded';
      commit?: number;
      output?: string;
      /** Vblank seq it was presented at. */
      seq?: number;
      /** Presented: ns from the commit to the flip. */
      latency?: bigint;
      /** Presented: the output's refresh period in ns (wp_presentation_feedback's refresh). */
      refresh?: bigint;
    }
  /**
   * A bound of docs/reliability.md was reached: `limit` names it (e.g.
   * 'pending-calls', 'connections', 'send-queue'), `client` is whom it
   * stopped (absent for server-wide ones), `max` the configured bound.
   */
  | { type: 'limit.reached'; t: bigint; limit: string; client?: number; max: number };

export type TraceEvent = KernelEvent | CompositorEvent;
export type TraceEventType = TraceEvent['type'];
export type CompositorEventType = CompositorEvent['type'];

/** The part of an event type before its first '.', e.g. 'job' for 'job.start'. */
type Prefix<T extends string> = T extends `${infer P}.${string}` ? P : T;

/**
 * A coarse grouping of events for timeline tracks and the Chrome `cat`
 * field: 'process', 'syscall', 'fence', 'resv', 'dmabuf', 'pages',
 * 'syncobj', 'job', 'hazard', 'client', 'protocol', 'buffer', 'surface',
 * 'output', 'limit'. Derived from the type name so new events get one for free.
 */
export type TraceCategory = Prefix<TraceEventType>;

const categoryCache = new Map<string, string>();

export function category(ev: TraceEvent): TraceCategory {
  const type: string = ev.type;
  let c = categoryCache.get(type);
  if (c === undefined) {
    const dot = type.indexOf('.');
    c = dot < 0 ? type : type.slice(0, dot);
    categoryCache.set(type, c);
  }
  return c as TraceCategory;
}

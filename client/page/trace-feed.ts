/**
 * The compositor's trace stream (GET /trace, a WebSocket of JSON event
 * batches, history first) as decoded TraceEvents. On a dropped connection
 * it reconnects after a second and replays the history from the start, so
 * `onReset` tells the listener to forget what it built (nothing is counted
 * twice).
 */
import { decodeBatch } from '../../shared/trace/encode';
import type { TraceEvent } from '../../shared/trace/events';

export interface TraceFeedOptions {
  readonly origin: string;
  readonly onEvents: (events: TraceEvent[]) => void;
  /** A new connection replays the history: drop state built from the old one. */
  readonly onReset?: () => void;
  readonly onStatus?: (connected: boolean) => void;
}

export interface TraceFeed {
  close(): void;
}

export function openTraceFeed(options: TraceFeedOptions): TraceFeed {
  let closed = false;
  let ws: WebSocket | null = null;
  let first = true;
  const open = (): void => {
    if (closed) return;
    const url = new URL('/trace', options.origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('from', '0');
    if (!first) options.onReset?.();
    first = false;
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => options.onStatus?.(true);
    socket.onmessage = (m: MessageEvent<unknown>) => {
      if (typeof m.data !== 'string') return;
      options.onEvents(decodeBatch(m.data));
    };
    socket.onclose = () => {
      options.onStatus?.(false);
      if (!closed) setTimeout(open, 1000);
    };
  };
  open();
  return {
    close() {
      closed = true;
      ws?.close();
    },
  };
}

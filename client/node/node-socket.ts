/**
 * The Node adapter: a SocketFactory over the ws package, for headless
 * clients (tests, benchmarks, command-line demos). Node-only; the browser
 * uses browserSocket from client/core/socket.ts.
 *
 *   const client = await connect('ws://127.0.0.1:8080/ws', { socket: nodeSocket() });
 */
import WebSocket from 'ws';
import type { SocketFactory } from '../core/socket';

export interface NodeSocketOptions {
  /** Send this Origin header (browsers always do; Node clients need not). */
  origin?: string;
  /** Largest frame accepted from the server. Default: ws's 100 MiB. */
  maxPayload?: number;
}

export function nodeSocket(options: NodeSocketOptions = {}): SocketFactory {
  return (url, handlers) => {
    const ws = new WebSocket(url, {
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
    });
    ws.on('open', () => handlers.open());
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return handlers.error('the server sent a text frame');
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      handlers.frame(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    ws.on('error', (err) => handlers.error(err.message));
    ws.on('close', (code, reason) => handlers.close(code, reason.toString()));
    return {
      send: (frame) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(frame);
      },
      close: (code, reason) => ws.close(code, reason),
    };
  };
}

/**
 * The socket under a client: the core never touches WebSocket APIs
 * directly, so it runs unchanged in the browser and in Node. A
 * SocketFactory opens a connection and reports to the handlers it is given;
 * browserSocket uses the page's WebSocket, client/node/node-socket.ts wraps
 * the ws package.
 */

export interface SocketHandlers {
  open(): void;
  /** One binary frame. */
  frame(bytes: Uint8Array): void;
  /** The connection is closed (code 1006 when it dropped without a close frame). */
  close(code: number, reason: string): void;
  /** A transport error; a close follows. */
  error(message: string): void;
}

export interface ClientSocket {
  send(frame: Uint8Array): void;
  /** Close with a code (1000 or 3000..4999) and a reason, or none. */
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => ClientSocket;

/** The browser's WebSocket (also Node 22+'s global one). */
export const browserSocket: SocketFactory = (url, handlers) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => handlers.open();
  ws.onmessage = (e) => {
    // Read as unknown: the DOM types it `any`, Node's MessageEvent is not generic.
    const data: unknown = e.data;
    if (data instanceof ArrayBuffer) handlers.frame(new Uint8Array(data));
    else handlers.error('the server sent a text frame');
  };
  ws.onerror = () => handlers.error('WebSocket error');
  ws.onclose = (e) => handlers.close(e.code, e.reason);
  return {
    // DOM's send wants an ArrayBuffer-backed view; frames are never shared memory.
    send: (frame) => ws.send(frame as Uint8Array<ArrayBuffer>),
    close: (code, reason) => ws.close(code, reason),
  };
};

/**
 * Helpers for server tests over a real WebSocket on 127.0.0.1 (port 0): a
 * running app, raw sockets that record what they receive, and library
 * clients.
 */
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { buildApp, WS_PATH, type AppOptions } from '../../server/app';
import { Kernel } from '../../shared/kernel/kernel';
import { hostClock } from '../../server/host-clock';
import { createMinimalCompositor } from './minimal-compositor';
import { connect, type HandoffClient } from '../../client/core/connection';
import { nodeSocket } from '../../client/node/node-socket';
import { decodeFrame, readHeader } from '../../shared/protocol/wire';

export interface Running {
  app: FastifyInstance;
  /** http://127.0.0.1:port */
  origin: string;
  /** ws://127.0.0.1:port/ws */
  wsUrl: string;
}

/** A running app; without a compositor, the minimal one (in `options.kernel` or a new Kernel). */
export async function startServer(options: Partial<AppOptions> = {}): Promise<Running> {
  const app = buildApp({ ...options, compositor: options.compositor ?? createMinimalCompositor(options.kernel ?? new Kernel({ clock: hostClock() })) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { app, origin: `http://127.0.0.1:${addr.port}`, wsUrl: `ws://127.0.0.1:${addr.port}${WS_PATH}` };
}

export function connectClient(r: Running, comm?: string): Promise<HandoffClient> {
  return connect(r.wsUrl, { socket: nodeSocket(), ...(comm !== undefined ? { comm } : {}) });
}

/** A raw socket that records binary frames and how it closed. */
export interface RawSocket {
  ws: WebSocket;
  frames: Uint8Array[];
  closed: Promise<{ code: number; reason: string }>;
}

export function openRaw(url: string, origin?: string): Promise<RawSocket> {
  const ws = new WebSocket(url, origin !== undefined ? { origin } : {});
  const frames: Uint8Array[] = [];
  ws.on('message', (data: Buffer) => frames.push(new Uint8Array(data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, frames, closed }));
    ws.on('error', reject);
  });
}

/** wl_display.error in a received Wayland frame, if there is one. */
export function findDisplayError(frames: readonly Uint8Array[]): { objectId: number; code: number; message: string } | undefined {
  for (const bytes of frames) {
    const f = decodeFrame(bytes);
    if (!f.ok || f.frame.channel !== 0) continue;
    const body = f.frame.body;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let at = 0; at + 8 <= body.length; ) {
      const h = readHeader(view, at);
      if (h.size < 8) break;
      if (h.objectId === 1 && h.opcode === 0) {
        const objectId = view.getUint32(at + 8, true);
        const code = view.getUint32(at + 12, true);
        const len = view.getUint32(at + 16, true);
        const message = new TextDecoder().decode(body.subarray(at + 20, at + 20 + len - 1));
        return { objectId, code, message };
      }
      at += h.size;
    }
  }
  return undefined;
}

/** Waits until `check` holds, polling the event loop (real sockets need real I/O turns). */
export async function until(check: () => boolean, what: string, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

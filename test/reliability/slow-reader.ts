/**
 * A client that stops reading: it pauses its TCP socket and keeps asking
 * for events (wl_display.sync: a callback.done and a delete_id each),
 * until the server's send queue passes its bound and the server drops it.
 */
import WebSocket from 'ws';
import type { LiveServer } from './live-server';
import { snapshot, type Snapshot } from './invariants';

export interface SlowReaderOutcome {
  /** Requests sent before the server dropped the client (or the cap). */
  syncs: number;
  /** Close code the server's side gave, when seen. */
  dropped: boolean;
  /** ms from the first request until the server had ended the client's session. */
  msToDrop: number;
  before: Snapshot;
  after: Snapshot;
}

function syncFrame(firstId: number, n: number): Uint8Array {
  const out = new Uint8Array(8 + 12 * n);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0, true); // Wayland channel
  v.setUint32(4, 0, true); // no fds
  for (let i = 0; i < n; i++) {
    const at = 8 + 12 * i;
    v.setUint32(at, 1, true); // wl_display
    v.setUint32(at + 4, (12 << 16) | 0, true); // sync, 12 bytes
    v.setUint32(at + 8, firstId + i, true);
  }
  return out;
}

export async function slowReader(server: LiveServer, maxSyncs = 2_000_000, waitMs = 5000): Promise<SlowReaderOutcome> {
  const before = snapshot(server.kernel);
  const sessionsBefore = server.app.sessions.size;
  const ws = new WebSocket(`${server.wsUrl}?comm=slow`);
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  // Stop reading: the kernel's receive window fills, then the server's send queue.
  const raw = (ws as unknown as { _socket: { pause(): void } })._socket;
  raw.pause();
  const t0 = performance.now();
  let id = 2;
  const perFrame = 20_000;
  while (id - 2 < maxSyncs && server.app.sessions.size > sessionsBefore) {
    ws.send(syncFrame(id, perFrame), { binary: true });
    id += perFrame;
    await new Promise((r) => setImmediate(r));
  }
  const deadline = performance.now() + waitMs;
  while (server.app.sessions.size > sessionsBefore && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const dropped = server.app.sessions.size === sessionsBefore;
  const msToDrop = performance.now() - t0;
  ws.terminate();
  await new Promise((r) => setTimeout(r, 50));
  return { syncs: id - 2, dropped, msToDrop, before, after: snapshot(server.kernel) };
}

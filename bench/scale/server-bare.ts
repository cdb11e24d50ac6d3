/**
 * Child process: the bare `ws` server the handoff server is compared with.
 * It does what any WebSocket server must do to move the same frames (read
 * each client frame, send the frames the client asked for) and nothing
 * else. A replay frame (replay.ts) starts with a small header: byte 0 bit 0
 * marks the last frame of a client-frame, bytes 1..2 (u16 LE) the number k
 * of frames to send back, then k u32 LE sizes.
 *
 *   ops: sample → cpu µs, rss, client-frames seen, connections
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { serveRpc } from './rpc';

export interface BareSample {
  cpuUs: number;
  rss: number;
  cycles: number;
  framesIn: number;
  framesOut: number;
  clients: number;
  atMs: number;
}

/** Zeros to send slices of (the replayed sizes are the real run's, at most a few KiB). */
const POOL = Buffer.alloc(1 << 20);

function main(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1 << 20 });
  let cycles = 0;
  let framesIn = 0;
  let framesOut = 0;
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer) => {
      framesIn++;
      if (data.length < 3) return;
      if ((data[0]! & 1) !== 0) cycles++;
      const k = data.readUInt16LE(1);
      for (let j = 0; j < k && 3 + 4 * j + 4 <= data.length; j++) {
        const size = Math.min(data.readUInt32LE(3 + 4 * j), POOL.length);
        ws.send(POOL.subarray(0, size), { binary: true });
        framesOut++;
      }
    });
  });
  wss.on('listening', () => {
    const { port } = wss.address() as AddressInfo;
    serveRpc(
      {
        sample: (): BareSample => {
          const cpu = process.cpuUsage();
          return {
            cpuUs: cpu.user + cpu.system,
            rss: process.memoryUsage().rss,
            cycles,
            framesIn,
            framesOut,
            clients: wss.clients.size,
            atMs: performance.now(),
          };
        },
      },
      { port },
    );
  });
}

main();

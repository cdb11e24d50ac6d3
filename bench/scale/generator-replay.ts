/**
 * Child process: the bare-ws side of the comparison. Each replay client
 * opens one `ws` socket to server-bare.ts and, at the frame rate the real
 * client reached, sends per client-frame the same number of frames of the
 * same sizes the real client sent (cycling through the recorded sizes),
 * and asks the server to send back the frames the real server sent (count
 * and sizes, also recorded). The header of a replay frame: server-bare.ts.
 *
 *   ops: start {url, count, fps, outPerFrame, inPerFrame, outSizes, inSizes}
 *        sample → client-frames sent, frames received, cpu µs
 */
import WebSocket from 'ws';
import { serveRpc } from './rpc';

export interface ReplayStart {
  url: string;
  count: number;
  /** Client-frames per second per client. */
  fps: number;
  /** Mean WebSocket frames per client-frame, client → server and back. */
  outPerFrame: number;
  inPerFrame: number;
  /** Recorded frame sizes in order (never empty: [64] if nothing was recorded). */
  outSizes: number[];
  inSizes: number[];
}

export interface ReplaySample {
  cycles: number;
  framesIn: number;
  bytesIn: number;
  cpuUs: number;
  atMs: number;
}

let cycles = 0;
let framesIn = 0;
let bytesIn = 0;
const sockets: WebSocket[] = [];
const timers: NodeJS.Timeout[] = [];

/** One replay client: its own cursors into the size lists and fractional frame counts. */
function runClient(s: ReplayStart, ws: WebSocket, phaseMs: number): void {
  let outAcc = 0;
  let inAcc = 0;
  let outAt = 0;
  let inAt = 0;
  const tick = (): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    outAcc += s.outPerFrame;
    inAcc += s.inPerFrame;
    const nOut = Math.max(1, Math.floor(outAcc));
    outAcc -= nOut;
    const nIn = Math.floor(inAcc);
    inAcc -= nIn;
    for (let j = 0; j < nOut; j++) {
      const last = j === nOut - 1;
      const replies = last ? nIn : 0;
      const size = Math.max(s.outSizes[outAt++ % s.outSizes.length]!, 3 + 4 * replies);
      const frame = Buffer.alloc(size);
      frame[0] = last ? 1 : 0;
      frame.writeUInt16LE(replies, 1);
      for (let k = 0; k < replies; k++) frame.writeUInt32LE(s.inSizes[inAt++ % s.inSizes.length]!, 3 + 4 * k);
      ws.send(frame, { binary: true });
    }
    cycles++;
  };
  const periodMs = 1000 / s.fps;
  timers.push(
    setTimeout(() => {
      tick();
      timers.push(setInterval(tick, periodMs));
    }, phaseMs),
  );
}

async function start(s: ReplayStart): Promise<number> {
  const opened: Promise<void>[] = [];
  for (let i = 0; i < s.count; i++) {
    const ws = new WebSocket(s.url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('message', (data: Buffer) => {
      framesIn++;
      bytesIn += data.length;
    });
    opened.push(
      new Promise((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
    );
  }
  await Promise.all(opened);
  // Spread the clients over one period, as real clients drift apart.
  sockets.forEach((ws, i) => runClient(s, ws, ((i % 16) * 1000) / s.fps / 16));
  return sockets.length;
}

serveRpc(
  {
    start: (arg) => start(arg as ReplayStart),
    sample: (): ReplaySample => {
      const cpu = process.cpuUsage();
      return { cycles, framesIn, bytesIn, cpuUs: cpu.user + cpu.system, atMs: performance.now() };
    },
  },
  { pid: process.pid },
);

/**
 * Child process: `/trace` observers, each a WebSocket that only reads the
 * trace stream (JSON batches), as the page's timeline does.
 *
 *   ops: start {url, count}   open them; resolves when all are open
 *        sample → messages and bytes received, observers still open
 */
import WebSocket from 'ws';
import { serveRpc } from './rpc';

export interface ObserverSample {
  messages: number;
  bytes: number;
  open: number;
}

/** The largest seq the server's ?from= accepts (15 digits). */
const LIVE_ONLY = '999999999999999';

const sockets: WebSocket[] = [];
let messages = 0;
let bytes = 0;

async function start(arg: { url: string; count: number }): Promise<number> {
  const opened: Promise<void>[] = [];
  for (let i = 0; i < arg.count; i++) {
    // Live events only (a seq far ahead: no history), so what is measured is the steady stream.
    const ws = new WebSocket(`${arg.url}?from=${LIVE_ONLY}`, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('message', (data: Buffer) => {
      messages++;
      bytes += data.length;
    });
    opened.push(
      new Promise((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
    );
  }
  await Promise.all(opened);
  return sockets.length;
}

serveRpc(
  {
    start: (arg) => start(arg as { url: string; count: number }),
    sample: (): ObserverSample => ({ messages, bytes, open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length }),
  },
  { pid: process.pid },
);

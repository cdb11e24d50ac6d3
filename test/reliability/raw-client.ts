/**
 * A raw client over a plain ws socket: kernel calls written as JSON text
 * (so a test can send what JSON.stringify never writes, such as 1e400),
 * results matched by id, and how the connection ended.
 */
import WebSocket from 'ws';
import { Channel, decodeFrame, readHeader, unwrapFrame, uapi, wrapFrame } from './deps';

export interface RawResult {
  id: number;
  result: number;
  arg?: Record<string, unknown>;
  revents?: number[];
}

export class RawClient {
  readonly ws: WebSocket;
  readonly displayErrors: { code: number; message: string }[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly waiting = new Map<number, (r: RawResult) => void>();
  private nextId = 1;
  readonly results = new Map<number, RawResult>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      const bytes = new Uint8Array(data);
      const env = unwrapFrame(bytes);
      if (!env.ok) return;
      if (env.channel === Channel.kernel) {
        const m = JSON.parse(new TextDecoder().decode(env.payload)) as RawResult & { type: string };
        if (m.type !== 'result') return;
        this.results.set(m.id, m);
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
        return;
      }
      const d = decodeFrame(bytes);
      if (!d.ok) return;
      const body = d.frame.body;
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      for (let at = 0; at + 8 <= body.length; ) {
        const h = readHeader(view, at);
        if (h.size < 8) break;
        if (h.objectId === 1 && h.opcode === 0 && at + 20 <= body.length) {
          const len = view.getUint32(at + 16, true);
          this.displayErrors.push({
            code: view.getUint32(at + 12, true),
            message: new TextDecoder().decode(body.subarray(at + 20, at + 20 + Math.max(0, len - 1))),
          });
        }
        at += h.size;
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static open(url: string, origin?: string): Promise<RawClient> {
    const ws = new WebSocket(url, origin !== undefined ? { origin } : {});
    const c = new RawClient(ws);
    return new Promise((resolve, reject) => {
      ws.on('open', () => resolve(c));
      ws.on('error', reject);
    });
  }

  /** Send one call; `body` is the JSON after `"id":N,` (e.g. `"call":"open","path":"/dev/sw_sync"`). */
  send(body: string): number {
    const id = this.nextId++;
    this.ws.send(wrapFrame(Channel.kernel, new TextEncoder().encode(`{"type":"call","id":${id},${body}}`)), { binary: true });
    return id;
  }

  /** Send and wait for the result (rejects after `ms` without one). */
  call(body: string, ms = 2000): Promise<RawResult> {
    const id = this.send(body);
    return this.result(id, ms);
  }

  result(id: number, ms = 2000): Promise<RawResult> {
    const have = this.results.get(id);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no result for call ${id} in ${ms} ms`));
      }, ms);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  /** A pending fence: a sw_sync timeline and a fence at point 1 on it. */
  async pendingFence(): Promise<{ timeline: number; fence: number }> {
    const tl = await this.call('"call":"open","path":"/dev/sw_sync"');
    const data = await this.call(`"call":"ioctl","fd":${tl.result},"request":${uapi.SW_SYNC_IOC_CREATE_FENCE},"arg":{"value":1,"name":"f","fence":0}`);
    const fence = data.arg?.fence;
    if (typeof fence !== 'number') throw new Error(`SW_SYNC_IOC_CREATE_FENCE: ${data.result}`);
    return { timeline: tl.result, fence };
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/**
 * The wire fuzzer: hostile clients send random, mutated and spliced frames
 * to a live server on 127.0.0.1 while a well-behaved client presents.
 *
 * The corpus is real: headless clients of every sync kind run against the
 * server first through a recording socket, and what they sent (Wayland
 * frames with their fds, kernel-channel calls) becomes the sequences the
 * hostile clients start from. Each hostile connection replays a prefix of
 * one sequence as it was (so objects, fds and timelines exist, and the
 * mutations reach deep handlers), then sends mutated, spliced or random
 * frames, waits briefly for the server's answer, and goes.
 *
 * Pass: no internal error (live-server.ts lists how one shows), the good
 * client keeps presenting, the server's heap back near where it started
 * once the hostile clients are gone, and the kernel holds no more fds or
 * processes than before.
 */
import WebSocket from 'ws';
import { connect, HeadlessClient, nodeSocket, decodeFrame, readHeader, type SocketFactory, type SyncKind, type HandoffClient } from './deps';
import { startLiveServer, type LiveServer } from './live-server';
import { rng, type Rng } from './rng';
import { snapshot } from './invariants';

export interface WireFuzzOptions {
  seed: number;
  /** Hostile frames to send in all (replayed and mutated). */
  frames: number;
  /** Hostile connections open at once. */
  concurrency?: number;
  /** Frames recorded per corpus client. */
  corpusFrames?: number;
  /** Send inputs of findings not fixed yet (poll timeouts of 1e400). */
  knownFindings?: boolean;
  /** Trace ring capacity of the server (small keeps the heap comparison about leaks). */
  traceCapacity?: number;
  /**
   * Run the hostile clients in a worker thread, so their own work does not
   * slow the server's event loop (the good client's fps then measures the
   * server, not the fuzzer). Default false (in-process, simpler to debug).
   */
  inWorker?: boolean;
  /** Measure heap with gc() before and after (needs a gc: see heap.ts). */
  gc?: () => void;
}

export interface WireFuzzResult {
  seed: number;
  frames: number;
  mutated: number;
  connections: number;
  /** Hostile connections the server ended with wl_display.error or a close code. */
  refused: number;
  internalErrors: string[];
  goodPresentedBefore: number;
  goodPresentedDuring: number;
  goodFpsBefore: number;
  goodFpsDuring: number;
  /** committed − presented − discarded of the good client once it stopped. */
  goodFramesLost: number;
  goodError: string | null;
  heapBefore: number;
  heapAfter: number;
  leaked: { fds: number; processes: number; pages: number };
  /** Compositor clients and surfaces left after every client went. */
  leakedObjects: number;
  seconds: number;
}

/** A SocketFactory that keeps a copy of every frame the client sends. */
export function recordingSocket(sent: Uint8Array[]): SocketFactory {
  const inner = nodeSocket();
  return (url, handlers) => {
    const s = inner(url, handlers);
    return {
      send: (frame) => {
        sent.push(frame.slice());
        s.send(frame);
      },
      close: (code, reason) => s.close(code, reason),
    };
  };
}

const KINDS: readonly SyncKind[] = ['explicit', 'explicit-fd', 'implicit', 'bridged', 'naive'];

async function recordCorpus(server: LiveServer, frames: number): Promise<Uint8Array[][]> {
  const corpus: Uint8Array[][] = [];
  for (const kind of KINDS) {
    const sent: Uint8Array[] = [];
    const conn = await connect(server.wsUrl, { socket: recordingSocket(sent), comm: `rec-${kind}` });
    const hc = new HeadlessClient(conn, { kind, name: `rec-${kind}`, renderNs: 2_000_000n, frames });
    await hc.start();
    await Promise.race([hc.finished(), new Promise((r) => setTimeout(r, 3000))]);
    await hc.stop();
    conn.close();
    corpus.push(sent);
  }
  return corpus;
}

const INTERESTING_U32 = [0, 1, 2, 8, 12, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xfeff_ffff, 0xff00_0000, 4096, 4097, 28, 29];

function setU32(b: Uint8Array, at: number, v: number): void {
  if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0, true);
}

function randomBytes(r: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.int(256);
  return out;
}

/** Offsets of message headers in a Wayland frame's body (for message-aware mutations). */
function messageOffsets(frame: Uint8Array): number[] {
  const d = decodeFrame(frame);
  if (!d.ok || d.frame.channel !== 0) return [];
  const bodyStart = frame.length - d.frame.body.length;
  const view = new DataView(d.frame.body.buffer, d.frame.body.byteOffset, d.frame.body.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 8 <= d.frame.body.length; ) {
    const h = readHeader(view, at);
    if (h.size < 8) break;
    out.push(bodyStart + at);
    at += h.size;
  }
  return out;
}

const KERNEL_JUNK = ['-1', '0', '4294967296', '1.5', '"x"', 'null', '[]', '{}', '{"$bigint":"99999999999999999999"}', '-0', '1e300', '[[[[[[[[[[1]]]]]]]]]]'];

function mutateKernel(r: Rng, frame: Uint8Array, knownFindings: boolean): Uint8Array {
  const text = new TextDecoder().decode(frame.subarray(4));
  const junk = knownFindings ? [...KERNEL_JUNK, '1e400'] : KERNEL_JUNK;
  let out: string;
  switch (r.int(4)) {
    case 0: {
      // Replace one number or string value.
      const spots = [...text.matchAll(/:(-?[0-9.]+|"[^"]*")/g)];
      const m = spots.length > 0 ? r.pick(spots) : undefined;
      out = m?.index !== undefined ? `${text.slice(0, m.index + 1)}${r.pick(junk)}${text.slice(m.index + m[0].length)}` : text;
      break;
    }
    case 1: {
      const at = r.int(text.length + 1);
      out = `${text.slice(0, at)}${text.slice(at + 1 + r.int(4))}`;
      break;
    }
    case 2: {
      const at = r.int(text.length + 1);
      out = `${text.slice(0, at)}${r.pick(['{', '}', ',', '"', ':', '\\', '\u0000', ',"extra":1'])}${text.slice(at)}`;
      break;
    }
    default:
      // Same call, another process's idea of the fd (or none).
      out = text.replace(/"fd":[0-9]+/, `"fd":${r.pick(['0', '1', '63', '1023', '1024', '-1'])}`);
  }
  const body = new TextEncoder().encode(out);
  const f = new Uint8Array(4 + body.length);
  f.set(frame.subarray(0, 4));
  f.set(body, 4);
  return f;
}

/** One hostile frame derived from `frame` (and maybe `other`). */
export function mutateFrame(r: Rng, frame: Uint8Array, other: Uint8Array, knownFindings: boolean): Uint8Array {
  const isKernel = frame[0] === 1;
  if (isKernel && r.chance(0.6)) return mutateKernel(r, frame, knownFindings);
  const b = frame.slice();
  switch (r.int(9)) {
    case 0:
      for (let i = 0, n = 1 + r.int(4); i < n && b.length > 0; i++) b[r.int(b.length)]! ^= 1 << r.int(8);
      return b;
    case 1: {
      const aligned = Math.floor(r.int(Math.max(1, b.length)) / 4) * 4;
      setU32(b, aligned, r.pick(INTERESTING_U32));
      return b;
    }
    case 2: {
      // A message-aware change: object id, size/opcode word or first argument.
      const offs = messageOffsets(b);
      if (offs.length === 0) return b.subarray(0, r.int(b.length + 1));
      const at = r.pick(offs);
      const which = r.int(3);
      if (which === 1) setU32(b, at + 4, ((r.pick([0, 8, 12, 4096, 0xfff8, 7, 2]) << 16) | r.int(20)) >>> 0);
      else setU32(b, at + which * 4, r.pick(INTERESTING_U32));
      return b;
    }
    case 3:
      return b.subarray(0, r.int(b.length + 1));
    case 4: {
      const extra = randomBytes(r, 1 + r.int(64));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b);
      out.set(extra, b.length);
      return out;
    }
    case 5: {
      // nfds and the fd numbers the frame claims to carry.
      setU32(b, 4, r.pick([0, 1, 2, 28, 29, 0xffff_ffff]));
      for (let at = 8; at < Math.min(b.length, 24); at += 4) if (r.chance(0.5)) setU32(b, at, r.pick([0, 3, 63, 1023, 0x7fff_ffff]));
      return b;
    }
    case 6: {
      // Splice: the head of this frame, the tail of another.
      const cut = r.int(b.length + 1);
      const from = r.int(other.length + 1);
      const out = new Uint8Array(cut + other.length - from);
      out.set(b.subarray(0, cut));
      out.set(other.subarray(from), cut);
      return out;
    }
    case 7: {
      // A message repeated: same new_id twice, same fd consumed twice.
      const offs = messageOffsets(b);
      const at = offs.length > 0 ? r.pick(offs) : 8;
      const size = at + 8 <= b.length ? new DataView(b.buffer, b.byteOffset).getUint32(at + 4, true) >>> 16 : 0;
      const msg = b.subarray(at, Math.min(b.length, at + size));
      const out = new Uint8Array(b.length + msg.length);
      out.set(b);
      out.set(msg, b.length);
      return out;
    }
    default: {
      const out = randomBytes(r, r.int(128));
      if (out.length >= 4 && r.chance(0.7)) setU32(out, 0, r.int(2));
      return out;
    }
  }
}

export interface HostileOutcome {
  sent: number;
  mutated: number;
  refused: boolean;
}

/** One hostile connection: a replayed prefix, then mutated frames; waits briefly for the answer. */
async function hostile(
  target: { wsUrl: string; noteDisplayError(code: number, message: string): void },
  r: Rng,
  corpus: Uint8Array[][],
  budget: number,
  knownFindings: boolean,
): Promise<HostileOutcome> {
  const seq = r.pick(corpus);
  const ws = new WebSocket(`${target.wsUrl}?comm=hostile`);
  let refused = false;
  const closed = new Promise<void>((resolve) => {
    ws.on('close', (code) => {
      if (code !== 1000 && code !== 1005) refused = true;
      resolve();
    });
    ws.on('error', () => resolve());
  });
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    const bytes = new Uint8Array(data);
    const d = decodeFrame(bytes);
    if (!d.ok || d.frame.channel !== 0) return;
    const body = d.frame.body;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let at = 0; at + 8 <= body.length; ) {
      const h = readHeader(view, at);
      if (h.size < 8) break;
      if (h.objectId === 1 && h.opcode === 0 && at + 20 <= body.length) {
        refused = true;
        const code = view.getUint32(at + 12, true);
        const len = view.getUint32(at + 16, true);
        target.noteDisplayError(code, new TextDecoder().decode(body.subarray(at + 20, at + 20 + Math.max(0, len - 1))));
      }
      at += h.size;
    }
  });
  const opened = await new Promise<boolean>((resolve) => {
    ws.on('open', () => resolve(true));
    ws.on('error', () => resolve(false));
  });
  const out: HostileOutcome = { sent: 0, mutated: 0, refused: false };
  if (!opened) return out;
  const prefix = r.int(Math.min(seq.length, budget) + 1);
  const send = (f: Uint8Array, text = false): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (text) ws.send(new TextDecoder().decode(f));
    else ws.send(f, { binary: true });
    out.sent++;
  };
  for (let i = 0; i < prefix; i++) send(seq[i]!);
  const nmut = Math.max(1, Math.min(budget - prefix, 1 + r.int(6)));
  for (let i = 0; i < nmut; i++) {
    const base = seq[Math.min(seq.length - 1, prefix + i)] ?? randomBytes(r, 16);
    const other = r.pick(r.pick(corpus)) ?? base;
    send(mutateFrame(r, base, other, knownFindings), r.chance(0.01));
    out.mutated++;
    // Sometimes the rest of the sequence after a mutation, as a real client would continue.
    if (r.chance(0.2)) for (let j = prefix + i + 1; j < Math.min(seq.length, prefix + i + 4); j++) send(seq[j]!);
  }
  await Promise.race([closed, new Promise((res) => setTimeout(res, 25 + r.int(50)))]);
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
  await closed;
  out.refused = refused;
  return out;
}

/** What the hostile clients are to do: a corpus, a seed, a frame budget. */
export interface HostileLoad {
  wsUrl: string;
  corpus: Uint8Array[][];
  seed: number;
  frames: number;
  concurrency: number;
  knownFindings: boolean;
}

export interface HostileTotals {
  frames: number;
  mutated: number;
  connections: number;
  refused: number;
}

/** `concurrency` hostile connections at a time until `frames` are sent (or `stop` says so). */
export async function runHostileLoad(
  load: HostileLoad,
  noteDisplayError: (code: number, message: string) => void,
  stop: () => boolean = () => false,
): Promise<HostileTotals> {
  const totals: HostileTotals = { frames: 0, mutated: 0, connections: 0, refused: 0 };
  const target = { wsUrl: load.wsUrl, noteDisplayError };
  const worker = async (w: number): Promise<void> => {
    const wr = rng((load.seed * 7919 + w) >>> 0);
    while (totals.frames < load.frames && !stop()) {
      const o = await hostile(target, wr, load.corpus, Math.min(40, load.frames - totals.frames), load.knownFindings);
      totals.frames += o.sent;
      totals.mutated += o.mutated;
      totals.connections++;
      if (o.refused) totals.refused++;
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, (_, w) => worker(w)));
  return totals;
}

async function hostileInWorker(load: HostileLoad, noteDisplayError: (code: number, message: string) => void): Promise<HostileTotals> {
  const { Worker } = await import('node:worker_threads');
  // A worker does not inherit tsx's loader: register it, then load the TypeScript module.
  const entry = new URL('./hostile-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: load });
  return new Promise((resolve, reject) => {
    worker.on('message', (m: { displayError?: { code: number; message: string }; done?: HostileTotals }) => {
      if (m.displayError) noteDisplayError(m.displayError.code, m.displayError.message);
      if (m.done) resolve(m.done);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`hostile worker exited with ${code}`));
    });
  });
}

function heapUsed(gc?: () => void): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function runWireFuzz(options: WireFuzzOptions): Promise<WireFuzzResult> {
  const started = performance.now();
  const knownFindings = options.knownFindings ?? false;
  const server = await startLiveServer({ refreshHz: 60, traceCapacity: options.traceCapacity ?? 4096 });
  let good: { hc: HeadlessClient; conn: HandoffClient } | undefined;
  try {
    const corpus = await recordCorpus(server, options.corpusFrames ?? 12);
    await settle(200);
    // Before the good client: after it has gone too, this is what must be back.
    const base = snapshot(server.kernel);
    const conn = await connect(server.wsUrl, { socket: nodeSocket(), comm: 'good' });
    let goodError: string | null = null;
    conn.on('error', (e) => {
      goodError = `${e.kind}: ${e.message}`;
      server.noteDisplayError(e.code, e.message);
    });
    const hc = new HeadlessClient(conn, { kind: 'explicit', name: 'good', renderNs: 3_000_000n });
    await hc.start();
    good = { hc, conn };
    await settle(500);
    const heapBefore = heapUsed(options.gc);
    const p0 = hc.stats.presented;
    const t0 = performance.now();
    await settle(500);
    const goodPresentedBefore = hc.stats.presented - p0;
    const goodFpsBefore = goodPresentedBefore / ((performance.now() - t0) / 1000);

    const result: WireFuzzResult = {
      seed: options.seed,
      frames: 0,
      mutated: 0,
      connections: 0,
      refused: 0,
      internalErrors: server.internalErrors,
      goodPresentedBefore,
      goodPresentedDuring: 0,
      goodFpsBefore,
      goodFpsDuring: 0,
      goodFramesLost: 0,
      goodError: null,
      heapBefore,
      heapAfter: 0,
      leaked: { fds: 0, processes: 0, pages: 0 },
      leakedObjects: 0,
      seconds: 0,
    };
    const p1 = hc.stats.presented;
    const t1 = performance.now();
    const load: HostileLoad = {
      wsUrl: server.wsUrl,
      corpus,
      seed: options.seed,
      frames: options.frames,
      concurrency: options.concurrency ?? 8,
      knownFindings,
    };
    const totals = options.inWorker
      ? await hostileInWorker(load, (code, message) => server.noteDisplayError(code, message))
      : await runHostileLoad(load, (code, message) => server.noteDisplayError(code, message), () => server.internalErrors.length > 0);
    result.frames = totals.frames;
    result.mutated = totals.mutated;
    result.connections = totals.connections;
    result.refused = totals.refused;
    result.goodPresentedDuring = hc.stats.presented - p1;
    result.goodFpsDuring = result.goodPresentedDuring / ((performance.now() - t1) / 1000);

    // Hostile clients are gone: let the server drop what they held.
    await settle(300);
    result.heapAfter = heapUsed(options.gc);
    await hc.stop();
    await settle(100);
    result.goodFramesLost = hc.stats.committed - hc.stats.presented - hc.stats.discarded;
    result.goodError = goodError;
    conn.close();
    await settle(200);
    const after = snapshot(server.kernel);
    result.leakedObjects = server.compositor.clients.size + server.compositor.surfaces.size;
    result.leaked = { fds: after.fds - base.fds, processes: after.processes - base.processes, pages: after.pagesInUse - base.pagesInUse };
    result.seconds = (performance.now() - started) / 1000;
    return result;
  } finally {
    good?.conn.close();
    await server.close();
  }
}

/**
 * The parts of `npm run bench`, each a function from options to rows:
 *
 *   scale      per N: the handoff server, then the bare ws server moving
 *              the same frames (counts and sizes captured from the real run)
 *   latch      fence signal → update unlocked, clients whose render jobs end
 *              at seeded random times before the deadline
 *   observers  extra server CPU with 0, 10, 50 /trace observers
 *   memory     RSS per client, and the trace ring and RSS over a longer run
 *   kernel     bench:kernel's rows (bench/kernel.bench.ts --json --quick)
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Child } from './rpc';
import { HandoffSession, runBare, type BareWindow, type HandoffWindow, type SessionOptions } from './session';
import type { ObserverSample } from './observers';
import { percentile } from './stats';

export interface ScaleRow {
  handoff: HandoffWindow;
  bare: BareWindow | null;
  /** handoff µs per client-frame ÷ bare ws µs per client-frame. */
  ratio: number | null;
  /** Server RSS growth per connected client, KB (after a GC at both ends). */
  rssPerClientKB: number;
}

export async function runScale(ns: readonly number[], seconds: number, bare: boolean, opts: SessionOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const n of ns) {
    const s = await HandoffSession.open(n, { fraction: 0.3 }, opts);
    let handoff: HandoffWindow;
    let sizes: { out: number[]; in: number[] };
    let rss: number;
    try {
      handoff = await s.window(seconds, `N=${n} handoff`);
      sizes = await s.sizes();
      rss = (await s.sampleServer(true)).rss;
    } finally {
      await s.close();
    }
    const b = bare ? await runBare(handoff, sizes, seconds, opts) : null;
    rows.push({
      handoff,
      bare: b,
      ratio: b && Number.isFinite(b.usPerFrame) && b.usPerFrame > 0 ? handoff.usPerFrame / b.usPerFrame : null,
      rssPerClientKB: (rss - s.rssBaseline) / n / 1024,
    });
  }
  return rows;
}

export interface LatchRow {
  n: number;
  samples: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  fpsMedian: number;
  missedVblanks: number;
}

export async function runLatch(n: number, seconds: number, opts: SessionOptions): Promise<LatchRow> {
  // Render jobs end between 5% and 85% of a period after their submit: before the latch deadline.
  const s = await HandoffSession.open(n, { seed: 42, lo: 0.05, hi: 0.85 }, opts);
  try {
    await s.server.call('latchProbe');
    const w = await s.window(seconds, `latch N=${n}`);
    const samples = await s.server.call<number[]>('latchSamples');
    return {
      n,
      samples: samples.length,
      p50Us: percentile(samples, 50) / 1e3,
      p99Us: percentile(samples, 99) / 1e3,
      maxUs: percentile(samples, 100) / 1e3,
      fpsMedian: w.fpsMedian,
      missedVblanks: w.missedVblanks,
    };
  } finally {
    await s.close();
  }
}

export interface ObserverRow {
  n: number;
  observers: number;
  serverCpuPct: number;
  usPerFrame: number;
  fpsMedian: number;
  /** Extra server CPU per observer over the 0-observer window, % of a core. */
  extraPctPerObserver: number | null;
  /** Extra server CPU per observer per presented client-frame, µs (meaningful even when the server is starved). */
  extraUsPerFramePerObserver: number | null;
  /** Trace bytes each observer received per second. */
  bytesPerObserverS: number;
}

export async function runObservers(n: number, counts: readonly number[], seconds: number, opts: SessionOptions): Promise<ObserverRow[]> {
  const s = await HandoffSession.open(n, { fraction: 0.3 }, opts);
  const rows: ObserverRow[] = [];
  try {
    const observers: Child[] = [];
    let have = 0;
    let base: HandoffWindow | null = null;
    const received = async (): Promise<number> =>
      (await Promise.all(observers.map((o) => o.call<ObserverSample>('sample')))).reduce((a, x) => a + x.bytes, 0);
    for (const k of counts) {
      if (k > have) observers.push(await s.addObservers(k - have));
      have = Math.max(have, k);
      const before = await received();
      const w = await s.window(seconds, `observers ${k}, N=${n}`);
      const after = await received();
      if (k === 0) base = w;
      rows.push({
        n,
        observers: have,
        serverCpuPct: w.serverCpuPct,
        usPerFrame: w.usPerFrame,
        fpsMedian: w.fpsMedian,
        extraPctPerObserver: base && have > 0 ? (w.serverCpuPct - base.serverCpuPct) / have : null,
        extraUsPerFramePerObserver: base && have > 0 ? (w.usPerFrame - base.usPerFrame) / have : null,
        bytesPerObserverS: have > 0 ? (after - before) / have / w.seconds : 0,
      });
    }
  } finally {
    await s.close();
  }
  return rows;
}

export interface MemoryRow {
  n: number;
  seconds: number;
  rssBaselineMB: number;
  rssMB: number;
  rssPerClientKB: number;
  /** RSS change over the second half of the run, KB per minute (after GC). */
  rssSlopeKBPerMin: number;
  ringHeld: number;
  ringCapacity: number;
  ringEventsPerS: number;
  /** The ring never held more than its capacity. */
  ringBounded: boolean;
}

export async function runMemory(n: number, seconds: number, opts: SessionOptions): Promise<MemoryRow> {
  const s = await HandoffSession.open(n, { fraction: 0.3 }, opts);
  try {
    const points: { t: number; rss: number }[] = [];
    let bounded = true;
    const first = await s.sampleServer(true);
    let last = first;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      last = await s.sampleServer(true);
      if (last.ring.held > last.ring.capacity) bounded = false;
      points.push({ t: (last.atMs - first.atMs) / 1000, rss: last.rss });
      opts.progress?.(`memory N=${n}: ${points.length}/${seconds} s, RSS ${(last.rss / 2 ** 20).toFixed(0)} MB, ring ${last.ring.held}/${last.ring.capacity}`);
    }
    const half = points.slice(Math.floor(points.length / 2));
    const slope = half.length >= 2 ? (half.at(-1)!.rss - half[0]!.rss) / 1024 / ((half.at(-1)!.t - half[0]!.t) / 60) : 0;
    return {
      n,
      seconds,
      rssBaselineMB: s.rssBaseline / 2 ** 20,
      rssMB: last.rss / 2 ** 20,
      rssPerClientKB: (first.rss - s.rssBaseline) / n / 1024,
      rssSlopeKBPerMin: Number.isFinite(slope) ? slope : 0,
      ringHeld: last.ring.held,
      ringCapacity: last.ring.capacity,
      ringEventsPerS: (last.ring.pushed - first.ring.pushed) / ((last.atMs - first.atMs) / 1000),
      ringBounded: bounded,
    };
  } finally {
    await s.close();
  }
}

export interface KernelRows {
  ok: boolean;
  /** bench:kernel's --json output (results and targets), or the error. */
  report: unknown;
}

/** bench:kernel as a row group: its own process, quick budget. */
export function runKernel(quick: boolean): Promise<KernelRows> {
  const script = fileURLToPath(new URL('../kernel.bench.ts', import.meta.url));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, '--json', ...(quick ? ['--quick'] : [])],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) return resolve({ ok: false, report: `${err.message}\n${stderr.slice(-2000)}` });
        try {
          resolve({ ok: true, report: JSON.parse(stdout) as unknown });
        } catch (e) {
          resolve({ ok: false, report: `bad JSON from bench:kernel: ${(e as Error).message}` });
        }
      },
    );
  });
}

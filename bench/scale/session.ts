/**
 * One measured setup: a server process (handoff or bare ws) alone on its
 * core and generator processes on the others, and measurement windows
 * over it. A window reads the server's CPU time and memory (IPC), the
 * compositor's counters (GET /metrics), and every client's presented
 * frames and WebSocket frame counts (IPC to the generators), at its start
 * and end, and turns the differences into a row.
 */
import { Child, corePlan } from './rpc';
import type { ServerSample } from './server-handoff';
import type { BareSample } from './server-bare';
import type { GeneratorSample, GeneratorStart, RenderSpec } from './generator-handoff';
import type { ReplaySample, ReplayStart } from './generator-replay';
import { median, min, percentile } from './stats';

export const REFRESH_HZ = 60;
export const PERIOD_NS = 1e9 / REFRESH_HZ;

export interface SessionOptions {
  /** Clients per generator process. */
  perGenerator: number;
  /** Seconds between connecting and the first window. */
  warmupS: number;
  /** Called about once a second during a window. */
  progress?: (line: string) => void;
  /** Extra Node flags for the handoff server process (e.g. --cpu-prof). */
  serverNodeFlags?: readonly string[];
}

/** What the compositor says about itself, from /metrics. */
export interface MetricsCounters {
  presented: number;
  missed: number;
}

export function parseMetrics(text: string): MetricsCounters {
  const sum = (name: string): number => {
    let total = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (m && m[1] === name) total += Number(m[3]);
    }
    return total;
  };
  return { presented: sum('handoff_frames_presented_total'), missed: sum('handoff_frames_missed_total') };
}

export interface HandoffWindow {
  n: number;
  seconds: number;
  /** Server CPU (user + system, every thread) over the window, µs. */
  serverCpuUs: number;
  serverCpuPct: number;
  /** The server's event loop waiting for a CPU it was not given, % of the window (a starved server, not a slow one). */
  serverWaitPct: number;
  /** Frames the compositor presented (sum over clients). */
  presented: number;
  usPerFrame: number;
  fpsMin: number;
  fpsMedian: number;
  missedVblanks: number;
  p50Ms: number;
  p99Ms: number;
  p50Vblanks: number;
  p99Vblanks: number;
  /** WebSocket frames and bytes per presented client-frame, each way. */
  wsFramesOutPerFrame: number;
  wsFramesInPerFrame: number;
  wsBytesOutPerFrame: number;
  wsBytesInPerFrame: number;
  /** Generator processes' CPU, % of one core (summed): the load side's own headroom. */
  generatorCpuPct: number;
  clientErrors: number;
  /** Vblanks the output ticked per second (60 when its clock keeps real time). */
  vblankHz: number;
  /** How far the output's vblank clock was behind real time at the window's end, ms. */
  vblankBehindMs: number;
}

async function fetchMetrics(port: number): Promise<MetricsCounters> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  return parseMetrics(await r.text());
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function split(n: number, per: number): number[] {
  const gens = Math.max(1, Math.ceil(n / per));
  const out: number[] = [];
  for (let g = 0; g < gens; g++) out.push(Math.floor(n / gens) + (g < n % gens ? 1 : 0));
  return out.filter((c) => c > 0);
}

export class HandoffSession {
  readonly n: number;
  readonly server: Child;
  port = 0;
  rssBaseline = 0;
  private gens: Child[] = [];
  private observers: Child[] = [];
  private readonly opts: SessionOptions;

  private constructor(n: number, opts: SessionOptions) {
    this.n = n;
    this.opts = opts;
    this.server = new Child('./server-handoff.ts', [String(REFRESH_HZ)], corePlan().server, ['--expose-gc', ...(opts.serverNodeFlags ?? [])]);
  }

  static async open(n: number, render: RenderSpec, opts: SessionOptions): Promise<HandoffSession> {
    const s = new HandoffSession(n, opts);
    try {
      s.port = ((await s.server.ready) as { port: number }).port;
      await sleep(300);
      s.rssBaseline = (await s.server.call<ServerSample>('sample', { gc: true })).rss;
      const shares = split(n, opts.perGenerator);
      s.gens = shares.map(() => new Child('./generator-handoff.ts', [], corePlan().load));
      await Promise.all(s.gens.map((g) => g.ready));
      let first = 0;
      const starts = shares.map((count, i) => {
        const arg: GeneratorStart = { url: `ws://127.0.0.1:${s.port}/ws`, count, first, periodNs: PERIOD_NS, render };
        first += count;
        return s.gens[i]!.call<number>('start', arg);
      });
      await Promise.all(starts);
      await sleep(opts.warmupS * 1000);
      return s;
    } catch (err) {
      await s.close();
      throw err;
    }
  }

  sampleServer(gc = false): Promise<ServerSample> {
    return this.server.call<ServerSample>('sample', { gc });
  }

  /** One measurement window of `seconds`; `label` prefixes the progress lines. */
  async window(seconds: number, label: string): Promise<HandoffWindow> {
    const gensSample = (): Promise<GeneratorSample[]> => Promise.all(this.gens.map((g) => g.call<GeneratorSample>('sample')));
    await this.server.call('mark');
    await this.gens[0]?.call('record');
    const [s0, m0, g0] = await Promise.all([this.sampleServer(), fetchMetrics(this.port), gensSample()]);
    const t0 = performance.now();
    let last = s0;
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(Math.min(1000, seconds * 1000 - (performance.now() - t0)));
      if (this.opts.progress) {
        const s = await this.sampleServer();
        const pct = ((s.cpuUs - last.cpuUs) / ((s.atMs - last.atMs) * 1000)) * 100;
        const wait = ((s.waitUs - last.waitUs) / ((s.atMs - last.atMs) * 1000)) * 100;
        last = s;
        this.opts.progress(
          `${label}: ${((performance.now() - t0) / 1000).toFixed(0)}/${seconds} s, server ${pct.toFixed(0)}% of a core (+${wait.toFixed(0)}% waiting for it), ${s.clients} clients`,
        );
      }
    }
    const [s1, m1, g1] = await Promise.all([this.sampleServer(), fetchMetrics(this.port), gensSample()]);
    const lat = await this.server.call<{ ns: number[]; vblanks: number[] }>('latency');
    const wallS = (s1.atMs - s0.atMs) / 1000;
    const cpuUs = s1.cpuUs - s0.cpuUs;
    const presented = m1.presented - m0.presented;
    const fps: number[] = [];
    let clientPresented = 0;
    let genCpu = 0;
    const d = { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0 };
    let errors = 0;
    g1.forEach((b, gi) => {
      const a = g0[gi]!;
      const gWall = (b.atMs - a.atMs) / 1000;
      b.presented.forEach((p, i) => {
        const delta = p - (a.presented[i] ?? 0);
        clientPresented += delta;
        fps.push(delta / gWall);
      });
      genCpu += (b.cpuUs - a.cpuUs) / (gWall * 1e6);
      d.framesOut += b.counts.framesOut - a.counts.framesOut;
      d.framesIn += b.counts.framesIn - a.counts.framesIn;
      d.bytesOut += b.counts.bytesOut - a.counts.bytesOut;
      d.bytesIn += b.counts.bytesIn - a.counts.bytesIn;
      errors += b.errors;
    });
    const per = (x: number): number => (clientPresented > 0 ? x / clientPresented : 0);
    return {
      n: this.n,
      seconds: wallS,
      serverCpuUs: cpuUs,
      serverCpuPct: (cpuUs / (wallS * 1e6)) * 100,
      serverWaitPct: ((s1.waitUs - s0.waitUs) / (wallS * 1e6)) * 100,
      presented,
      usPerFrame: presented > 0 ? cpuUs / presented : Number.POSITIVE_INFINITY,
      fpsMin: min(fps),
      fpsMedian: median(fps),
      missedVblanks: m1.missed - m0.missed,
      p50Ms: percentile(lat.ns, 50) / 1e6,
      p99Ms: percentile(lat.ns, 99) / 1e6,
      p50Vblanks: percentile(lat.vblanks, 50),
      p99Vblanks: percentile(lat.vblanks, 99),
      wsFramesOutPerFrame: per(d.framesOut),
      wsFramesInPerFrame: per(d.framesIn),
      wsBytesOutPerFrame: per(d.bytesOut),
      wsBytesInPerFrame: per(d.bytesIn),
      generatorCpuPct: genCpu * 100,
      clientErrors: errors,
      vblankHz: (s1.output.nextVblankNs - s0.output.nextVblankNs) / s1.output.periodNs / wallS,
      vblankBehindMs: s1.output.behindNs / 1e6,
    };
  }

  /** Client 0's frame sizes recorded since the last window began. */
  sizes(): Promise<{ out: number[]; in: number[] }> {
    return this.gens[0]?.call<{ out: number[]; in: number[] }>('sizes') ?? Promise.resolve({ out: [], in: [] });
  }

  /** Start `count` /trace observers in their own process. */
  async addObservers(count: number): Promise<Child> {
    const c = new Child('./observers.ts', [], corePlan().load);
    await c.ready;
    await c.call<number>('start', { url: `ws://127.0.0.1:${this.port}/trace`, count });
    this.observers.push(c);
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.gens, ...this.observers].map((g) => g.stop()));
    await this.server.stop();
  }
}

export interface BareWindow {
  n: number;
  seconds: number;
  serverCpuUs: number;
  serverCpuPct: number;
  /** Client-frames the bare server handled (one per replayed client-frame). */
  frames: number;
  usPerFrame: number;
  fpsPerClient: number;
  wsFramesInPerFrame: number;
  wsFramesOutPerFrame: number;
}

/** The bare ws server with the same clients' frame counts and sizes, at the rate the real run reached. */
export async function runBare(
  real: HandoffWindow,
  sizes: { out: number[]; in: number[] },
  seconds: number,
  opts: SessionOptions,
): Promise<BareWindow> {
  const plan = corePlan();
  const server = new Child('./server-bare.ts', [], plan.server);
  const gens: Child[] = [];
  try {
    const { port } = (await server.ready) as { port: number };
    const shares = split(real.n, opts.perGenerator);
    for (const _ of shares) gens.push(new Child('./generator-replay.ts', [], plan.load));
    await Promise.all(gens.map((g) => g.ready));
    const fps = Math.max(1, real.presented / real.n / real.seconds);
    await Promise.all(
      shares.map((count, i) => {
        const arg: ReplayStart = {
          url: `ws://127.0.0.1:${port}`,
          count,
          fps,
          outPerFrame: real.wsFramesOutPerFrame || 1,
          inPerFrame: real.wsFramesInPerFrame,
          outSizes: sizes.out.length > 0 ? sizes.out : [64],
          inSizes: sizes.in.length > 0 ? sizes.in : [64],
        };
        return gens[i]!.call<number>('start', arg);
      }),
    );
    await sleep(opts.warmupS * 1000);
    const a = await server.call<BareSample>('sample');
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(Math.min(1000, seconds * 1000 - (performance.now() - t0)));
      opts.progress?.(`N=${real.n} bare ws: ${((performance.now() - t0) / 1000).toFixed(0)}/${seconds} s`);
    }
    const b = await server.call<BareSample>('sample');
    await Promise.all(gens.map((g) => g.call<ReplaySample>('sample')));
    const wallS = (b.atMs - a.atMs) / 1000;
    const cpuUs = b.cpuUs - a.cpuUs;
    const frames = b.cycles - a.cycles;
    return {
      n: real.n,
      seconds: wallS,
      serverCpuUs: cpuUs,
      serverCpuPct: (cpuUs / (wallS * 1e6)) * 100,
      frames,
      usPerFrame: frames > 0 ? cpuUs / frames : Number.POSITIVE_INFINITY,
      fpsPerClient: frames / real.n / wallS,
      wsFramesInPerFrame: frames > 0 ? (b.framesIn - a.framesIn) / frames : 0,
      wsFramesOutPerFrame: frames > 0 ? (b.framesOut - a.framesOut) / frames : 0,
    };
  } finally {
    await Promise.all(gens.map((g) => g.stop()));
    await server.stop();
  }
}

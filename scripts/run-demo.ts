/**
 * The headless demo: a real server on 127.0.0.1 (an ephemeral port), with
 * headless clients of the requested kinds connected over WebSocket, run
 * on the host clock for a while. Reports per-client figures live and a
 * summary at the end, computed from the compositor's trace events by
 * shared/trace/frame-stats.ts (as the page does). Used by `npm run demo`
 * (scripts/demo.ts) and by the real-server test.
 */
import type { AddressInfo } from 'node:net';
import { buildApp } from '../server/app';
import { Compositor } from '../server/compositor/compositor';
import type { LatchPolicy } from '../server/compositor/types';
import { Kernel } from '../shared/kernel/kernel';
import { hostClock } from '../server/host-clock';
import { clientFrameFigures, createFrameStats, recordFrameEvent } from '../shared/trace/frame-stats';
import { connect, type HandoffClient } from '../client/index';
import { nodeSocket } from '../client/node/node-socket';
import { HeadlessClient, parseClientSpec } from '../client/node/headless-client';

export interface DemoOptions {
  /** Client kinds, e.g. ["explicit", "implicit", "slow-implicit"]. */
  clients: string[];
  policy: LatchPolicy;
  refreshHz: number;
  slowMotion?: number;
  seconds: number;
  /** Render time of a normal client's frame, as a fraction of the refresh period. Default 0.3. */
  renderFraction?: number;
  /** Render time of a slow client's frame, in periods. Default 2.5. */
  slowPeriods?: number;
  /**
   * Render time of a naive client's frame, in periods. Default 0.9: long
   * enough that its unsynchronized work overlaps the composition reading it.
   */
  naivePeriods?: number;
}

export interface ClientRow {
  name: string;
  kind: string;
  committed: number;
  presented: number;
  discarded: number;
  fps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyP50Vblanks: number;
  latencyP99Vblanks: number;
  missed: number;
  hazards: number;
}

export interface DemoResult {
  rows: ClientRow[];
  outputMissed: number;
  flips: number;
  hazards: number;
  seconds: number;
}

export async function runDemo(options: DemoOptions, onProgress?: (rows: ClientRow[], elapsed: number) => void): Promise<DemoResult> {
  const specs = options.clients.map((c) => ({ spec: c, ...parseClientSpec(c) }));
  const kernel = new Kernel({ clock: hostClock() });
  const compositor = new Compositor({
    kernel,
    policy: options.policy,
    mode: { refreshHz: options.refreshHz, slowMotion: options.slowMotion ?? 1 },
  });
  const frameStats = createFrameStats();
  compositor.observe((ev) => recordFrameEvent(frameStats, ev));
  // Which process owns which buffer, to charge hazards to clients.
  const bufOwner = new Map<number, number>();
  const hazardsByPid = new Map<number, number>();
  kernel.subscribe((ev) => {
    if (ev.type === 'dmabuf.alloc') bufOwner.set(ev.buf, ev.pid);
    if (ev.type === 'hazard') {
      const pid = bufOwner.get(ev.buf);
      if (pid !== undefined) hazardsByPid.set(pid, (hazardsByPid.get(pid) ?? 0) + 1);
    }
  });
  const app = buildApp({ kernel, compositor, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}/ws`;
  const periodNs = BigInt(Math.round((1e9 / options.refreshHz) * (options.slowMotion ?? 1)));
  const fast = BigInt(Math.round(Number(periodNs) * (options.renderFraction ?? 0.3)));
  const slow = BigInt(Math.round(Number(periodNs) * (options.slowPeriods ?? 2.5)));
  const naive = BigInt(Math.round(Number(periodNs) * (options.naivePeriods ?? 0.9)));

  const conns: HandoffClient[] = [];
  const clients: { name: string; kind: string; hc: HeadlessClient; conn: HandoffClient }[] = [];
  try {
    for (const [i, s] of specs.entries()) {
      const name = `${i + 1}-${s.spec}`.slice(0, 15);
      const conn = await connect(url, { socket: nodeSocket(), comm: name });
      conns.push(conn);
      const hc = new HeadlessClient(conn, { kind: s.kind, name, renderNs: s.slow ? slow : s.kind === 'naive' ? naive : fast });
      await hc.start();
      clients.push({ name, kind: s.spec, hc, conn });
    }
    const started = performance.now();
    const rows = (): ClientRow[] => {
      const elapsed = (performance.now() - started) / 1000;
      return clients.map((c) => {
        const info = [...compositor.clients.values()].find((x) => x.name === c.name);
        const f = info ? clientFrameFigures(frameStats, info.key) : undefined;
        const presented = f?.presented ?? 0;
        return {
          name: c.name,
          kind: c.kind,
          committed: f?.committed ?? 0,
          presented,
          discarded: f?.discarded ?? 0,
          // The mean since the demo started (the figures' own fps is over the last second).
          fps: elapsed > 0 ? presented / elapsed : 0,
          latencyP50Ms: f?.latencyMs.p50 ?? 0,
          latencyP99Ms: f?.latencyMs.p99 ?? 0,
          latencyP50Vblanks: f?.latencyVblanks.p50 ?? 0,
          latencyP99Vblanks: f?.latencyVblanks.p99 ?? 0,
          missed: f?.missed ?? 0,
          hazards: f?.pid !== undefined ? (hazardsByPid.get(f.pid) ?? 0) : 0,
        };
      });
    };
    const endAt = started + options.seconds * 1000;
    while (performance.now() < endAt) {
      const step = Math.min(1000, endAt - performance.now());
      await new Promise((r) => setTimeout(r, step));
      // A short last step is not worth a line: the summary follows.
      if (step >= 500) onProgress?.(rows(), (performance.now() - started) / 1000);
    }
    const final = rows();
    const elapsed = (performance.now() - started) / 1000;
    return {
      rows: final,
      outputMissed: compositor.output.stats.missed,
      flips: compositor.output.stats.flips,
      hazards: compositor.validator.hazards.length,
      seconds: elapsed,
    };
  } finally {
    const stopped = clients.map((c) => c.hc.stop());
    // Closing the connections ends any kernel wait a client is blocked in.
    for (const c of conns) c.close();
    await Promise.all(stopped);
    await app.close();
    compositor.shutdown();
  }
}

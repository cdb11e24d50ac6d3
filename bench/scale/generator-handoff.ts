/**
 * Child process: a share of the benchmark's clients, each an explicit-sync
 * headless client (linux-drm-syncobj-v1, its own vgpu ring) on its own
 * WebSocket to the handoff server, pacing itself by frame callbacks. Every
 * socket counts its frames (counting-socket.ts); the first client records
 * its frame sizes in order for the bare-ws replay.
 *
 *   ops: start {url, count, first, periodNs, render}  connect and run
 *        sample     → per-client presented/committed, frame counts
 *        record     → start recording client 0's frame sizes
 *        sizes      → the recorded sizes
 */
import { serveRpc } from './rpc';
import { connect, HeadlessClient, type HandoffClient } from './deps';
import { countingSocket, type FrameCounts, type SizeRecorder } from './counting-socket';
import { mulberry32 } from './stats';

/** Render time of each client's frame: a fixed fraction of the period, or seeded random in [lo, hi). */
export type RenderSpec = { fraction: number } | { seed: number; lo: number; hi: number };

export interface GeneratorStart {
  url: string;
  count: number;
  /** Index of this generator's first client (names, seeds). */
  first: number;
  periodNs: number;
  render: RenderSpec;
}

export interface GeneratorSample {
  presented: number[];
  committed: number[];
  errors: number;
  counts: FrameCounts;
  cpuUs: number;
  atMs: number;
}

const clients: { hc: HeadlessClient; conn: HandoffClient }[] = [];
const counts: FrameCounts = { framesOut: 0, bytesOut: 0, framesIn: 0, bytesIn: 0 };
const recorder: SizeRecorder = { out: [], in: [], on: false };

function renderNs(spec: RenderSpec, periodNs: number, index: number): bigint {
  if ('fraction' in spec) return BigInt(Math.round(periodNs * spec.fraction));
  const r = mulberry32(spec.seed + index * 7919)();
  return BigInt(Math.round(periodNs * (spec.lo + (spec.hi - spec.lo) * r)));
}

async function startOne(s: GeneratorStart, i: number): Promise<void> {
  const index = s.first + i;
  const name = `c${index}`;
  const conn = await connect(s.url, { socket: countingSocket(counts, i === 0 ? recorder : undefined), comm: name });
  const hc = new HeadlessClient(conn, { kind: 'explicit', name, renderNs: renderNs(s.render, s.periodNs, index) });
  await hc.start();
  clients.push({ hc, conn });
}

async function start(s: GeneratorStart): Promise<number> {
  // A few at a time: each setup is several roundtrips.
  const CONCURRENT = 8;
  for (let i = 0; i < s.count; i += CONCURRENT) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(s.count, i + CONCURRENT); j++) batch.push(startOne(s, j));
    await Promise.all(batch);
  }
  return clients.length;
}

serveRpc(
  {
    start: (arg) => start(arg as GeneratorStart),
    sample: (): GeneratorSample => {
      const cpu = process.cpuUsage();
      return {
        presented: clients.map((c) => c.hc.stats.presented),
        committed: clients.map((c) => c.hc.stats.committed),
        errors: clients.reduce((a, c) => a + c.hc.stats.errors + (c.conn.isConnected ? 0 : 1), 0),
        counts: { ...counts },
        cpuUs: cpu.user + cpu.system,
        atMs: performance.now(),
      };
    },
    record: () => {
      recorder.out = [];
      recorder.in = [];
      recorder.on = true;
      return true;
    },
    sizes: () => {
      recorder.on = false;
      return { out: recorder.out, in: recorder.in };
    },
  },
  { pid: process.pid },
);

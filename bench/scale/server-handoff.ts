/**
 * Child process: the real handoff server (fastify app, compositor, kernel
 * model) on an ephemeral port, as `npm start` builds it, without logging.
 * The orchestrator reads its CPU time and memory over IPC (process.cpuUsage
 * covers every thread of the process) and the compositor's own counters
 * over HTTP (/metrics), as a user would.
 *
 *   ops: sample {gc?}  → cpu µs, rss, heap, clients, trace ring fill,
 *                        the output's vblank clock
 *        mark          → start a latency window (per-surface marks)
 *        latency       → commit→present samples since mark
 *        latchProbe    → start collecting fence signal → unlock samples
 *        latchSamples  → the samples since latchProbe (ns)
 */
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { serveRpc } from './rpc';
import {
  buildApp,
  clientCount,
  Compositor,
  hostClock,
  Kernel,
  latencyRecorder,
  observeTrace,
  outputClock,
  traceRingFill,
} from './deps';

export interface ServerSample {
  cpuUs: number;
  /** The main thread's time runnable but waiting for a CPU (µs; 0 where /proc has no schedstat). */
  waitUs: number;
  rss: number;
  heapUsed: number;
  clients: number;
  ring: { held: number; capacity: number; pushed: number };
  output: { behindNs: number; nextVblankNs: number; periodNs: number; flips: number; missed: number };
  atMs: number;
}

async function main(): Promise<void> {
  const refreshHz = Number(process.argv[2] ?? 60);
  const kernel = new Kernel({ clock: hostClock() });
  const compositor = new Compositor({ kernel, policy: 'cpu-wait', mode: { refreshHz } });
  const latency = latencyRecorder(compositor);
  const app = buildApp({ kernel, compositor, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  let latch: number[] = [];
  let stopLatch: (() => void) | null = null;

  const gc = (globalThis as { gc?: () => void }).gc;
  serveRpc(
    {
      sample: (arg): ServerSample => {
        if ((arg as { gc?: boolean } | undefined)?.gc && gc) gc();
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        return {
          cpuUs: cpu.user + cpu.system,
          waitUs: runQueueWaitUs(),
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          clients: clientCount(compositor),
          ring: traceRingFill(compositor),
          output: outputClock(compositor),
          atMs: performance.now(),
        };
      },
      mark: () => latency.mark(),
      latency: () => latency.since(),
      latchProbe: () => {
        stopLatch?.();
        latch = [];
        stopLatch = startLatchProbe(compositor, latch);
        return true;
      },
      latchSamples: () => latch.splice(0),
    },
    { port },
  );
}

/**
 * The event-loop thread's run-queue wait (/proc/thread-self/schedstat, second
 * field, ns): on a shared machine it says how much CPU the server wanted and
 * did not get, which its CPU time alone cannot show.
 */
export function runQueueWaitUs(): number {
  try {
    const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return Number(f[1] ?? 0) / 1000;
  } catch {
    return 0;
  }
}

/**
 * Fence signal → update unlocked, from the trace: an update waiting on its
 * acquire fence shows as buffer.state 'waiting-on-fence', and its unlock as
 * 'queued' for the same (client, buffer). The fence callback that unlocks
 * runs inside the signal (Process.watch), so the signal that caused an
 * unlock is the last fence.signaled before it; were the wake deferred,
 * another fence could signal in between and the sample would read short.
 */
function startLatchProbe(c: Compositor, out: number[]): () => void {
  let lastSignal = -1n;
  const waiting = new Set<string>();
  return observeTrace(c, (ev) => {
    if (ev.type === 'fence.signaled') lastSignal = ev.t;
    else if (ev.type === 'buffer.state') {
      const key = `${ev.client}/${ev.buffer}`;
      if (ev.state === 'waiting-on-fence') waiting.add(key);
      else if (waiting.delete(key) && ev.state === 'queued' && lastSignal >= 0n) out.push(Number(ev.t - lastSignal));
    }
  });
}

void main().catch((err: unknown) => {
  process.stderr.write(`server-handoff: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

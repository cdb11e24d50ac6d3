/**
 * npm run test:reliability: the fuzzers and faults at full size, one table.
 *
 *   npm run test:reliability                 # ≥ 100,000 wire frames, 100,000 kernel calls
 *   npm run test:reliability -- --frames 20000 --calls 20000 --seed 7
 *
 * Runs under node --expose-gc (the npm script passes it) so the heap
 * figures are after full collections. Exits 1 when any check fails: an
 * internal error, a crash, a leak, a broken invariant, the good client's
 * fps more than 10 % below what it was before the hostile clients, or the
 * heap more than 10 % above its start once they are gone.
 */
import { runKernelFuzz } from '../test/reliability/kernel-fuzz';
import { runWireFuzz } from '../test/reliability/wire-fuzz';
import { disconnectAt, gpuHang } from '../test/reliability/faults';
import { formatTable, type ReliabilityRow } from '../test/reliability/table';
import { fullGc } from '../test/reliability/heap';
import type { SyncKind } from '../test/reliability/deps';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

const seed = flag('seed', Number(process.env.RELIABILITY_SEED ?? 20261204));
const frames = flag('frames', 100_000);
const calls = flag('calls', 100_000);
const failures: string[] = [];
let crashes = 0;
process.on('uncaughtException', (err) => {
  crashes++;
  failures.push(`uncaught exception: ${err.message}`);
});
process.on('unhandledRejection', (err) => {
  crashes++;
  failures.push(`unhandled rejection: ${err instanceof Error ? err.message : String(err)}`);
});

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const t0 = performance.now();
  // Kernel channel: 10 seeds, calls split between them.
  let kCalls = 0;
  let kInternal = 0;
  const kLeaks = { fds: 0, pages: 0, processes: 0 };
  for (let i = 0; i < 10; i++) {
    const r = await runKernelFuzz({ seed: seed + i, calls: Math.ceil(calls / 10) });
    kCalls += r.calls;
    kInternal += r.internalErrors.length;
    kLeaks.fds += r.leaked.fds;
    kLeaks.pages += r.leaked.pages;
    kLeaks.processes += r.leaked.processes;
    for (const e of [...r.internalErrors, ...r.invariantViolations].slice(0, 3)) failures.push(`kernel fuzz seed ${r.seed}: ${e}`);
  }
  process.stderr.write(`kernel-channel fuzz: ${kCalls} calls, ${Math.round(performance.now() - t0)} ms\n`);

  // Faults: every handoff phase for every safe kind, and a GPU hang.
  let faults = 0;
  let fLost = 0;
  let fInternal = 0;
  const fLeaks = { fds: 0, pages: 0, processes: 0 };
  const kinds: SyncKind[] = ['explicit', 'explicit-fd', 'implicit', 'bridged'];
  for (const kind of kinds) {
    for (let i = 0; i < 24; i++) {
      const o = await disconnectAt(kind, BigInt(i) * 1_375_000n);
      faults++;
      fLost += o.committed - o.ended;
      fInternal += o.internalErrors.length;
      fLeaks.fds += o.after.fds - o.before.fds;
      fLeaks.pages += o.after.pagesInUse - o.before.pagesInUse;
      fLeaks.processes += o.after.processes - o.before.processes;
      for (const v of o.invariantViolations) failures.push(`fault ${kind}@${o.atNs}: ${v}`);
    }
  }
  const hang = await gpuHang();
  faults++;
  if (!hang.hungJobTimedOut) failures.push('GPU hang: the hung job never timed out');
  fInternal += hang.internalErrors.length;
  for (const b of hang.balances) fLost += b.committed - b.ended;
  fLeaks.fds += hang.after.fds - hang.before.fds;
  fLeaks.pages += hang.after.pagesInUse - hang.before.pagesInUse;
  process.stderr.write(`faults: ${faults}, ${Math.round(performance.now() - t0)} ms\n`);

  // Wire: the hostile clients and the good one.
  const w = await runWireFuzz({ seed, frames, concurrency: 8, gc: fullGc(), inWorker: true });
  for (const e of w.internalErrors.slice(0, 5)) failures.push(`wire fuzz: ${e}`);
  if (w.goodError) failures.push(`good client: ${w.goodError}`);
  if (w.goodFpsDuring < w.goodFpsBefore * 0.9) {
    failures.push(`good client fps ${w.goodFpsDuring.toFixed(1)} during the fuzz, ${w.goodFpsBefore.toFixed(1)} before (more than 10 % down)`);
  }
  if (w.heapAfter > w.heapBefore * 1.1) failures.push(`heap ${(w.heapAfter / MB).toFixed(1)} MB after, ${(w.heapBefore / MB).toFixed(1)} MB before (more than 10 % up)`);
  process.stderr.write(`wire fuzz: ${w.frames} frames over ${w.connections} connections, ${w.seconds.toFixed(1)} s; good client ${w.goodFpsBefore.toFixed(1)} fps before, ${w.goodFpsDuring.toFixed(1)} during\n`);

  const row: ReliabilityRow = {
    framesFuzzed: w.frames,
    callsFuzzed: kCalls,
    connections: w.connections,
    faultsInjected: faults,
    internalErrors: kInternal + fInternal + w.internalErrors.length,
    crashes,
    leakedObjects: w.leakedObjects + w.leaked.processes + kLeaks.processes + fLeaks.processes,
    leakedFds: w.leaked.fds + kLeaks.fds + fLeaks.fds,
    leakedPages: w.leaked.pages + kLeaks.pages + fLeaks.pages,
    heapBeforeMB: w.heapBefore / MB,
    heapAfterMB: w.heapAfter / MB,
    framesLost: w.goodFramesLost + fLost,
  };
  if (row.leakedObjects + row.leakedFds + row.leakedPages > 0) failures.push('something leaked (see the table)');
  if (row.framesLost > 0) failures.push('frames lost: committed ≠ presented + discarded');
  process.stdout.write(`\nseed ${seed}, ${((performance.now() - t0) / 1000).toFixed(0)} s\n\n${formatTable(row)}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED (rerun with --seed ${seed}):\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`reliability run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * Faults on the compositor on a manual clock (the compositor tests'
 * Harness): a client that vanishes at a chosen moment of a handoff, a GPU
 * job that never completes. Each fault reports what the kernel holds
 * before and after, the per-client balance committed = presented +
 * discarded, and the phase the client was in when it went, so a sweep of
 * moments can show it reached every phase.
 */
import { Harness, HeadlessClient, type Surface, type SyncKind, type TestClient } from './deps';
import { snapshot, checkFdTables, checkPages, type Snapshot } from './invariants';

/** What was in flight for the client when it disconnected. */
export interface Phase {
  /** Attached and committed, acquire fence not signalled yet (its render job not done). */
  fencePending: boolean;
  /** A composition job was running on the compositor's ring. */
  composing: boolean;
  /** Its buffer was latched and not yet released. */
  latched: boolean;
}

export interface FaultOutcome {
  kind: SyncKind;
  atNs: bigint;
  phase: Phase;
  before: Snapshot;
  after: Snapshot;
  committed: number;
  ended: number;
  internalErrors: string[];
  invariantViolations: string[];
}

export function disconnect(h: Harness, tc: TestClient): void {
  tc.conn.close();
  tc.proc.exit();
}

function surfacesOf(h: Harness, tc: TestClient): Surface[] {
  for (const info of h.compositor.clients.values()) if (info.proc === tc.proc) return [...info.surfaces];
  return [];
}

/** Watches the kernel for render and composition jobs in flight, per pid. */
function jobWatch(h: Harness): { running: Map<number, { pid: number; ring: string }>; stop: () => void } {
  const running = new Map<number, { pid: number; ring: string }>();
  const stop = h.kernel.subscribe((ev) => {
    if (ev.type === 'job.queued') running.set(ev.job, { pid: ev.pid, ring: ev.ring });
    if (ev.type === 'job.done') running.delete(ev.job);
  });
  return { running, stop };
}

/**
 * One client of `kind` runs for `atNs` of modelled time, then its
 * connection and process go at once; the compositor runs on for 300 ms.
 */
export async function disconnectAt(kind: SyncKind, atNs: bigint): Promise<FaultOutcome> {
  const h = new Harness({ policy: 'cpu-wait' });
  const internalErrors: string[] = [];
  h.compositor.observe((ev) => {
    if (ev.type === 'client.disconnect' && ev.reason?.startsWith('internal error')) internalErrors.push(ev.reason);
  });
  await h.run(20_000_000n);
  const before = snapshot(h.kernel);
  const jobs = jobWatch(h);
  const tc = await h.connect(`fault-${kind}`);
  const hc = new HeadlessClient(tc.env, { kind, name: `fault-${kind}`, renderNs: 6_000_000n });
  const started = hc.start();
  await h.settle();
  await started;
  await h.run(atNs, 250_000n);
  const surfaces = surfacesOf(h, tc);
  const mine = [...jobs.running.values()];
  const phase: Phase = {
    fencePending: mine.some((j) => j.pid === tc.proc.pid),
    composing: mine.some((j) => j.pid === h.compositor.proc.pid),
    latched: surfaces.some((s) => s.stats.committed > s.stats.presented + s.stats.discarded),
  };
  disconnect(h, tc);
  void hc.stop();
  await h.run(300_000_000n, 1_000_000n);
  jobs.stop();
  const after = snapshot(h.kernel);
  const committed = surfaces.reduce((a, s) => a + s.stats.committed, 0);
  const ended = surfaces.reduce((a, s) => a + s.stats.presented + s.stats.discarded, 0);
  const invariantViolations = [...checkFdTables(h.kernel), ...checkPages(h.kernel)];
  h.compositor.shutdown();
  return { kind, atNs, phase, before, after, committed, ended, internalErrors, invariantViolations };
}

export interface HangOutcome {
  goodPresentedDuringHang: number;
  hungJobTimedOut: boolean;
  before: Snapshot;
  after: Snapshot;
  balances: { committed: number; ended: number }[];
  internalErrors: string[];
}

/**
 * A client whose render job never completes (10 s of GPU time against a
 * 100 ms hang timeout) next to a good client: the hang is detected, the
 * good client keeps presenting, and once both go nothing is left.
 */
export async function gpuHang(): Promise<HangOutcome> {
  const h = new Harness({ policy: 'cpu-wait', kernel: { vgpu: { jobTimeoutNs: 100_000_000n } } });
  const internalErrors: string[] = [];
  h.compositor.observe((ev) => {
    if (ev.type === 'client.disconnect' && ev.reason?.startsWith('internal error')) internalErrors.push(ev.reason);
  });
  let timedOut = false;
  const stopWatch = h.kernel.subscribe((ev) => {
    if (ev.type === 'job.done' && ev.label.startsWith('hung') && (ev.error ?? 0) !== 0) timedOut = true;
  });
  await h.run(20_000_000n);
  const before = snapshot(h.kernel);
  const goodTc = await h.connect('good');
  const good = new HeadlessClient(goodTc.env, { kind: 'explicit', name: 'good', renderNs: 2_000_000n });
  const hungTc = await h.connect('hung');
  const hung = new HeadlessClient(hungTc.env, { kind: 'explicit', name: 'hung', renderNs: 10_000_000_000n });
  await Promise.all([good.start(), hung.start(), h.settle()]);
  await h.run(100_000_000n);
  const p0 = good.stats.presented;
  await h.run(1_000_000_000n, 1_000_000n);
  const goodPresentedDuringHang = good.stats.presented - p0;
  const surfaces = [...surfacesOf(h, goodTc), ...surfacesOf(h, hungTc)];
  disconnect(h, goodTc);
  disconnect(h, hungTc);
  void good.stop();
  void hung.stop();
  await h.run(500_000_000n, 1_000_000n);
  stopWatch();
  const after = snapshot(h.kernel);
  h.compositor.shutdown();
  return {
    goodPresentedDuringHang,
    hungJobTimedOut: timedOut,
    before,
    after,
    balances: surfaces.map((s) => ({ committed: s.stats.committed, ended: s.stats.presented + s.stats.discarded })),
    internalErrors,
  };
}

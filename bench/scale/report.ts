/**
 * The benchmark's text output: one table per part and the issue's targets
 * as PASS / FAIL / NOT RUN lines. Targets are for the full run on a machine
 * with cores to spare; a report, never an assertion.
 */
import type { KernelRows, LatchRow, MemoryRow, ObserverRow, ScaleRow } from './parts';
import { powerExponent } from './stats';

export interface BenchResults {
  env: Record<string, unknown>;
  scale?: ScaleRow[];
  latch?: LatchRow;
  observers?: ObserverRow[];
  memory?: MemoryRow;
  kernel?: KernelRows;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const f = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

/** fps a client must keep for a row to count as holding 60 Hz. */
export const HOLDS_FPS = 58;

export function holds60(r: ScaleRow): boolean {
  return r.handoff.fpsMin >= HOLDS_FPS && r.handoff.missedVblanks === 0;
}

export function scaleTable(rows: readonly ScaleRow[]): string {
  const head = [
    'N', 'srv CPU%', 'wait%', 'µs/frame', 'bare µs', 'ratio', 'fps min', 'fps med', 'missed', 'vbl Hz',
    'p50 ms', 'p99 ms', 'p50 vbl', 'p99 vbl', 'ws out/in', 'B out/in', 'RSS KB/cl', 'gen CPU%',
  ];
  const body = rows.map((r) => {
    const h = r.handoff;
    return [
      String(h.n), f(h.serverCpuPct, 0), f(h.serverWaitPct, 0), f(h.usPerFrame, 0), f(r.bare?.usPerFrame, 0), f(r.ratio, 1),
      f(h.fpsMin), f(h.fpsMedian), String(h.missedVblanks), f(h.vblankHz),
      f(h.p50Ms), f(h.p99Ms), String(h.p50Vblanks), String(h.p99Vblanks),
      `${f(h.wsFramesOutPerFrame, 1)}/${f(h.wsFramesInPerFrame, 1)}`, `${f(h.wsBytesOutPerFrame, 0)}/${f(h.wsBytesInPerFrame, 0)}`,
      f(r.rssPerClientKB, 0), f(h.generatorCpuPct, 0),
    ];
  });
  return table(head, body);
}

export function latchTable(r: LatchRow): string {
  return table(['N', 'samples', 'p50 µs', 'p99 µs', 'max µs', 'fps med', 'missed'], [
    [String(r.n), String(r.samples), f(r.p50Us), f(r.p99Us), f(r.maxUs), f(r.fpsMedian), String(r.missedVblanks)],
  ]);
}

export function observerTable(rows: readonly ObserverRow[]): string {
  return table(
    ['N', 'observers', 'srv CPU%', 'µs/frame', 'fps med', 'extra CPU%/obs', 'extra µs/frame/obs', 'KB/s per obs'],
    rows.map((r) => [
      String(r.n), String(r.observers), f(r.serverCpuPct, 0), f(r.usPerFrame, 0), f(r.fpsMedian),
      f(r.extraPctPerObserver, 2), f(r.extraUsPerFramePerObserver, 1), f(r.bytesPerObserverS / 1024, 0),
    ]),
  );
}

export function memoryTable(r: MemoryRow): string {
  return table(
    ['N', 'seconds', 'RSS base MB', 'RSS MB', 'RSS KB/client', 'RSS slope KB/min', 'ring held/cap', 'ring ev/s', 'bounded'],
    [[
      String(r.n), String(r.seconds), f(r.rssBaselineMB), f(r.rssMB), f(r.rssPerClientKB, 0), f(r.rssSlopeKBPerMin, 0),
      `${r.ringHeld}/${r.ringCapacity}`, f(r.ringEventsPerS, 0), r.ringBounded ? 'yes' : 'NO',
    ]],
  );
}

interface KernelReport {
  results: { label: string; sizeName: string; sizes: { n: number; medianUs: number }[]; exponentOwn: number }[];
  targets: { name: string; medianUs: number | null; limitUs: number; pass: boolean }[];
}

export function kernelTable(k: KernelRows): string {
  if (!k.ok) return `bench:kernel failed: ${String(k.report)}`;
  const r = k.report as KernelReport;
  const rows = r.results.map((c) => [
    c.label,
    c.sizes.map((s) => `${c.sizeName}=${s.n}: ${s.medianUs.toFixed(2)}`).join('  '),
    f(c.exponentOwn, 2),
  ]);
  return table(['kernel operation', 'median µs', 'b own'], rows);
}

export interface TargetLine {
  status: 'PASS' | 'FAIL' | 'NOT RUN';
  text: string;
}

/** issue 8's targets against what this run measured. */
export function targets(res: BenchResults): TargetLine[] {
  const out: TargetLine[] = [];
  const line = (ok: boolean | null, text: string): void => {
    out.push({ status: ok === null ? 'NOT RUN' : ok ? 'PASS' : 'FAIL', text });
  };
  const rows = res.scale ?? [];
  const big = rows.find((r) => r.handoff.n >= 1000);
  const largest = rows.filter(holds60).map((r) => r.handoff.n).reduce((a, b) => Math.max(a, b), 0);
  line(
    big ? holds60(big) && big.handoff.p99Vblanks <= 2 : null,
    `1,000 clients at 60 Hz, no misses, p99 ≤ 2 vblanks${big ? `: fps min ${f(big.handoff.fpsMin)}, missed ${big.handoff.missedVblanks}, p99 ${big.handoff.p99Vblanks} vbl` : ` (largest N run here: ${rows.at(-1)?.handoff.n ?? 0}; largest holding 60 Hz: ${largest})`}`,
  );
  const ratios = rows.filter((r) => r.ratio !== null);
  const worst = ratios.reduce<ScaleRow | null>((w, r) => (w === null || (r.ratio ?? 0) > (w.ratio ?? 0) ? r : w), null);
  line(worst ? (worst.ratio ?? Infinity) <= 2 : null, `server CPU per client-frame ≤ 2.0× bare ws${worst ? `: worst ${f(worst.ratio, 2)}× at N=${worst.handoff.n}` : ''}`);
  const frames = rows.reduce<ScaleRow | null>((w, r) => (w === null || r.handoff.n > w.handoff.n ? r : w), null);
  line(
    frames ? frames.handoff.wsFramesOutPerFrame <= 1.05 && frames.handoff.wsFramesInPerFrame <= 1.05 : null,
    `one WebSocket frame each way per client-frame${frames ? `: ${f(frames.handoff.wsFramesOutPerFrame, 2)} out, ${f(frames.handoff.wsFramesInPerFrame, 2)} in` : ''}`,
  );
  line(res.latch ? res.latch.p99Us <= 500 : null, `fence signal → update unlocked p99 ≤ 0.5 ms${res.latch ? `: ${f(res.latch.p99Us)} µs at N=${res.latch.n}` : ''}`);
  const rss = res.memory?.rssPerClientKB ?? rows.at(-1)?.rssPerClientKB;
  line(rss === undefined ? null : rss <= 100, `server RSS ≤ 100 KB per client${rss === undefined ? '' : `: ${f(rss, 0)} KB`}`);
  line(
    res.memory ? res.memory.ringBounded && res.memory.seconds >= 600 : null,
    `trace ring at its bound over a 10-minute run${res.memory ? `: ${res.memory.ringHeld}/${res.memory.ringCapacity} after ${res.memory.seconds} s${res.memory.seconds < 600 ? ' (run shorter than 10 minutes: FAIL means not shown)' : ''}` : ''}`,
  );
  const overloaded = rows.filter((r) => r.handoff.fpsMedian < HOLDS_FPS);
  line(
    overloaded.length === 0 ? null : overloaded.every((r) => r.handoff.missedVblanks > 0),
    `overload is visible (missed vblanks counted when fps falls)${overloaded.length ? `: ${overloaded.map((r) => `N=${r.handoff.n} ${f(r.handoff.fpsMedian, 0)} fps, ${r.handoff.missedVblanks} missed, vblank clock ${f(r.handoff.vblankHz, 0)} Hz`).join('; ')}` : ' (no row was overloaded)'}`,
  );
  const held = rows.filter(holds60);
  const b = powerExponent(held.map((r) => ({ x: r.handoff.n, y: r.handoff.serverCpuUs / r.handoff.seconds })));
  line(Number.isFinite(b) ? b <= 1.1 : null, `growth: total server cost ~ N^b, b ≤ 1.1 (rows holding 60 Hz)${Number.isFinite(b) ? `: b = ${b.toFixed(2)}` : ''}`);
  return out;
}

export function formatReport(res: BenchResults): string {
  const out: string[] = [];
  const e = res.env;
  out.push(`handoff scale benchmark: node ${String(e.node)}, ${String(e.cpu)} (${String(e.cores)} cores), server on core ${String(e.serverCores ?? 'any')}, load ${String(e.loadavgStart)} → ${String(e.loadavgEnd)}`);
  if (res.scale) out.push('', '1. compositor scale (explicit-sync clients, 60 Hz)', scaleTable(res.scale));
  if (res.latch) out.push('', '2. latch latency (fence signal → update unlocked)', latchTable(res.latch));
  if (res.observers) out.push('', '3. /trace observers', observerTable(res.observers));
  if (res.memory) out.push('', '4. memory', memoryTable(res.memory));
  if (res.kernel) out.push('', '5. kernel model (bench:kernel --quick)', kernelTable(res.kernel));
  out.push('', 'targets (issue 8, for the full run):');
  for (const t of targets(res)) out.push(`  ${t.status.padEnd(7)} ${t.text}`);
  return out.join('\n');
}

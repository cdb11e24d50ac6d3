/**
 * A small benchmark harness: time one operation at growing sizes, keep the
 * setup out of the timed region, and fit how the cost grows.
 *
 * A case builds a fixture at size n; each fixture.sample() does its own
 * untimed preparation, times exactly the operation with `timeNs`, and
 * returns nanoseconds per operation. A fixture that its samples use up
 * (state consumed) says so with `left()`, and the harness builds a fresh
 * one. Each (case, size) first warms up for a fifth of its budget (JIT:
 * after a deoptimization V8 needs many calls and a background compile to
 * reach optimized code again), then samples until the budget is spent.
 *
 * Two times per sample:
 * - wall: hrtime around the operation. The table's median and p90.
 * - own: wall minus the time the thread sat on a run queue (another
 *   process had the CPU: /proc/thread-self/schedstat's run delay) and
 *   minus V8's GC pauses inside the timed region (perf_hooks 'gc'
 *   entries). On a shared machine preemption hits long operations more
 *   often than short ones, and a large operation that allocates while
 *   thousands of older objects point at its new ones pays scavenges that
 *   grow faster than its work, so both would inflate the exponent of an
 *   O(n log n) operation. Own time is what the n log n flag judges.
 *
 * Growth: the exponent b of time ~ n^b between the two largest sizes
 * (what the asymptote looks like), and a least-squares fit of log(time) on
 * log(n) over every size. O(n) gives 1, O(n log n) about 1.13 between
 * 1,000 and 10,000 (more once the working set leaves the CPU caches),
 * O(n^2) gives 2.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

export interface Fixture {
  /** One measurement: prepare (untimed), time the operation, return ns per operation. */
  sample(): number | Promise<number>;
  /** Samples this fixture can still give (default: unlimited). */
  left?(): number;
}

export interface BenchCase {
  readonly id: string;
  /** Table label. */
  readonly label: string;
  /** Name of the size variable (N, K, M, P). */
  readonly sizeName: string;
  readonly sizes: readonly number[];
  /** Exactly what one operation is. */
  readonly definition: string;
  /** The cost Linux's own algorithm has, for the reader. */
  readonly linux: string;
  /** Wall-clock budget per size, ms (setup included). */
  readonly budgetMs?: number;
  fixture(n: number): Fixture;
}

export interface SizeResult {
  readonly n: number;
  readonly samples: number;
  /** Wall clock, µs per operation. */
  readonly medianUs: number;
  readonly p90Us: number;
  /** Own time (wall minus run-queue waits and GC pauses), µs per operation. */
  readonly medianOwnUs: number;
  /** Share of the timed wall time spent in GC pauses (0..1). */
  readonly gcShare: number;
  /** Share of the timed wall time spent waiting for a CPU (0..1; 0 where not measurable). */
  readonly waitShare: number;
}

export interface CaseResult {
  readonly id: string;
  readonly label: string;
  readonly sizeName: string;
  readonly definition: string;
  readonly linux: string;
  readonly sizes: SizeResult[];
  /** Exponent between the two largest sizes, wall-clock medians. */
  readonly exponentLocal: number;
  /** Least-squares exponent over all sizes, wall-clock medians. */
  readonly exponentFit: number;
  /** Exponent between the two largest sizes, own-time medians: what the flag judges. */
  readonly exponentOwn: number;
  /** exponentOwn above FLAG_EXPONENT: possibly worse than n log n. */
  readonly flagged: boolean;
  /** exponentOwn above WORSE_EXPONENT: worse than n log n beyond what memory effects explain. */
  readonly worse: boolean;
}

/**
 * Above this exponent an operation is flagged: O(n log n) measures about
 * 1.13 between 1,000 and 10,000 elements.
 */
export const FLAG_EXPONENT = 1.3;

/**
 * Above this one it is worse than n log n for certain. In between lie
 * n log n operations whose working set leaves the CPU caches between
 * 1,000 and 10,000 elements (the heap sort of a merge measures 1.25 to
 * 1.45 on the project machine), and an n^1.4 algorithm would too: those
 * flags need a look at the per-element costs (--sizes).
 */
export const WORSE_EXPONENT = 1.5;

// ---- what the timed regions contain besides the operation ----

/** GC pauses from perf_hooks, in performance.now() ms; they arrive a little later, in an immediate. */
type Span = readonly [start: number, end: number];
const gcPauses: Span[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([e.startTime, e.startTime + e.duration]);
});
gcObserver.observe({ entryTypes: ['gc'] });

/**
 * This thread's run delay (ns spent runnable but not running), the second
 * field of /proc/thread-self/schedstat. The kernel adds a wait when the
 * thread is switched back in, so the value is exact whenever it is read.
 * Null where the file is missing (not Linux, no CONFIG_SCHED_INFO).
 */
const schedstat = ((): number | null => {
  try {
    return openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return null;
  }
})();
const schedBuf = Buffer.alloc(96);

function runDelayNs(): number {
  if (schedstat === null) return 0;
  const len = readSync(schedstat, schedBuf, 0, schedBuf.length, 0);
  const fields = schedBuf.toString('latin1', 0, len).split(' ');
  return Number(fields[1] ?? 0);
}

interface Window {
  readonly span: Span;
  readonly waitNs: number;
}

/** The timed windows of the sample being taken. */
let windows: Window[] = [];

/** Stop watching GC and close /proc so the process can exit. */
export function stopHarness(): void {
  gcObserver.disconnect();
  if (schedstat !== null) closeSync(schedstat);
}

/** Time `fn` once; nanoseconds. */
export function timeNs(fn: () => void): number {
  const rd0 = runDelayNs();
  const w0 = performance.now();
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0);
  const w1 = performance.now();
  windows.push({ span: [w0, w1], waitNs: runDelayNs() - rd0 });
  return ns;
}

/** Time an async operation (start to settle); nanoseconds. */
export async function timeNsAsync(fn: () => Promise<unknown>): Promise<number> {
  const rd0 = runDelayNs();
  const w0 = performance.now();
  const t0 = process.hrtime.bigint();
  await fn();
  const ns = Number(process.hrtime.bigint() - t0);
  const w1 = performance.now();
  windows.push({ span: [w0, w1], waitNs: runDelayNs() - rd0 });
  return ns;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Slope of log(y) on log(x), least squares. */
export function logLogSlope(points: readonly { x: number; y: number }[]): number {
  const pts = points.filter((p) => p.x > 0 && p.y > 0);
  if (pts.length < 2) return NaN;
  const lx = pts.map((p) => Math.log(p.x));
  const ly = pts.map((p) => Math.log(p.y));
  const mx = lx.reduce((a, b) => a + b, 0) / pts.length;
  const my = ly.reduce((a, b) => a + b, 0) / pts.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < pts.length; i++) {
    const dx = (lx[i] as number) - mx;
    num += dx * ((ly[i] as number) - my);
    den += dx * dx;
  }
  return num / den;
}

export interface RunOptions {
  /** Scale every budget (0.2 for a quick look). */
  readonly budgetScale: number;
  readonly minSamples: number;
  readonly maxSamples: number;
  /** Called after each size, for progress on stderr. */
  readonly progress?: (c: BenchCase, r: SizeResult, ms: number) => void;
}

export const defaultRunOptions: RunOptions = { budgetScale: 1, minSamples: 5, maxSamples: 1001 };

interface Sample {
  readonly ns: number;
  readonly windows: Window[];
}

async function takeSample(next: () => number | Promise<number>): Promise<Sample> {
  windows = [];
  const ns = await next();
  return { ns, windows };
}

function overlapMs(a: Span, b: Span): number {
  return Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
}

/** Let perf_hooks deliver the GC entries of what just ran. */
async function flushGcEntries(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  for (const e of gcObserver.takeRecords()) gcPauses.push([e.startTime, e.startTime + e.duration]);
}

async function measureSize(c: BenchCase, n: number, opts: RunOptions): Promise<SizeResult> {
  const budget = (c.budgetMs ?? 1500) * opts.budgetScale;
  const start = performance.now();
  let fixture = c.fixture(n);
  const next = (): number | Promise<number> => {
    if (fixture.left && fixture.left() <= 0) fixture = c.fixture(n);
    return fixture.sample();
  };
  const warmEnd = start + budget / 5;
  for (let i = 0; i < 20_000 && (i < 2 || performance.now() < warmEnd); i++) await takeSample(next);
  await flushGcEntries();
  gcPauses.length = 0;
  const samples: Sample[] = [];
  const end = performance.now() + budget * 0.8;
  while (samples.length < opts.maxSamples && (samples.length < opts.minSamples || performance.now() < end)) {
    samples.push(await takeSample(next));
  }
  await flushGcEntries();
  // Per sample, the share of its timed windows that was GC or waiting.
  let timedNs = 0;
  let gcNs = 0;
  let waitNs = 0;
  const own = samples.map((s) => {
    let win = 0;
    let paused = 0;
    let waited = 0;
    for (const w of s.windows) {
      win += (w.span[1] - w.span[0]) * 1e6;
      for (const g of gcPauses) paused += overlapMs(w.span, g) * 1e6;
      waited += w.waitNs;
    }
    timedNs += win;
    gcNs += paused;
    waitNs += waited;
    // (A pause during which the thread was also preempted would count
    // twice; the clamp keeps that rare case from going negative.)
    const off = Math.min(win, paused + waited);
    return win > 0 ? s.ns * (1 - off / win) : s.ns;
  });
  gcPauses.length = 0;
  const wall = samples.map((s) => s.ns).sort((a, b) => a - b);
  own.sort((a, b) => a - b);
  return {
    n,
    samples: samples.length,
    medianUs: median(wall) / 1000,
    p90Us: percentile(wall, 90) / 1000,
    medianOwnUs: median(own) / 1000,
    gcShare: timedNs > 0 ? gcNs / timedNs : 0,
    waitShare: timedNs > 0 ? waitNs / timedNs : 0,
  };
}

/**
 * Run every case a little at its small sizes first, so every case is then
 * measured after the JIT has seen all of them (the fence kinds, the code
 * paths): otherwise a case's figures depend on which cases ran before it.
 */
export async function warmUpAll(cases: readonly BenchCase[], perCaseMs = 150): Promise<void> {
  for (const c of cases) {
    const end = performance.now() + perCaseMs;
    for (const n of c.sizes.filter((x) => x <= 100)) {
      let fixture = c.fixture(n);
      for (let i = 0; i < 200 && performance.now() < end; i++) {
        if (fixture.left && fixture.left() <= 0) fixture = c.fixture(n);
        await fixture.sample();
      }
    }
  }
}

export async function runCase(c: BenchCase, opts: RunOptions = defaultRunOptions): Promise<CaseResult> {
  const sizes: SizeResult[] = [];
  for (const n of c.sizes) {
    const t0 = performance.now();
    const r = await measureSize(c, n, opts);
    sizes.push(r);
    opts.progress?.(c, r, performance.now() - t0);
  }
  const wall = sizes.map((s) => ({ x: s.n, y: s.medianUs }));
  const own = sizes.map((s) => ({ x: s.n, y: s.medianOwnUs }));
  const exponentOwn = logLogSlope(own.slice(-2));
  return {
    id: c.id,
    label: c.label,
    sizeName: c.sizeName,
    definition: c.definition,
    linux: c.linux,
    sizes,
    exponentLocal: logLogSlope(wall.slice(-2)),
    exponentFit: logLogSlope(wall),
    exponentOwn,
    flagged: exponentOwn > FLAG_EXPONENT,
    worse: exponentOwn > WORSE_EXPONENT,
  };
}

// ---- output ----

function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 100) return us.toFixed(0);
  if (us >= 10) return us.toFixed(1);
  return us.toFixed(2);
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/** The table: one row per case, median / p90 in µs per size, then the exponents. */
export function formatTable(results: readonly CaseResult[]): string {
  const allSizes = [...new Set(results.flatMap((r) => r.sizes.map((s) => s.n)))].sort((a, b) => a - b);
  const labelW = Math.max(9, ...results.map((r) => r.label.length));
  const colW = 21;
  const head =
    pad('operation', labelW) +
    allSizes.map((n) => pad(`n=${n.toLocaleString('en-US')}`, colW, true)).join('') +
    pad('b', 7, true) +
    pad('b fit', 7, true) +
    pad('b own', 7, true) +
    pad('GC', 5, true) +
    pad('wait', 6, true);
  const lines = [head, '-'.repeat(head.length)];
  for (const r of results) {
    const cells = allSizes.map((n) => {
      const s = r.sizes.find((x) => x.n === n);
      return pad(s ? `${fmtUs(s.medianUs)} / ${fmtUs(s.p90Us)}` : '', colW, true);
    });
    const last = r.sizes[r.sizes.length - 1];
    const pct = (x: number | undefined): string => (x === undefined ? '' : `${Math.round(x * 100)}%`);
    lines.push(
      pad(r.label, labelW) +
        cells.join('') +
        pad(r.exponentLocal.toFixed(2), 7, true) +
        pad(r.exponentFit.toFixed(2), 7, true) +
        pad(r.exponentOwn.toFixed(2), 7, true) +
        pad(pct(last?.gcShare), 5, true) +
        pad(pct(last?.waitShare), 6, true) +
        (r.worse ? '  WORSE THAN n log n' : r.flagged ? `  above ${FLAG_EXPONENT}: check` : ''),
    );
  }
  lines.push('');
  lines.push('cells: median / p90, µs per operation (ms where marked), wall clock.');
  lines.push('b: exponent of time ~ n^b between the two largest sizes; b fit: least squares over all sizes;');
  lines.push('b own: as b, on own time (wall minus GC pauses and run-queue waits in the timed region);');
  lines.push('GC, wait: their shares of the timed wall time at the largest size.');
  lines.push(`Flags on b own: above ${FLAG_EXPONENT} "check" (n log n is ~1.13; cache effects reach ~1.45), above ${WORSE_EXPONENT} worse.`);
  return lines.join('\n');
}

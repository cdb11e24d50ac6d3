/**
 * `npm run bench`: how handoff holds up as clients are added (issue 8).
 *
 *   npm run bench                       every part, sizes for this machine
 *   npm run bench -- scale latch        only these parts
 *   npm run bench -- --n=1,10,100 --seconds=10
 *   npm run bench -- --full             the sizes (N to 2,000; 10-minute memory run)
 *   npm run bench -- --json             JSON on stdout instead of the table
 *   npm run bench -- scale --n=50 --profile[=DIR]   V8 CPU profile of the server
 *                                       (bench/results/profiles/; read with profile-top.ts)
 *   npm run bench:scale                 part 1 only
 *
 * Parts: scale, latch, observers, memory, kernel (parts.ts). Progress goes
 * to stderr; the results also go to bench/results/scale-<time>.json. The
 * exit status is 0 whatever the figures (targets are printed, not
 * enforced: timings on a shared machine are noisy); 2 on bad arguments.
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { corePlan } from './rpc';
import { runKernel, runLatch, runMemory, runObservers, runScale } from './parts';
import { formatReport, targets, type BenchResults } from './report';
import type { SessionOptions } from './session';

export const PARTS = ['scale', 'latch', 'observers', 'memory', 'kernel'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  parts: Part[];
  ns: number[];
  seconds: number;
  bare: boolean;
  latchN: number;
  observerN: number;
  observerCounts: number[];
  memoryN: number;
  memorySeconds: number;
  perGenerator: number;
  warmupS: number;
  json: boolean;
  full: boolean;
  /** Write a V8 CPU profile of each handoff server process into this folder. */
  profileDir: string | null;
}

/**
 * Sizes by machine: the full list needs cores to spare for the
 * generators. On a small machine (≤ 4 cores) the defaults fit in a few
 * minutes; --full asks for the sizes anyway.
 */
export function defaultOptions(cores: number, full: boolean): BenchOptions {
  const big = full || cores > 4;
  return {
    parts: [...PARTS],
    ns: big ? [1, 10, 100, 250, 500, 1000, 2000] : [1, 10, 50, 100],
    seconds: big ? 10 : 5,
    bare: true,
    latchN: big ? 100 : 50,
    observerN: big ? 100 : 50,
    observerCounts: [0, 10, 50],
    memoryN: big ? 100 : 50,
    memorySeconds: big ? 600 : 30,
    perGenerator: 50,
    warmupS: 2,
    json: false,
    full: big,
    profileDir: null,
  };
}

const USAGE = `usage: npm run bench -- [${PARTS.join('|')} ...] [--n=1,10,100] [--seconds=S] [--full] [--json] [--no-bare] [--profile[=DIR]]
       [--latch-n=N] [--observer-n=N] [--observers=0,10,50] [--memory-n=N] [--memory-seconds=S] [--per-generator=K] [--warmup=S]`;

export function parseArgs(argv: readonly string[], cores: number): BenchOptions | string {
  const full = argv.includes('--full');
  const o = defaultOptions(cores, full);
  const parts: Part[] = [];
  const ints = (v: string, lo: number): number[] | null => {
    const xs = v.split(',').map((s) => Number(s.trim()));
    return xs.length > 0 && xs.every((x) => Number.isInteger(x) && x >= lo) ? xs : null;
  };
  for (const arg of argv) {
    if ((PARTS as readonly string[]).includes(arg)) {
      parts.push(arg as Part);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const v = eq >= 0 ? arg.slice(eq + 1) : '';
    const one = (lo: number): number | null => {
      const xs = ints(v, lo);
      return xs && xs.length === 1 ? xs[0]! : null;
    };
    const num = (lo: number): number | null => (v !== '' && Number.isFinite(Number(v)) && Number(v) >= lo ? Number(v) : null);
    let ok = true;
    switch (flag) {
      case '--full':
        break;
      case '--json':
        o.json = true;
        break;
      case '--no-bare':
        o.bare = false;
        break;
      case '--profile':
        o.profileDir = v || fileURLToPath(new URL('../results/profiles', import.meta.url));
        break;
      case '--n': {
        const xs = ints(v, 1);
        if (xs) o.ns = xs;
        else ok = false;
        break;
      }
      case '--observers': {
        const xs = ints(v, 0);
        if (xs) o.observerCounts = xs;
        else ok = false;
        break;
      }
      case '--seconds':
      case '--memory-seconds':
      case '--warmup': {
        const x = num(flag === '--warmup' ? 0 : 0.5);
        if (x === null) ok = false;
        else if (flag === '--seconds') o.seconds = x;
        else if (flag === '--memory-seconds') o.memorySeconds = x;
        else o.warmupS = x;
        break;
      }
      case '--latch-n':
      case '--observer-n':
      case '--memory-n':
      case '--per-generator': {
        const x = one(1);
        if (x === null) ok = false;
        else if (flag === '--latch-n') o.latchN = x;
        else if (flag === '--observer-n') o.observerN = x;
        else if (flag === '--memory-n') o.memoryN = x;
        else o.perGenerator = x;
        break;
      }
      default:
        ok = false;
    }
    if (!ok) return `bad argument ${JSON.stringify(arg)}\n${USAGE}`;
  }
  if (parts.length > 0) o.parts = parts;
  return o;
}

function cpuModel(): string {
  return os.cpus()[0]?.model ?? 'unknown';
}

const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** Run the selected parts; `progress` gets a line about once a second. */
export async function runBench(o: BenchOptions, progress?: (line: string) => void): Promise<BenchResults> {
  const plan = corePlan();
  const opts: SessionOptions = {
    perGenerator: o.perGenerator,
    warmupS: o.warmupS,
    ...(progress ? { progress } : {}),
    ...(o.profileDir !== null ? { serverNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] } : {}),
  };
  const started = performance.now();
  const res: BenchResults = {
    env: {
      node: process.version,
      cpu: cpuModel(),
      cores: plan.cores,
      serverCores: plan.server,
      loadCores: plan.load,
      loadavgStart: load(),
      refreshHz: 60,
      options: o,
    },
  };
  const note = (s: string): void => progress?.(s);
  if (o.parts.includes('scale')) {
    res.scale = [];
    for (const n of o.ns) {
      note(`scale: N=${n} starting (load ${load()})`);
      res.scale.push(...(await runScale([n], o.seconds, o.bare, opts)));
    }
  }
  if (o.parts.includes('latch')) {
    note(`latch: N=${o.latchN} starting`);
    res.latch = await runLatch(o.latchN, o.seconds, opts);
  }
  if (o.parts.includes('observers')) {
    note(`observers: N=${o.observerN} starting`);
    res.observers = await runObservers(o.observerN, o.observerCounts, o.seconds, opts);
  }
  if (o.parts.includes('memory')) {
    note(`memory: N=${o.memoryN} for ${o.memorySeconds} s starting`);
    res.memory = await runMemory(o.memoryN, o.memorySeconds, opts);
  }
  if (o.parts.includes('kernel')) {
    note('kernel: bench:kernel --quick');
    res.kernel = await runKernel(true);
  }
  res.env.loadavgEnd = load();
  res.env.wallSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
  return res;
}

function saveResults(res: BenchResults): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const path = `${dir}scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(path, `${JSON.stringify({ ...res, targets: targets(res) }, null, 2)}\n`);
  return path;
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2), os.availableParallelism());
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed}\n`);
    return 2;
  }
  // The orchestrator stays off the server's core too.
  const plan = corePlan();
  if (plan.load !== null) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', plan.load, String(process.pid)], { stdio: 'ignore' });
    } catch {
      // unpinned: still measured
    }
  }
  const tty = process.stderr.isTTY;
  if (!parsed.full) {
    process.stderr.write(
      `${plan.cores} cores: running the small-machine sizes (N = ${parsed.ns.join(', ')}); the issue's full list (to 2,000, 10-minute memory run) is --full, for a machine with cores to spare\n`,
    );
  }
  const res = await runBench(parsed, (line) => process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`));
  if (tty) process.stderr.write('\r\x1b[K');
  const path = saveResults(res);
  if (parsed.json) process.stdout.write(`${JSON.stringify({ ...res, targets: targets(res) }, null, 2)}\n`);
  else process.stdout.write(`${formatReport(res)}\n\nresults: ${path}\n`);
  return 0;
}

// Run as a script (npm run bench), not when a test imports runBench.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}

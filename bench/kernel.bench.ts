/**
 * `npm run bench:kernel`: per-operation costs of the kernel model at
 * growing sizes, the growth exponent of each, and issue 2's two targets.
 *
 *   npm run bench:kernel                 table (progress on stderr)
 *   npm run bench:kernel -- --json       machine-readable results on stdout
 *   npm run bench:kernel -- --quick      a fifth of the time budget (noisier)
 *   npm run bench:kernel -- --only=merge,resv-export
 *   npm run bench:kernel -- --only=merge --sizes=1000,3000,10000,30000
 *   npm run bench:kernel -- --check      exit 1 if a target fails or an
 *                                        operation is WORSE THAN n log n
 *
 * Definitions of every row: bench/kernel-cases.ts and docs/kernel.md
 * (## Performance). Without --check the exit status is 0 whatever the
 * figures: a report, not a test (timings on a shared machine are noisy).
 */
import os from 'node:os';
import { CASES } from './kernel-cases';
import {
  defaultRunOptions,
  formatTable,
  runCase,
  stopHarness,
  warmUpAll,
  FLAG_EXPONENT,
  WORSE_EXPONENT,
  type CaseResult,
  type RunOptions,
} from './harness';

interface Target {
  readonly name: string;
  readonly caseId: string;
  readonly n: number;
  readonly limitUs: number;
}

/** Issue 2: "export from a buffer with 1,000 fences and a 1,000-way merge each under 200 µs median". */
const TARGETS: readonly Target[] = [
  { name: 'export RW from a buffer with 1,000 fences', caseId: 'resv-export', n: 1000, limitUs: 200 },
  { name: '1,000-way merge (SYNC_IOC_MERGE to 1,000 fences)', caseId: 'merge', n: 1000, limitUs: 200 },
];

interface TargetResult extends Target {
  readonly medianUs: number | null;
  readonly pass: boolean;
}

function checkTargets(results: readonly CaseResult[]): TargetResult[] {
  return TARGETS.map((t) => {
    const s = results.find((r) => r.id === t.caseId)?.sizes.find((x) => x.n === t.n);
    const medianUs = s ? s.medianUs : null;
    return { ...t, medianUs, pass: medianUs !== null && medianUs < t.limitUs };
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flags = ['--json', '--quick', '--check'];
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const strict = args.includes('--check');
  const value = (name: string): string | undefined => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  const only = value('--only')?.split(',');
  const sizes = value('--sizes')?.split(',').map(Number);
  const unknown = args.filter((a) => !flags.includes(a) && !a.startsWith('--only=') && !a.startsWith('--sizes='));
  const badSizes = sizes !== undefined && !sizes.every((n) => Number.isInteger(n) && n >= 2);
  if (unknown.length > 0 || badSizes) {
    process.stderr.write(
      `bad argument(s): ${[...unknown, ...(badSizes ? ['--sizes'] : [])].join(' ')}\n` +
        'usage: kernel.bench.ts [--json] [--quick] [--check] [--only=id,id] [--sizes=n,n (integers >= 2)]\n',
    );
    return 2;
  }
  const selected = only ? CASES.filter((c) => only.includes(c.id)) : CASES;
  const cases = sizes ? selected.map((c) => ({ ...c, sizes })) : selected;
  if (cases.length === 0) {
    process.stderr.write(`no case matches; ids: ${CASES.map((c) => c.id).join(', ')}\n`);
    return 2;
  }

  const opts: RunOptions = {
    ...defaultRunOptions,
    budgetScale: quick ? 0.2 : 1,
    progress: (c, r, ms) =>
      process.stderr.write(
        `  ${c.id} ${c.sizeName}=${r.n}: median ${r.medianUs.toFixed(2)} µs (own ${r.medianOwnUs.toFixed(2)}; GC ${(r.gcShare * 100).toFixed(0)}%, wait ${(r.waitShare * 100).toFixed(0)}%), p90 ${r.p90Us.toFixed(2)} µs, ${r.samples} samples (${(ms / 1000).toFixed(1)} s)\n`,
      ),
  };

  const started = performance.now();
  await warmUpAll(CASES, quick ? 50 : 150);
  const results: CaseResult[] = [];
  for (const c of cases) results.push(await runCase(c, opts));
  const wallS = (performance.now() - started) / 1000;
  stopHarness();
  const targets = checkTargets(results);
  const worse = results.filter((r) => r.worse);
  const check = results.filter((r) => r.flagged && !r.worse);

  const env = {
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    quick,
    wallSeconds: Number(wallS.toFixed(1)),
  };

  if (json) {
    process.stdout.write(`${JSON.stringify({ env, flagExponent: FLAG_EXPONENT, worseExponent: WORSE_EXPONENT, results, targets }, null, 2)}\n`);
  } else {
    const out: string[] = [];
    out.push(`kernel model benchmark: node ${env.node}, ${env.cpu} (${env.cores} cores), load ${env.loadavg.join(' ')}`);
    out.push('');
    out.push(formatTable(results));
    out.push('');
    out.push('targets (issue 2):');
    for (const t of targets) {
      const got = t.medianUs === null ? 'not measured' : `${t.medianUs.toFixed(1)} µs median`;
      out.push(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${got} (limit ${t.limitUs} µs)`);
    }
    const why = (r: CaseResult): string => `${r.label} (b own ${r.exponentOwn.toFixed(2)}; Linux: ${r.linux})`;
    if (worse.length === 0 && check.length === 0) {
      out.push(`  PASS  no operation grows faster than n log n (every b own <= ${FLAG_EXPONENT})`);
    }
    if (worse.length > 0) out.push(`  FAIL  worse than n log n (b own > ${WORSE_EXPONENT}): ${worse.map(why).join('; ')}`);
    if (check.length > 0) {
      out.push(`  CHECK b own in (${FLAG_EXPONENT}, ${WORSE_EXPONENT}], n log n plus cache effects or worse: ${check.map(why).join('; ')}`);
    }
    out.push('');
    out.push(`${wallS.toFixed(1)} s; definitions of every row: docs/kernel.md, "Performance"`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return strict && !(targets.every((t) => t.pass) && worse.length === 0) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  },
);

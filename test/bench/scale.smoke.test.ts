/**
 * `npm run bench` must keep working: every part but the kernel group (its
 * own smoke test is kernel-bench.smoke.test.ts) runs for real — server and
 * generator processes, the bare ws replay, /trace observers — with two
 * clients for about a second, and gives finite figures. No timing is
 * asserted: the targets are for the full run and are only printed.
 */
import { describe, expect, it } from 'vitest';
import { defaultOptions, parseArgs, runBench } from '../../bench/scale/main';
import { formatReport, targets } from '../../bench/scale/report';
import { parseMetrics } from '../../bench/scale/session';
import { percentile, powerExponent } from '../../bench/scale/stats';

describe('bench options', () => {
  it('defaults to the small sizes on a small machine and the issue sizes on a big one', () => {
    expect(defaultOptions(2, false).ns).toEqual([1, 10, 50, 100]);
    expect(defaultOptions(32, false).ns.at(-1)).toBe(2000);
    expect(defaultOptions(2, true).memorySeconds).toBe(600);
  });

  it('parses parts and flags, and refuses what it does not know', () => {
    const o = parseArgs(['scale', '--n=1,10', '--seconds=3', '--json', '--no-bare'], 2);
    expect(typeof o).toBe('object');
    if (typeof o === 'string') return;
    expect(o.parts).toEqual(['scale']);
    expect(o.ns).toEqual([1, 10]);
    expect(o.seconds).toBe(3);
    expect(o.json).toBe(true);
    expect(o.bare).toBe(false);
    expect(parseArgs(['--n=0'], 2)).toMatch(/bad argument/);
    expect(parseArgs(['--frobnicate'], 2)).toMatch(/usage/);
  });

  it('reads the compositor counters from /metrics text', () => {
    const text = [
      '# HELP handoff_frames_presented_total Surface commits presented on an output.',
      '# TYPE handoff_frames_presented_total counter',
      'handoff_frames_presented_total 1234',
      'handoff_frames_missed_total{output="virtual-1"} 5',
      'handoff_frames_missed_total{output="virtual-2"} 2',
    ].join('\n');
    expect(parseMetrics(text)).toEqual({ presented: 1234, missed: 7 });
  });

  it('has the statistics the report uses', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(powerExponent([{ x: 10, y: 100 }, { x: 100, y: 10_000 }])).toBeCloseTo(2, 6);
  });
});

describe('bench smoke run', () => {
  it('runs scale, latch, observers and memory with two clients and reports finite figures', { timeout: 240_000 }, async () => {
    const o = {
      ...defaultOptions(2, false),
      parts: ['scale', 'latch', 'observers', 'memory'] as const,
      ns: [2],
      seconds: 1,
      warmupS: 0.5,
      latchN: 2,
      observerN: 2,
      observerCounts: [0, 2],
      memoryN: 2,
      memorySeconds: 1,
    };
    const res = await runBench({ ...o, parts: [...o.parts] });

    const row = res.scale?.[0];
    expect(row?.handoff.n).toBe(2);
    expect(row!.handoff.presented).toBeGreaterThan(0);
    // An explicit client-frame needs at least one frame each way (commit; frame done).
    expect(row!.handoff.wsFramesOutPerFrame).toBeGreaterThanOrEqual(1);
    expect(row!.handoff.wsFramesInPerFrame).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(row!.handoff.usPerFrame)).toBe(true);
    expect(row!.bare?.frames).toBeGreaterThan(0);
    expect(Number.isFinite(row!.ratio ?? Number.NaN)).toBe(true);

    expect(res.latch?.samples).toBeGreaterThan(0);
    expect(Number.isFinite(res.latch!.p99Us)).toBe(true);

    expect(res.observers?.map((r) => r.observers)).toEqual([0, 2]);
    expect(res.observers![1]!.bytesPerObserverS).toBeGreaterThan(0);

    expect(res.memory?.ringBounded).toBe(true);
    expect(res.memory!.ringHeld).toBeLessThanOrEqual(res.memory!.ringCapacity);

    const lines = targets(res);
    expect(lines.length).toBe(8);
    for (const l of lines) expect(['PASS', 'FAIL', 'NOT RUN']).toContain(l.status);
    expect(formatReport(res)).toContain('targets (issue 8');
  });
});

/**
 * `npm run bench:kernel` must keep working: every case of
 * bench/kernel-cases.ts runs through the real harness at tiny sizes with a
 * tiny budget, and gives finite numbers. No timing is asserted (timings
 * never go in tests); a case whose fixture or ioctls break fails here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatTable, runCase, stopHarness, type RunOptions } from '../../bench/harness';
import { CASES } from '../../bench/kernel-cases';

/** Two sizes, so the growth exponents are computed too. */
const SIZES = [2, 5];
/** About 2 ms per size; the harness still takes its 2 warm-up and 2 measured samples. */
const QUICK: RunOptions = { budgetScale: 0.0015, minSamples: 2, maxSamples: 3 };

describe('bench:kernel smoke run', () => {
  afterAll(() => stopHarness());

  it('has cases, with distinct ids', () => {
    expect(CASES.length).toBeGreaterThan(0);
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
  });

  for (const c of CASES) {
    it(`case ${c.id} runs at ${c.sizeName} = ${SIZES.join(', ')} and reports finite figures`, async () => {
      const r = await runCase({ ...c, sizes: SIZES }, QUICK);
      expect(r.sizes.map((s) => s.n)).toEqual(SIZES);
      for (const s of r.sizes) {
        expect(s.samples).toBeGreaterThanOrEqual(QUICK.minSamples);
        for (const v of [s.medianUs, s.p90Us, s.medianOwnUs, s.gcShare, s.waitShare]) {
          expect(Number.isFinite(v) && v >= 0, `${c.id} n=${s.n}: ${v}`).toBe(true);
        }
      }
      // An exponent needs positive medians; own time can be 0 if a sample was all GC or preemption.
      if (r.sizes.every((s) => s.medianUs > 0)) expect(Number.isFinite(r.exponentLocal) && Number.isFinite(r.exponentFit)).toBe(true);
      if (r.sizes.every((s) => s.medianOwnUs > 0)) expect(Number.isFinite(r.exponentOwn)).toBe(true);
      expect(formatTable([r])).toContain(c.label);
    });
  }
});

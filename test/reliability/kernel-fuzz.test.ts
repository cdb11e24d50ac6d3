/**
 * The kernel-channel fuzzer, quick: a few thousand random calls from three
 * processes (npm run test:reliability runs many more). A failure names
 * its seed; rerun with RELIABILITY_SEED=<seed>.
 */
import { describe, expect, it } from 'vitest';
import { runKernelFuzz } from './kernel-fuzz';
import { seedFromEnv, withSeed } from './rng';

describe('kernel-channel fuzzer', () => {
  for (const seed of [seedFromEnv(9001), 9002, 9003]) {
    it(`random calls, structs, fds and bigints give errno or protocol errors only (seed ${seed})`, async () => {
      const r = await runKernelFuzz({ seed, calls: 2500 });
      try {
        expect(r.internalErrors).toEqual([]);
        expect(r.invariantViolations).toEqual([]);
        expect(r.leaked).toEqual({ fds: 0, pages: 0, processes: 0 });
        expect(r.ok + r.errnos + r.protocolErrors).toBeGreaterThan(r.calls / 2);
      } catch (err) {
        throw withSeed(seed, 'kernel-channel fuzz', err);
      }
    });
  }
});

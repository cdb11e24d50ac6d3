/**
 * The wire fuzzer, quick: ~1,000 hostile frames against a live server on
 * 127.0.0.1 while a good client presents (npm run test:reliability sends
 * ≥ 100,000). A failure names its seed; rerun with RELIABILITY_SEED=<seed>.
 */
import { describe, expect, it } from 'vitest';
import { runWireFuzz } from './wire-fuzz';
import { seedFromEnv, withSeed } from './rng';

describe('wire fuzzer against a live server', () => {
  const seed = seedFromEnv(4242);
  it(`random, mutated and spliced frames end hostile clients cleanly; the good client keeps presenting (seed ${seed})`, async () => {
    const r = await runWireFuzz({ seed, frames: 1000, concurrency: 6 });
    try {
      expect(r.internalErrors).toEqual([]);
      expect(r.goodError).toBeNull();
      expect(r.goodPresentedDuring).toBeGreaterThan(0);
      expect(r.goodFramesLost).toBe(0);
      expect(r.leaked).toEqual({ fds: 0, processes: 0, pages: 0 });
      expect(r.leakedObjects).toBe(0);
      expect(r.connections).toBeGreaterThan(20);
      expect(r.refused).toBeGreaterThan(r.connections / 2);
    } catch (err) {
      throw withSeed(seed, 'wire fuzz', err);
    }
  }, 60_000);
});

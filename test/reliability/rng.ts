/**
 * A small seeded PRNG (mulberry32) for the fuzzers: every run is
 * reproducible from its seed, which a failure prints. The seed comes from
 * RELIABILITY_SEED when set, else a fixed default, so `npm test` is
 * deterministic and a soak run can ask for fresh seeds.
 */
export interface Rng {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)]!;
    },
    chance: (p) => next() < p,
  };
}

/** The seed to use: RELIABILITY_SEED, or `fallback`. */
export function seedFromEnv(fallback: number): number {
  const s = process.env.RELIABILITY_SEED;
  return s !== undefined && /^[0-9]+$/.test(s) ? Number(s) : fallback;
}

/** Wrap a failure with the seed that reproduces it. */
export function withSeed(seed: number, what: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const e = new Error(`${what} failed with seed ${seed} (rerun: RELIABILITY_SEED=${seed}): ${msg}`);
  if (err instanceof Error && err.stack) e.stack = `${e.message}\n${err.stack}`;
  return e;
}

/**
 * Seeded property tests for timeline syncobjs:
 * - QUERY never decreases and never exceeds LAST_SUBMITTED, over random
 *   sequences of host signals, device points (sw_sync fences completing in
 *   any order across timelines) and transfers, as long as points are added
 *   in increasing order (an unordered point may legitimately pull QUERY
 *   back to 0; syncobj-timeline.test.ts shows that case);
 * - the model's O(log n) point index answers exactly like the kernel's
 *   chain walks (find_seqno and the QUERY walk), unordered points, shared
 *   chains and garbage collection included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toChain } from '../../shared/kernel/dma-fence-chain';
import { findPoint, findSeqnoSlow, queryPoint, querySlow } from '../../shared/kernel/drm-syncobj-timeline';
import { DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED } from '../../shared/kernel/uapi';
import { SyncobjEnv } from './syncobj-helpers';

const SEED = Number(process.env.FC_SEED ?? 20250611);
const RUNS = Number(process.env.FC_RUNS ?? 150);
const TIMELINES = 3;

type Op =
  | { kind: 'host'; gap: number }
  | { kind: 'device'; tl: number; gap: number }
  | { kind: 'srcDevice'; tl: number; gap: number }
  | { kind: 'transfer'; gap: number; back: number }
  | { kind: 'inc'; tl: number; n: number }
  | { kind: 'unordered'; tl: number; back: number }
  | { kind: 'share' };

const tl = fc.integer({ min: 0, max: TIMELINES - 1 });
const gap = fc.integer({ min: 1, max: 4 });
const orderedOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('host' as const), gap }),
  fc.record({ kind: fc.constant('device' as const), tl, gap }),
  fc.record({ kind: fc.constant('srcDevice' as const), tl, gap }),
  fc.record({ kind: fc.constant('transfer' as const), gap, back: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('inc' as const), tl, n: fc.integer({ min: 1, max: 3 }) }),
);
const anyOp: fc.Arbitrary<Op> = fc.oneof(
  orderedOp,
  fc.record({ kind: fc.constant('unordered' as const), tl, back: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('share' as const) }),
);

/** A world of two syncobjs (dst, src) fed by sw_sync timelines. */
class World {
  readonly env = new SyncobjEnv();
  readonly dst = this.env.create();
  readonly src = this.env.create();
  readonly tls = Array.from({ length: TIMELINES }, () => this.env.timeline());
  readonly tlNext = this.tls.map(() => 1);
  last = { dst: 0n, src: 0n };

  private device(handle: number, point: bigint, t: number): void {
    const value = this.tlNext[t]!++;
    this.env.attachFence(handle, point, this.tls[t] as number, value);
  }

  apply(op: Op): void {
    const env = this.env;
    switch (op.kind) {
      case 'host':
        this.last.dst += BigInt(op.gap);
        expect(env.timelineSignal([this.dst], [this.last.dst])).toBe(0);
        break;
      case 'device':
        this.last.dst += BigInt(op.gap);
        this.device(this.dst, this.last.dst, op.tl);
        break;
      case 'srcDevice':
        this.last.src += BigInt(op.gap);
        this.device(this.src, this.last.src, op.tl);
        break;
      case 'transfer': {
        if (this.last.src === 0n) break;
        const srcPoint = this.last.src > BigInt(op.back) ? this.last.src - BigInt(op.back) : 1n;
        this.last.dst += BigInt(op.gap);
        expect(env.transfer(this.dst, this.last.dst, this.src, srcPoint)).toBe(0);
        break;
      }
      case 'inc':
        env.inc(this.tls[op.tl] as number, op.n);
        break;
      case 'unordered': {
        const point = this.last.dst > BigInt(op.back) ? this.last.dst - BigInt(op.back) : 1n;
        this.device(this.dst, point, op.tl);
        if (point > this.last.dst) this.last.dst = point;
        break;
      }
      case 'share':
        // dst takes src's whole timeline: both heads now share nodes.
        if (env.syncobj(this.src).fence === null) break;
        expect(env.transfer(this.dst, 0n, this.src, 0n)).toBe(0);
        this.last.dst = toChain(env.syncobj(this.dst).fence)?.seqno ?? 0n;
        break;
    }
  }
}

function withSeed(run: () => void): void {
  try {
    run();
  } catch (e) {
    console.error(`syncobj property failed with seed ${SEED} (FC_SEED=${SEED} to replay)`);
    throw e;
  }
}

describe('timeline QUERY properties', () => {
  it(`QUERY never decreases and stays within LAST_SUBMITTED (seed ${SEED})`, () => {
    withSeed(() =>
      fc.assert(
        fc.property(fc.array(orderedOp, { minLength: 1, maxLength: 40 }), (ops) => {
          const w = new World();
          let prev = 0n;
          const check = (): void => {
            const q = w.env.query1(w.dst);
            const submitted = w.env.query1(w.dst, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED);
            expect(q >= prev).toBe(true);
            expect(q <= submitted).toBe(true);
            expect(submitted).toBe(w.last.dst);
            prev = q;
          };
          for (const op of ops) {
            w.apply(op);
            check();
          }
          // Once everything has signaled, the value is the last point.
          w.tls.forEach((t) => w.env.inc(t, 1000));
          check();
          expect(prev).toBe(w.last.dst);
        }),
        { seed: SEED, numRuns: RUNS },
      ),
    );
  });

  it(`the point index agrees with the kernel on long timelines, trimmed and shared (seed ${SEED})`, () => {
    // Long runs of mostly ordered, mostly completing points: the index trims
    // its signaled prefix (64+ nodes) and branches when chains are shared.
    const longOp: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: orderedOp },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('share' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('unordered' as const), tl, back: fc.integer({ min: 0, max: 3 }) }) },
    );
    withSeed(() =>
      fc.assert(
        fc.property(
          fc.array(longOp, { minLength: 100, maxLength: 250 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
          (ops, fractions) => {
            const w = new World();
            for (const op of ops) {
              w.apply(op);
              for (const handle of [w.dst, w.src]) {
                const head = w.env.syncobj(handle).fence;
                if (!head) continue;
                const top = Number(toChain(head)?.seqno ?? 0n) + 1;
                for (const f of fractions) {
                  const point = BigInt(Math.floor(f * top));
                  expect(findPoint(head, point)).toBe(findSeqnoSlow(head, point));
                }
                expect(queryPoint(head)).toBe(querySlow(head));
              }
            }
          },
        ),
        { seed: SEED, numRuns: Math.max(5, Math.floor(RUNS / 10)) },
      ),
    );
  });

  it(`the point index stays exact while it trims a long completed prefix (seed ${SEED})`, () => {
    withSeed(() =>
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 5, maxLength: 30 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
          (incs, fractions) => {
            const env = new SyncobjEnv();
            const h = env.create();
            const swTl = env.timeline();
            const n = 600;
            for (let i = 1; i <= n; i++) env.attachFence(h, BigInt(i), swTl, i);
            for (const [step, k] of incs.entries()) {
              env.inc(swTl, k);
              // The ioctl first (it advances the index), then both lookups.
              const q = env.query1(h);
              const head = env.syncobj(h).fence;
              if (!head) throw new Error('no head');
              expect(q).toBe(querySlow(head));
              for (const f of fractions) {
                const point = BigInt(1 + Math.floor(f * n));
                expect(findPoint(head, point)).toBe(findSeqnoSlow(head, point));
              }
              env.timelineSignal([h], [BigInt(n + 1 + step)]);
            }
          },
        ),
        { seed: SEED, numRuns: Math.max(5, Math.floor(RUNS / 10)) },
      ),
    );
  });

  it(`the point index answers like the kernel's chain walks (seed ${SEED})`, () => {
    withSeed(() =>
      fc.assert(
        fc.property(
          fc.array(anyOp, { minLength: 1, maxLength: 40 }),
          fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 4, maxLength: 4 }),
          (ops, probes) => {
            const w = new World();
            const compare = (handle: number): void => {
              const head = w.env.syncobj(handle).fence;
              if (!head) return;
              // Every point up to just past the head, plus the random probes.
              const top = Number(toChain(head)?.seqno ?? 0n) + 1;
              for (const p of [...Array.from({ length: top + 1 }, (_, i) => i), ...probes]) {
                const point = BigInt(p);
                const fast = findPoint(head, point);
                const slow = findSeqnoSlow(head, point);
                expect(fast).toBe(slow);
              }
              expect(queryPoint(head)).toBe(querySlow(head));
            };
            for (const op of ops) {
              w.apply(op);
              compare(w.dst);
              compare(w.src);
            }
          },
        ),
        { seed: SEED, numRuns: RUNS },
      ),
    );
  });
});

/**
 * Property tests for dma_fence_unwrap_merge and dma_resv_add_fence over
 * random worlds of fences (kernel-sync.md §1.3, §1.4, §3).
 *
 * Fences live on a few contexts, some with 32-bit seqnos starting just
 * below the wrap, some with 64-bit ones. Within a context fences signal in
 * seqno order, as a real timeline does; that is what makes "keep only the
 * latest fence per context" lossless.
 *
 * Seeded: FC_SEED / FC_RUNS override; the seed is printed on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/kernel/clock';
import { KernelCore } from '../../shared/kernel/core';
import * as dmaFence from '../../shared/kernel/dma-fence';
import type { DmaFence, DmaFenceOps } from '../../shared/kernel/dma-fence';
import * as dmaFenceArray from '../../shared/kernel/dma-fence-array';
import * as dmaFenceChain from '../../shared/kernel/dma-fence-chain';
import { merge, unwrap } from '../../shared/kernel/dma-fence-unwrap';
import * as dmaResv from '../../shared/kernel/dma-resv';
import { DmaResvUsage } from '../../shared/kernel/dma-resv';

const SEED = Number(process.env.FC_SEED ?? 20260501);
const RUNS = Number(process.env.FC_RUNS ?? 200);

function check<T>(prop: fc.IProperty<T>): void {
  try {
    fc.assert(prop, { seed: SEED, numRuns: RUNS });
  } catch (e) {
    console.error(`property failed with FC_SEED=${SEED} FC_RUNS=${RUNS}`);
    throw e;
  }
}

const ops32: DmaFenceOps = { driverName: 'mock', timelineName: () => 'tl32', use64bitSeqno: false };
const ops64: DmaFenceOps = { driverName: 'mock', timelineName: () => 'tl64', use64bitSeqno: true };

interface Leaf {
  readonly fence: DmaFence;
  readonly ctx: number;
  /** Position on its timeline: a higher offset signals no earlier. */
  readonly offset: number;
}

interface World {
  core: KernelCore;
  clock: ManualClock;
  leaves: Leaf[];
  /** Signal the next pending fence of context `ctx` (timeline order); false if none. */
  step(ctx: number): boolean;
}

const CONTEXTS = 4;

/** Context i: 32-bit seqnos just below the wrap for even i, 64-bit for odd i. */
function makeWorld(leafSpecs: readonly { ctx: number; offset: number }[]): World {
  const clock = new ManualClock();
  const core = new KernelCore({ clock, legacyReplaceImport: false });
  const contexts = Array.from({ length: CONTEXTS }, () => core.contextAlloc());
  const leaves = leafSpecs.map(({ ctx, offset }) => {
    const wide = ctx % 2 === 1;
    const seqno = wide ? 0xffff_fff0n + BigInt(offset) : BigInt.asUintN(32, 0xffff_fff0n + BigInt(offset));
    return { fence: dmaFence.init(core, wide ? ops64 : ops32, contexts[ctx]!, seqno), ctx, offset };
  });
  const step = (ctx: number): boolean => {
    let next: Leaf | undefined;
    for (const l of leaves) {
      if (l.ctx === ctx && !l.fence.signaled && (!next || l.offset < next.offset)) next = l;
    }
    if (!next) return false;
    // Every fence at this position signals together (duplicates of a point).
    clock.advance(1n + BigInt(next.offset));
    for (const l of leaves) if (l.ctx === ctx && l.offset === next.offset) dmaFence.signal(l.fence);
    return true;
  };
  return { core, clock, leaves, step };
}

const leafSpecsArb = fc.array(fc.record({ ctx: fc.nat(CONTEXTS - 1), offset: fc.nat(30) }), {
  minLength: 1,
  maxLength: 12,
});

type InputSpec = { kind: 'plain'; leaf: number } | { kind: 'array'; leaves: number[] } | { kind: 'chain'; leaves: number[] };

const inputArb: fc.Arbitrary<InputSpec> = fc.oneof(
  fc.record({ kind: fc.constant('plain' as const), leaf: fc.nat() }),
  fc.record({ kind: fc.constant('array' as const), leaves: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('chain' as const), leaves: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }),
);

/** Build one input container; returns it with the leaves it covers. */
function buildInput(world: World, spec: InputSpec): { fence: DmaFence; leaves: Leaf[] } {
  const pick = (i: number) => world.leaves[i % world.leaves.length]!;
  if (spec.kind === 'plain') {
    const leaf = pick(spec.leaf);
    return { fence: leaf.fence, leaves: [leaf] };
  }
  const leaves = spec.leaves.map(pick);
  if (spec.kind === 'array') {
    const core = world.core;
    return { fence: dmaFenceArray.create(core, leaves.map((l) => l.fence), core.contextAlloc(), 1n), leaves };
  }
  let head: DmaFence | null = null;
  for (let i = 0; i < leaves.length; i++) head = dmaFenceChain.init(world.core, head, leaves[i]!.fence, BigInt(i + 1));
  return { fence: head!, leaves };
}

const worldArb = fc.record({
  leafSpecs: leafSpecsArb,
  inputs: fc.array(inputArb, { minLength: 1, maxLength: 5 }),
  /** How many points of each context have signaled before the merge. */
  before: fc.array(fc.nat(6), { minLength: CONTEXTS, maxLength: CONTEXTS }),
  /** Order in which contexts advance after the merge. */
  after: fc.array(fc.nat(CONTEXTS - 1), { maxLength: 40 }),
});

describe('merge properties', () => {
  it('merge waits for exactly the latest pending fence of each context, never a container', () => {
    check(
      fc.property(worldArb, ({ leafSpecs, inputs, before }) => {
        const world = makeWorld(leafSpecs);
        const built = inputs.map((s) => buildInput(world, s));
        before.forEach((n, ctx) => {
          for (let i = 0; i < n; i++) world.step(ctx);
        });
        const covered = new Set(built.flatMap((b) => b.leaves));
        const pending = [...covered].filter((l) => !l.fence.signaled);
        const latestOffset = new Map<number, number>();
        for (const l of pending) latestOffset.set(l.ctx, Math.max(latestOffset.get(l.ctx) ?? -1, l.offset));

        const result = merge(world.core, built.map((b) => b.fence));
        const got = dmaFenceArray.toArray(result) ? [...dmaFenceArray.toArray(result)!.fences] : [result];

        if (pending.length === 0) {
          // As in the kernel, a chain's signaled predecessors are collected
          // by the walk and never seen: only its head fence counts.
          const seen = built.flatMap((b, i) => (inputs[i]!.kind === 'chain' ? b.leaves.slice(-1) : b.leaves));
          const latestTs = seen.reduce((t, l) => (l.fence.timestamp > t ? l.fence.timestamp : t), 0n);
          expect(dmaFence.isStub(result)).toBe(true);
          expect(result.signaled).toBe(true);
          expect(result.timestamp).toBe(latestTs);
          return;
        }
        // One fence per context, the latest pending one, in context order.
        const byFence = new Map(pending.map((l) => [l.fence, l]));
        const gotLeaves = got.map((f) => byFence.get(f));
        expect(gotLeaves.every((l) => l !== undefined)).toBe(true);
        expect(gotLeaves.map((l) => l!.ctx)).toEqual([...latestOffset.keys()].sort((a, b) => a - b));
        for (const l of gotLeaves) expect(l!.offset).toBe(latestOffset.get(l!.ctx));
        for (const f of got) expect(dmaFenceArray.isContainer(f)).toBe(false);
        if (got.length === 1) expect(result).toBe(got[0]);
        else expect(result.seqno).toBe(1n);
      }),
    );
  });

  it('a merged fence is signaled exactly when all of its inputs are', () => {
    check(
      fc.property(worldArb, fc.boolean(), ({ leafSpecs, inputs, before, after }, waited) => {
        const world = makeWorld(leafSpecs);
        const built = inputs.map((s) => buildInput(world, s));
        before.forEach((n, ctx) => {
          for (let i = 0; i < n; i++) world.step(ctx);
        });
        const result = merge(world.core, built.map((b) => b.fence));
        let fired = 0;
        if (waited) dmaFence.onSignaled(result, () => fired++);
        const allInputs = () => built.every((b) => b.leaves.every((l) => l.fence.signaled));
        const agree = () => {
          expect(dmaFence.isSignaled(result)).toBe(allInputs());
          for (const b of built) expect(dmaFence.isSignaled(b.fence)).toBe(b.leaves.every((l) => l.fence.signaled));
          if (waited) expect(fired).toBe(allInputs() ? 1 : 0);
        };
        agree();
        for (const ctx of after) {
          world.step(ctx);
          agree();
        }
        for (let ctx = 0; ctx < CONTEXTS; ctx++) while (world.step(ctx));
        agree();
        expect(result.signaled).toBe(true);
      }),
    );
  });

  it('merging a merge with more fences equals merging everything at once', () => {
    check(
      fc.property(worldArb, fc.nat(), ({ leafSpecs, inputs, before }, cut) => {
        const world = makeWorld(leafSpecs);
        const fences = inputs.map((s) => buildInput(world, s).fence);
        before.forEach((n, ctx) => {
          for (let i = 0; i < n; i++) world.step(ctx);
        });
        const k = cut % (fences.length + 1);
        const nested = merge(world.core, [merge(world.core, fences.slice(0, k)), ...fences.slice(k)]);
        const flat = merge(world.core, fences);
        const leaves = (f: DmaFence) => (f.signaled ? [] : unwrap(f));
        expect(leaves(nested)).toEqual(leaves(flat));
      }),
    );
  });
});

describe('dma-resv add-only property', () => {
  const { KERNEL, WRITE, READ, BOOKKEEP } = DmaResvUsage;
  const USAGES = [KERNEL, WRITE, READ, BOOKKEEP] as const;
  type ResvOp = { k: 'add'; leaf: number; usage: DmaResvUsage } | { k: 'signal'; ctx: number };
  const opsArb = fc.array(
    fc.oneof(
      { arbitrary: fc.record({ k: fc.constant('add' as const), leaf: fc.nat(), usage: fc.constantFrom<DmaResvUsage>(WRITE, READ) }), weight: 4 },
      { arbitrary: fc.record({ k: fc.constant('signal' as const), ctx: fc.nat(CONTEXTS - 1) }), weight: 1 },
    ),
    { maxLength: 30 },
  );
  /** Driver-side setup: fences at any usage before userspace starts importing. */
  const setupArb = fc.array(fc.record({ leaf: fc.nat(), usage: fc.constantFrom<DmaResvUsage>(...USAGES) }), { maxLength: 6 });

  /** g covers f: same context and g cannot signal before f. */
  const covers = (g: DmaFence, f: DmaFence) => g === f || (g.context === f.context && dmaFence.isLater(g, f));

  it('adding at WRITE/READ never uncovers a pending fence at any usage', () => {
    check(
      fc.property(leafSpecsArb, setupArb, opsArb, (leafSpecs, setup, ops) => {
        const world = makeWorld(leafSpecs);
        const resv = dmaResv.create(world.core, 1);
        const pick = (i: number) => world.leaves[i % world.leaves.length]!.fence;
        for (const s of setup) {
          dmaResv.reserveFences(resv, 1);
          dmaResv.addFence(resv, pick(s.leaf), s.usage);
        }
        for (const op of ops) {
          if (op.k === 'signal') {
            world.step(op.ctx);
            continue;
          }
          const before = USAGES.map((u) => dmaResv.getFences(resv, u));
          dmaResv.reserveFences(resv, 1);
          dmaResv.addFence(resv, pick(op.leaf), op.usage);
          USAGES.forEach((u, i) => {
            const now = dmaResv.getFences(resv, u);
            for (const f of before[i]!) expect(now.some((g) => covers(g, f))).toBe(true);
            // Nothing is ever demoted: the new fence is visible at its usage.
            const added = pick(op.leaf);
            if (u >= op.usage && !added.signaled) expect(now).toContain(added);
          });
        }
        expect(world.core.warnings).toEqual([]);
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/kernel/clock';
import { KernelCore } from '../../shared/kernel/core';
import * as dmaFence from '../../shared/kernel/dma-fence';
import * as dmaFenceArray from '../../shared/kernel/dma-fence-array';
import * as dmaFenceChain from '../../shared/kernel/dma-fence-chain';
import { kernelSort, merge, unwrap } from '../../shared/kernel/dma-fence-unwrap';

const mockOps: dmaFence.DmaFenceOps = { driverName: 'mock', timelineName: () => 'mock', use64bitSeqno: false };

function setup() {
  const clock = new ManualClock();
  const core = new KernelCore({ clock, legacyReplaceImport: false });
  const fenceAt = (context: bigint, seqno: bigint) => dmaFence.init(core, mockOps, context, seqno);
  const mock = () => fenceAt(core.contextAlloc(), 1n);
  const array = (...fences: dmaFence.DmaFence[]) => dmaFenceArray.create(core, fences, core.contextAlloc(), 1n);
  const chain = (prev: dmaFence.DmaFence | null, fence: dmaFence.DmaFence) =>
    dmaFenceChain.init(core, prev, fence, 1n);
  return { clock, core, fenceAt, mock, array, chain };
}

describe('dma-fence-unwrap: unwrap', () => {
  it('unwrap of a plain fence is the fence', () => {
    const { mock } = setup();
    const f = mock();
    expect(unwrap(f)).toEqual([f]);
  });

  it('unwrap_array: sees every component of an array', () => {
    const { mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    expect(unwrap(array(f1, f2))).toEqual([f1, f2]);
  });

  it('unwrap_chain: sees the wrapped fence, then a plain prev', () => {
    const { mock, chain } = setup();
    const [f1, f2] = [mock(), mock()];
    expect(unwrap(chain(f1, f2))).toEqual([f2, f1]);
  });

  it('unwrap_chain_array: sees through an array inside a chain', () => {
    const { mock, array, chain } = setup();
    const [f1, f2] = [mock(), mock()];
    expect(unwrap(chain(null, array(f1, f2)))).toEqual([f1, f2]);
  });

  it('unwrap walks every node of a chain, newest first', () => {
    const { mock, chain } = setup();
    const fs = [mock(), mock(), mock()];
    let head: dmaFence.DmaFence | null = null;
    for (const f of fs) head = chain(head, f);
    expect(unwrap(head!)).toEqual([fs[2], fs[1], fs[0]]);
  });

  it('unwrap skips chain predecessors collected because they signaled', () => {
    const { mock, chain } = setup();
    const [f1, f2, f3] = [mock(), mock(), mock()];
    const head = chain(chain(chain(null, f1), f2), f3);
    dmaFence.signal(f2);
    expect(unwrap(head)).toEqual([f3, f1]);
  });
});

describe('dma-fence-unwrap: merge', () => {
  it('unwrap_merge: two fences become an array of both', () => {
    const { core, mock } = setup();
    const [f1, f2] = [mock(), mock()];
    const m = merge(core, [f1, f2]);
    expect(dmaFenceArray.toArray(m)).toBeDefined();
    expect(unwrap(m)).toEqual([f1, f2]);
    expect(m.seqno).toBe(1n);
    expect(m.context).not.toBe(f1.context);
    expect(m.context).not.toBe(f2.context);
  });

  it('unwrap_merge_duplicate: merging a fence with itself is that fence', () => {
    const { core, mock } = setup();
    const f1 = mock();
    expect(merge(core, [f1, f1])).toBe(f1);
  });

  it('merge of one pending and one signaled fence is the pending fence itself', () => {
    const { core, mock } = setup();
    const [f1, f2] = [mock(), mock()];
    dmaFence.signal(f1);
    expect(merge(core, [f1, f2])).toBe(f2);
  });

  it('unwrap_merge_seqno: keeps the later fence per context, sorted by context', () => {
    const { core, fenceAt } = setup();
    const ctx0 = core.contextAlloc();
    const ctx1 = core.contextAlloc();
    const f1 = fenceAt(ctx1, 1n);
    const f2 = fenceAt(ctx1, 2n);
    const f3 = fenceAt(ctx0, 1n);
    expect(unwrap(merge(core, [f1, f2, f3]))).toEqual([f3, f2]);
    expect(unwrap(merge(core, [f2, f1, f3]))).toEqual([f3, f2]);
  });

  it('unwrap_merge_order: an array and a chain of the same fences merge to context order', () => {
    const { core, mock, array, chain } = setup();
    const [f1, f2] = [mock(), mock()];
    const a1 = array(f1, f2);
    const c2 = chain(chain(null, f1), f2);
    expect(unwrap(merge(core, [a1, c2]))).toEqual([f1, f2]);
  });

  it('unwrap_merge_complex: arrays in any order plus the stub merge to one array', () => {
    const { core, mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    const f3 = merge(core, [f1, f2]);
    const f4 = array(f2, f1);
    const f5 = merge(core, [f3, f4, dmaFence.getStub(core)]);
    expect(unwrap(f5)).toEqual([f1, f2]);
  });

  it('unwrap_merge_complex_seqno: the later fence of each context survives', () => {
    const { core, fenceAt, array } = setup();
    const ctx0 = core.contextAlloc();
    const ctx1 = core.contextAlloc();
    const f1 = fenceAt(ctx0, 2n);
    const f2 = fenceAt(ctx1, 1n);
    const f3 = fenceAt(ctx0, 1n);
    const f4 = fenceAt(ctx1, 2n);
    const f7 = merge(core, [array(f1, f2), array(f3, f4)]);
    expect(unwrap(f7)).toEqual([f1, f4]);
  });

  it('merge of signaled fences is a private stub with the latest timestamp', () => {
    const { core, clock, mock } = setup();
    const [f1, f2] = [mock(), mock()];
    clock.advance(100n);
    dmaFence.signal(f2);
    clock.advance(50n);
    dmaFence.signal(f1);
    const t1 = f1.timestamp;
    clock.advance(1000n);
    const m = merge(core, [f2, f1]);
    expect(dmaFence.isStub(m)).toBe(true);
    expect(m).not.toBe(dmaFence.getStub(core));
    expect(m.signaled).toBe(true);
    expect(m.timestamp).toBe(t1);
    expect(dmaFence.driverName(m)).toBe('stub');
  });

  it('merge keeps the later fence across the 32-bit seqno wrap', () => {
    const { core, fenceAt, mock } = setup();
    const ctx = core.contextAlloc();
    const old = fenceAt(ctx, 0xffff_ffffn);
    const wrapped = fenceAt(ctx, 1n);
    const other = mock();
    expect(unwrap(merge(core, [old, wrapped, other]))).toEqual([wrapped, other]);
  });

  it('merge of an array with one pending component left returns that component', () => {
    const { core, mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    const a = array(f1, f2);
    dmaFence.signal(f1);
    expect(merge(core, [a])).toBe(f2);
  });

  it('merge of nothing is a stub timestamped 0', () => {
    const { core } = setup();
    const m = merge(core, []);
    expect(dmaFence.isStub(m)).toBe(true);
    expect(m.timestamp).toBe(0n);
  });

  it('merged array signals once all merged fences signal', () => {
    const { core, mock } = setup();
    const [f1, f2, f3] = [mock(), mock(), mock()];
    const m = merge(core, [f3, merge(core, [f1, f2])]);
    expect(unwrap(m)).toEqual([f1, f2, f3]);
    dmaFence.signal(f1);
    dmaFence.signal(f3);
    expect(dmaFence.isSignaled(m)).toBe(false);
    dmaFence.signal(f2);
    expect(dmaFence.isSignaled(m)).toBe(true);
  });

  // Its cost is measured by `npm run bench:kernel`, not here: timings do not belong in unit tests.
  it('a 1,000-way merge of distinct contexts keeps all 1,000 components', () => {
    const { core, mock } = setup();
    const inputs = Array.from({ length: 1000 }, () => mock());
    // Shuffle deterministically so the sort has work to do.
    for (let i = inputs.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [inputs[i], inputs[j]] = [inputs[j]!, inputs[i]!];
    }
    const leaves = unwrap(merge(core, inputs));
    expect(leaves.length).toBe(1000);
    for (let i = 1; i < leaves.length; i++) expect(leaves[i]!.context > leaves[i - 1]!.context).toBe(true);
  });
});

describe('kernelSort (lib/sort.c heapsort)', () => {
  it('sorts like a reference sort for every small size and many shuffles', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 50);
    for (let n = 0; n < 40; n++) {
      for (let rep = 0; rep < 20; rep++) {
        const v = Array.from({ length: n }, rnd);
        const expected = [...v].sort((a, b) => a - b);
        kernelSort(v, (a, b) => a - b);
        expect(v).toEqual(expected);
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/kernel/clock';
import { KernelCore } from '../../shared/kernel/core';
import * as dmaFence from '../../shared/kernel/dma-fence';
import * as dmaFenceChain from '../../shared/kernel/dma-fence-chain';
import { EINVAL } from '../../shared/kernel/errno';

const mockOps: dmaFence.DmaFenceOps = { driverName: 'mock', timelineName: () => 'mock', use64bitSeqno: false };
const CHAIN_SZ = 4 << 10;

function setup() {
  const clock = new ManualClock();
  const core = new KernelCore({ clock, legacyReplaceImport: false });
  const mock = () => dmaFence.init(core, mockOps, 0n, 0n);
  const chain = (prev: dmaFence.DmaFence | null, fence: dmaFence.DmaFence, seqno: bigint) =>
    dmaFenceChain.init(core, prev, fence, seqno);
  /** fence_chains_init: count nodes, each with signaling enabled, seqnos from seqnoFn. */
  const chains = (count: number, seqnoFn: (i: number) => bigint = (i) => BigInt(i + 1), enable = true) => {
    const fences: dmaFence.DmaFence[] = [];
    const nodes: dmaFenceChain.DmaFenceChain[] = [];
    let tail: dmaFence.DmaFence | null = null;
    for (let i = 0; i < count; i++) {
      const f = mock();
      const node = chain(tail, f, seqnoFn(i));
      fences.push(f);
      nodes.push(node);
      tail = node;
      if (enable) dmaFence.enableSwSignaling(node);
    }
    return { fences, nodes, tail: nodes[nodes.length - 1]! };
  };
  return { clock, core, mock, chain, chains };
}

describe('dma-fence-chain: init', () => {
  it('is named dma_fence_chain / unbound with 64-bit seqnos', () => {
    const { chain, mock } = setup();
    const c = chain(null, mock(), 0x1_0000_0001n);
    expect(dmaFence.driverName(c)).toBe('dma_fence_chain');
    expect(dmaFence.timelineName(c)).toBe('unbound');
    expect(c.ops.use64bitSeqno).toBe(true);
    expect(c.seqno).toBe(0x1_0000_0001n);
    const later = chain(c, mock(), 0x1_0000_0002n);
    expect(dmaFence.isLater(later, c)).toBe(true);
  });

  it('a later point reuses the previous node context and records prev_seqno', () => {
    const { chain, mock } = setup();
    const c1 = chain(null, mock(), 1n);
    const c2 = chain(c1, mock(), 2n);
    expect(c2.context).toBe(c1.context);
    expect(c2.prevSeqno).toBe(1n);
    expect(c2.prev).toBe(c1);
    expect(c1.prevSeqno).toBe(0n);
  });

  it('an unordered point takes a fresh context and max(prev.seqno, seqno)', () => {
    const { chain, mock } = setup();
    const c1 = chain(null, mock(), 1n);
    const c5 = chain(c1, mock(), 5n);
    const c3 = chain(c5, mock(), 3n);
    expect(c3.context).not.toBe(c5.context);
    expect(c3.seqno).toBe(5n);
    expect(c3.prevSeqno).toBe(0n);
    const same = chain(c3, mock(), 5n);
    expect(same.context).not.toBe(c3.context);
    expect(same.seqno).toBe(5n);
  });

  it('a plain prev fence gives a fresh context and keeps the seqno', () => {
    const { chain, mock } = setup();
    const prev = mock();
    const c = chain(prev, mock(), 7n);
    expect(c.context).not.toBe(prev.context);
    expect(c.seqno).toBe(7n);
    expect(c.prevSeqno).toBe(0n);
  });

  it('wrapping a chain node warns', () => {
    const { core, chain, mock } = setup();
    chain(null, chain(null, mock(), 1n), 2n);
    expect(core.warnings).toHaveLength(1);
  });

  it('sanitycheck: a one-node chain signals with its fence', () => {
    const { chain, mock } = setup();
    const f = mock();
    const c = chain(null, f, 1n);
    dmaFence.enableSwSignaling(c);
    dmaFence.signal(f);
    expect(c.signaled).toBe(true);
  });
});

describe('dma-fence-chain: find_seqno (st-dma-fence-chain.c)', () => {
  it('find_seqno: every point of a 64-node chain, itself, and the future', () => {
    const { chains } = setup();
    const fc = chains(64);
    expect(dmaFenceChain.findSeqno(fc.tail, 0n)).toBe(fc.tail);
    for (let i = 0; i < 64; i++) {
      const node = fc.nodes[i]!;
      expect(dmaFenceChain.findSeqno(fc.tail, BigInt(i + 1))).toBe(node);
      expect(dmaFenceChain.findSeqno(node, BigInt(i + 1))).toBe(node);
      expect(dmaFenceChain.findSeqno(node, BigInt(i + 2))).toBe(-EINVAL);
      const prev = dmaFenceChain.findSeqno(node, BigInt(i));
      expect(prev).toBe(i > 0 ? fc.nodes[i - 1] : node);
    }
  });

  it('find_signaled: a signaled, collected point is null or its own node', () => {
    const { chains } = setup();
    const fc = chains(2);
    dmaFence.signal(fc.fences[0]!);
    const found = dmaFenceChain.findSeqno(fc.tail, 1n);
    expect(found === null || found === fc.nodes[0]).toBe(true);
    expect(found).toBeNull();
  });

  it('find_out_of_order: the middle point signaled still resolves to the pending first node', () => {
    const { chains } = setup();
    const fc = chains(3);
    dmaFence.signal(fc.fences[1]!);
    expect(dmaFenceChain.findSeqno(fc.tail, 2n)).toBe(fc.nodes[0]);
  });

  it('find_gap: points 2,4,6.. resolve odd seqnos to the next node', () => {
    const { chains } = setup();
    const fc = chains(64, (i) => BigInt(2 * i + 2));
    for (let i = 0; i < 64; i++) {
      const node = fc.nodes[i]!;
      expect(dmaFenceChain.findSeqno(fc.tail, BigInt(2 * i + 1))).toBe(node);
      expect(dmaFenceChain.findSeqno(node, BigInt(2 * i + 2))).toBe(node);
    }
  });

  it('a plain fence head is -EINVAL for any point but 0', () => {
    const { mock } = setup();
    const f = mock();
    expect(dmaFenceChain.findSeqno(f, 1n)).toBe(-EINVAL);
    expect(dmaFenceChain.findSeqno(f, 0n)).toBe(f);
  });

  it('after an unordered point, lookups stop at the head context', () => {
    const { chain, mock } = setup();
    const c1 = chain(null, mock(), 1n);
    const c5 = chain(c1, mock(), 5n);
    const head = chain(c5, mock(), 3n); // seqno 5, new context
    expect(dmaFenceChain.findSeqno(head, 3n)).toBe(head);
    expect(dmaFenceChain.findSeqno(head, 6n)).toBe(-EINVAL);
  });
});

describe('dma-fence-chain: signaling', () => {
  it('signal_forward: each node signals with its fence, not before', () => {
    const { chains } = setup();
    const fc = chains(64);
    for (let i = 0; i < 64; i++) {
      dmaFence.signal(fc.fences[i]!);
      expect(dmaFence.isSignaled(fc.nodes[i]!)).toBe(true);
      if (i + 1 < 64) expect(dmaFence.isSignaled(fc.nodes[i + 1]!)).toBe(false);
    }
  });

  it('signal_backward: no node signals until the first fence does', () => {
    const { chains } = setup();
    const fc = chains(64);
    for (let i = 63; i >= 0; i--) {
      dmaFence.signal(fc.fences[i]!);
      if (i > 0) expect(dmaFence.isSignaled(fc.nodes[i]!)).toBe(false);
    }
    for (const node of fc.nodes) expect(node.signaled).toBe(true);
  });

  it('without waiters, a node reports signaled lazily once all fences are', () => {
    const { chains } = setup();
    const fc = chains(8, undefined, false);
    for (let i = 7; i >= 1; i--) dmaFence.signal(fc.fences[i]!);
    expect(dmaFence.isSignaled(fc.tail)).toBe(false);
    dmaFence.signal(fc.fences[0]!);
    expect(fc.tail.signaled).toBe(false);
    expect(dmaFence.isSignaled(fc.tail)).toBe(true);
  });

  it('a node with a plain prev waits for that fence too', () => {
    const { chain, mock } = setup();
    const [p, f] = [mock(), mock()];
    const c = chain(p, f, 1n);
    dmaFence.enableSwSignaling(c);
    dmaFence.signal(f);
    expect(c.signaled).toBe(false);
    dmaFence.signal(p);
    expect(c.signaled).toBe(true);
  });

  it('a chain never carries an error', () => {
    const { chain, mock } = setup();
    const f = mock();
    const c = chain(null, f, 1n);
    dmaFence.enableSwSignaling(c);
    dmaFence.setError(f, -EINVAL);
    dmaFence.signal(f);
    expect(dmaFence.getStatus(c)).toBe(1);
  });

  for (const [name, order] of [
    ['wait_forward', (n: number) => Array.from({ length: n }, (_, i) => i)],
    ['wait_backward', (n: number) => Array.from({ length: n }, (_, i) => n - 1 - i)],
    [
      'wait_random',
      (n: number) => {
        const idx = Array.from({ length: n }, (_, i) => i);
        let seed = 7;
        for (let i = n - 1; i > 0; i--) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          const j = seed % (i + 1);
          [idx[i], idx[j]] = [idx[j]!, idx[i]!];
        }
        return idx;
      },
    ],
  ] as const) {
    it(`${name}: a waiter on the tail of ${CHAIN_SZ} nodes wakes exactly at the last fence`, () => {
      const { chains, clock } = setup();
      const fc = chains(CHAIN_SZ);
      let woke = 0;
      expect(dmaFence.addCallback(fc.tail, { func: () => woke++ })).toBe(0);
      const seq = order(CHAIN_SZ);
      seq.forEach((i, k) => {
        clock.advance(1n);
        if (k === seq.length - 1) expect(woke).toBe(0);
        dmaFence.signal(fc.fences[i]!);
      });
      expect(woke).toBe(1);
      expect(fc.tail.timestamp).toBe(clock.now());
      for (const node of fc.nodes) expect(node.signaled).toBe(true);
    });
  }

  it('10,000 waited-on points signaled backwards all signal (no recursion blow-up)', () => {
    const { chains } = setup();
    const n = 10_000;
    const fc = chains(n, undefined, false);
    for (const node of fc.nodes) dmaFence.addCallback(node, { func: () => {} });
    for (let i = n - 1; i >= 0; i--) dmaFence.signal(fc.fences[i]!);
    expect(fc.nodes.every((c) => c.signaled)).toBe(true);
  });
});

describe('dma-fence-chain: walk', () => {
  it('walk collects signaled predecessors and returns the first pending one', () => {
    const { chains, mock } = setup();
    const fc = chains(4, undefined, false);
    dmaFence.signal(fc.fences[1]!);
    dmaFence.signal(fc.fences[2]!);
    expect(dmaFenceChain.walk(fc.tail)).toBe(fc.nodes[0]);
    expect(fc.tail.prev).toBe(fc.nodes[0]);
    dmaFence.signal(fc.fences[0]!);
    expect(dmaFenceChain.walk(fc.tail)).toBeNull();
    expect(fc.tail.prev).toBeNull();
    expect(dmaFenceChain.walk(mock())).toBeNull();
  });

  it('walking a collected 10,000-point timeline goes straight to the pending node', () => {
    const { chains } = setup();
    const n = 10_000;
    const fc = chains(n, undefined, false);
    for (let i = 1; i < n; i++) dmaFence.signal(fc.fences[i]!);
    for (let q = 0; q < 1000; q++) {
      let last: dmaFence.DmaFence = fc.tail;
      for (let it: dmaFence.DmaFence | null = fc.tail; it; it = dmaFenceChain.walk(it)) last = it;
      expect(last).toBe(fc.nodes[0]);
    }
    // Once collected, the walk from the tail is one step.
    expect(fc.tail.prev).toBe(fc.nodes[0]);
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/kernel/clock';
import { KernelCore } from '../../shared/kernel/core';
import * as dmaFence from '../../shared/kernel/dma-fence';
import * as dmaFenceArray from '../../shared/kernel/dma-fence-array';
import * as dmaResv from '../../shared/kernel/dma-resv';
import { DmaResvUsage } from '../../shared/kernel/dma-resv';
import { EINVAL } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';

const { KERNEL, WRITE, READ, BOOKKEEP } = DmaResvUsage;
const USAGES = [KERNEL, WRITE, READ, BOOKKEEP] as const;
const selftestOps: dmaFence.DmaFenceOps = { driverName: 'selftest', timelineName: () => 'selftest', use64bitSeqno: false };

function setup() {
  const clock = new ManualClock();
  const core = new KernelCore({ clock, legacyReplaceImport: false });
  const resv = dmaResv.create(core, 42);
  const fenceAt = (context: bigint, seqno: bigint) => dmaFence.init(core, selftestOps, context, seqno);
  const fence = () => fenceAt(core.contextAlloc(), 1n);
  const add = (f: dmaFence.DmaFence, usage: DmaResvUsage) => {
    expect(dmaResv.reserveFences(resv, 1)).toBe(0);
    dmaResv.addFence(resv, f, usage);
  };
  const slots = () => [...dmaResv.entries(resv)].map((e) => [e.fence, e.usage] as const);
  return { clock, core, resv, fenceAt, fence, add, slots };
}

describe('dma-resv (st-dma-resv.c, for every usage)', () => {
  for (const usage of USAGES) {
    it(`test_signaling at ${dmaResv.usageName(usage)}: pending until the fence signals`, () => {
      const { resv, fence, add } = setup();
      const f = fence();
      add(f, usage);
      expect(dmaResv.testSignaled(resv, usage)).toBe(false);
      dmaFence.signal(f);
      expect(dmaResv.testSignaled(resv, usage)).toBe(true);
    });

    it(`test_for_each at ${dmaResv.usageName(usage)}: one fence with its usage`, () => {
      const { fence, add, slots } = setup();
      const f = fence();
      add(f, usage);
      expect(slots()).toEqual([[f, usage]]);
    });

    it(`test_get_fences at ${dmaResv.usageName(usage)}: returns the fence`, () => {
      const { resv, fence, add } = setup();
      const f = fence();
      add(f, usage);
      expect(dmaResv.getFences(resv, usage)).toEqual([f]);
    });
  }

  it('a query at U sees exactly the fences added at usage <= U', () => {
    const { resv, fence, add } = setup();
    const byUsage = USAGES.map((u) => {
      const f = fence();
      add(f, u);
      return f;
    });
    for (const q of USAGES) {
      expect(dmaResv.getFences(resv, q)).toEqual(byUsage.slice(0, q + 1));
      expect(dmaResv.testSignaled(resv, q)).toBe(false);
    }
    dmaFence.signal(byUsage[KERNEL]!);
    dmaFence.signal(byUsage[WRITE]!);
    expect(dmaResv.testSignaled(resv, WRITE)).toBe(true);
    expect(dmaResv.testSignaled(resv, READ)).toBe(false);
  });

  it('usage_rw is inverted: a write waits at READ, a read at WRITE', () => {
    expect(dmaResv.usageRw(true)).toBe(READ);
    expect(dmaResv.usageRw(false)).toBe(WRITE);
  });

  it('an empty reservation object is signaled at every usage', () => {
    const { resv } = setup();
    for (const u of USAGES) expect(dmaResv.testSignaled(resv, u)).toBe(true);
    expect(dmaResv.getSingleton(resv, BOOKKEEP)).toBeNull();
  });
});

describe('dma-resv: reserve and add_fence slot rules', () => {
  it('adding without a reserved slot is a BUG (throws)', () => {
    const { resv, fence } = setup();
    expect(() => dmaResv.addFence(resv, fence(), WRITE)).toThrow(/BUG/);
  });

  it('reserving 0 slots warns and returns -EINVAL', () => {
    const { core, resv } = setup();
    expect(dmaResv.reserveFences(resv, 0)).toBe(-EINVAL);
    expect(core.warnings).toHaveLength(1);
  });

  it('reserved room is used up by appends and then throws', () => {
    const { resv, fence } = setup();
    dmaResv.reserveFences(resv, 1);
    const room = resv.maxFences;
    expect(room).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < room; i++) dmaResv.addFence(resv, fence(), READ);
    expect(() => dmaResv.addFence(resv, fence(), READ)).toThrow();
  });

  it('growing the list drops signaled fences', () => {
    const { resv, fence } = setup();
    dmaResv.reserveFences(resv, 1);
    const room = resv.maxFences;
    const fs = Array.from({ length: room }, () => fence());
    // Distinct contexts, all pending: every add appends.
    for (const f of fs) dmaResv.addFence(resv, f, READ);
    dmaFence.signal(fs[0]!);
    dmaResv.reserveFences(resv, 1);
    expect([...dmaResv.entries(resv)].map((e) => e.fence)).toEqual(fs.slice(1));
  });

  it('the same fence added twice takes one slot', () => {
    const { fence, add, slots } = setup();
    const f = fence();
    add(f, WRITE);
    add(f, WRITE);
    expect(slots()).toEqual([[f, WRITE]]);
  });

  it('a newer fence of the same context replaces the older at the same usage', () => {
    const { core, fenceAt, add, slots } = setup();
    const ctx = core.contextAlloc();
    const f1 = fenceAt(ctx, 1n);
    const f2 = fenceAt(ctx, 2n);
    add(f1, READ);
    add(f2, READ);
    expect(slots()).toEqual([[f2, READ]]);
  });

  it('a newer same-context fence at a stronger usage replaces the older', () => {
    const { core, fenceAt, add, slots } = setup();
    const ctx = core.contextAlloc();
    const f1 = fenceAt(ctx, 1n);
    const f2 = fenceAt(ctx, 2n);
    add(f1, READ);
    add(f2, WRITE);
    expect(slots()).toEqual([[f2, WRITE]]);
  });

  it('an older same-context fence is appended and does not evict the newer one (CVE-2022-49935)', () => {
    const { core, resv, fenceAt, add, slots } = setup();
    const ctx = core.contextAlloc();
    const older = fenceAt(ctx, 1n);
    const newer = fenceAt(ctx, 2n);
    add(newer, WRITE);
    add(older, WRITE);
    expect(slots()).toEqual([
      [newer, WRITE],
      [older, WRITE],
    ]);
    dmaFence.signal(older);
    expect(dmaResv.testSignaled(resv, WRITE)).toBe(false);
  });

  it('a same-context fence at a weaker usage is appended: no demotion', () => {
    const { core, fenceAt, add, slots } = setup();
    const ctx = core.contextAlloc();
    const f1 = fenceAt(ctx, 1n);
    const f2 = fenceAt(ctx, 2n);
    add(f1, WRITE);
    add(f2, READ);
    expect(slots()).toEqual([
      [f1, WRITE],
      [f2, READ],
    ]);
  });

  it('re-adding a fence at a weaker usage keeps the stronger slot and appends', () => {
    const { fence, add, slots } = setup();
    const f = fence();
    add(f, WRITE);
    add(f, BOOKKEEP);
    expect(slots()).toEqual([
      [f, WRITE],
      [f, BOOKKEEP],
    ]);
  });

  it('promotion BOOKKEEP -> READ happens in place', () => {
    const { resv, fence, add, slots } = setup();
    const other = fence();
    const f = fence();
    add(other, BOOKKEEP);
    add(f, BOOKKEEP);
    expect(dmaResv.getFences(resv, READ)).toEqual([]);
    add(f, READ);
    expect(slots()).toEqual([
      [other, BOOKKEEP],
      [f, READ],
    ]);
    expect(dmaResv.getFences(resv, READ)).toEqual([f]);
  });

  it('a KERNEL fence is never replaced by a later WRITE of its context', () => {
    const { core, fenceAt, add, slots } = setup();
    const ctx = core.contextAlloc();
    const k = fenceAt(ctx, 1n);
    const w = fenceAt(ctx, 2n);
    add(k, KERNEL);
    add(w, WRITE);
    expect(slots()).toEqual([
      [k, KERNEL],
      [w, WRITE],
    ]);
  });

  it('a signaled slot is reused by any fence', () => {
    const { fence, add, slots } = setup();
    const [f1, f2, f3] = [fence(), fence(), fence()];
    add(f1, KERNEL);
    add(f2, READ);
    dmaFence.signal(f1);
    add(f3, BOOKKEEP);
    expect(slots()).toEqual([
      [f3, BOOKKEEP],
      [f2, READ],
    ]);
  });

  it('same-context replacement follows 32-bit seqno wrap-around', () => {
    const { core, fenceAt, add, slots } = setup();
    const ctx = core.contextAlloc();
    const old = fenceAt(ctx, 0xffff_ffffn);
    const wrapped = fenceAt(ctx, 1n);
    add(old, WRITE);
    add(wrapped, WRITE);
    expect(slots()).toEqual([[wrapped, WRITE]]);
  });

  it('adding a container warns', () => {
    const { core, fence, add } = setup();
    const a = dmaFenceArray.create(core, [fence(), fence()], core.contextAlloc(), 1n);
    add(a, READ);
    expect(core.warnings.some((w) => w.includes('container'))).toBe(true);
  });
});

describe('dma-resv: queries and replace', () => {
  it('get_fences skips signaled fences', () => {
    const { resv, fence, add } = setup();
    const [f1, f2] = [fence(), fence()];
    add(f1, WRITE);
    add(f2, READ);
    dmaFence.signal(f1);
    expect(dmaResv.getFences(resv, BOOKKEEP)).toEqual([f2]);
  });

  it('get_singleton: null, the fence itself, or a new array with seqno 1', () => {
    const { core, resv, fence, add } = setup();
    expect(dmaResv.getSingleton(resv, READ)).toBeNull();
    const f1 = fence();
    add(f1, WRITE);
    expect(dmaResv.getSingleton(resv, READ)).toBe(f1);
    const f2 = fence();
    add(f2, READ);
    const s = dmaResv.getSingleton(resv, READ)!;
    const array = dmaFenceArray.toArray(s);
    expect(array?.fences).toEqual([f1, f2]);
    expect(s.seqno).toBe(1n);
    const s2 = dmaResv.getSingleton(resv, READ)!;
    expect(s2.context).not.toBe(s.context);
    expect(core.warnings).toEqual([]);
  });

  it('replace_fences replaces every fence of the context regardless of order', () => {
    const { core, resv, fenceAt, fence, add, slots } = setup();
    const ctx = core.contextAlloc();
    const newer = fenceAt(ctx, 5n);
    const older = fenceAt(ctx, 1n);
    const other = fence();
    add(newer, BOOKKEEP);
    add(other, READ);
    add(older, BOOKKEEP);
    const repl = fence();
    dmaResv.replaceFences(resv, ctx, repl, KERNEL);
    expect(slots()).toEqual([
      [repl, KERNEL],
      [other, READ],
      [repl, KERNEL],
    ]);
  });

  it('copy_fences copies the pending fences with their usages', () => {
    const { core, resv, fence, add } = setup();
    const [f1, f2] = [fence(), fence()];
    add(f1, WRITE);
    add(f2, BOOKKEEP);
    dmaFence.signal(f1);
    const dst = dmaResv.create(core, 43);
    dmaResv.copyFences(dst, resv);
    expect([...dmaResv.entries(dst)]).toEqual([{ fence: f2, usage: BOOKKEEP }]);
  });

  it('emits resv.add, with the replaced fence when a slot is overwritten', () => {
    const { core, fenceAt, add } = setup();
    const events: KernelEvent[] = [];
    core.subscribe((ev) => events.push(ev));
    const ctx = core.contextAlloc();
    const f1 = fenceAt(ctx, 1n);
    const f2 = fenceAt(ctx, 2n);
    add(f1, READ);
    add(f2, WRITE);
    add(f2, WRITE);
    const adds = events.filter((e) => e.type === 'resv.add');
    expect(adds).toEqual([
      { type: 'resv.add', t: core.now(), buf: 42, fence: f1.id, usage: 'READ' },
      { type: 'resv.add', t: core.now(), buf: 42, fence: f2.id, usage: 'WRITE', replaced: f1.id },
      { type: 'resv.add', t: core.now(), buf: 42, fence: f2.id, usage: 'WRITE' },
    ]);
  });

  it('onChange runs after every add and replace until unsubscribed', () => {
    const { core, resv, fence, add } = setup();
    let calls = 0;
    let seen = 0;
    const off = dmaResv.onChange(resv, () => {
      calls++;
      seen = dmaResv.getFences(resv, BOOKKEEP).length;
    });
    const f = fence();
    add(f, READ);
    expect([calls, seen]).toEqual([1, 1]);
    dmaResv.replaceFences(resv, f.context, fence(), READ);
    expect(calls).toBe(2);
    dmaResv.replaceFences(resv, core.contextAlloc(), fence(), READ); // no slot of that context
    expect(calls).toBe(2);
    off();
    add(fence(), READ);
    expect(calls).toBe(2);
  });
});

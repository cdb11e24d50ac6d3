import { describe, expect, it } from 'vitest';
import { KernelCore } from '../../shared/kernel/core';
import { ManualClock } from '../../shared/kernel/clock';
import * as dmaFence from '../../shared/kernel/dma-fence';
import { EINVAL, EIO, ENOENT, MAX_ERRNO } from '../../shared/kernel/errno';

function setup() {
  const clock = new ManualClock();
  const core = new KernelCore({ clock, legacyReplaceImport: false });
  const ops: dmaFence.DmaFenceOps = { driverName: 'test', timelineName: () => 'tl', use64bitSeqno: false };
  return { clock, core, ops };
}

describe('dma-fence', () => {
  it('signal records the timestamp and runs callbacks once', () => {
    const { clock, core, ops } = setup();
    const f = dmaFence.init(core, ops, core.contextAlloc(), 1n);
    let calls = 0;
    expect(dmaFence.addCallback(f, { func: () => calls++ })).toBe(0);
    clock.advance(5n);
    expect(dmaFence.signal(f)).toBe(0);
    expect(f.timestamp).toBe(clock.now());
    expect(dmaFence.signal(f)).toBe(-EINVAL);
    expect(calls).toBe(1);
  });

  it('adding a callback to a signaled fence is -ENOENT and never calls it', () => {
    const { core, ops } = setup();
    const f = dmaFence.init(core, ops, core.contextAlloc(), 1n);
    dmaFence.signal(f);
    let called = false;
    expect(dmaFence.addCallback(f, { func: () => (called = true) })).toBe(-ENOENT);
    expect(called).toBe(false);
  });

  it('status is 0 while pending even with an error set, the error once signaled', () => {
    const { core, ops } = setup();
    const f = dmaFence.init(core, ops, core.contextAlloc(), 1n);
    dmaFence.setError(f, -ENOENT);
    expect(dmaFence.getStatus(f)).toBe(0);
    dmaFence.signal(f);
    expect(dmaFence.getStatus(f)).toBe(-ENOENT);
    expect(core.warnings).toEqual([]);
  });

  it('set_error after signal warns', () => {
    const { core, ops } = setup();
    const f = dmaFence.init(core, ops, core.contextAlloc(), 1n);
    dmaFence.signal(f);
    dmaFence.setError(f, -EINVAL);
    expect(core.warnings.length).toBe(1);
  });

  it('is_later wraps at 32 bits unless the ops use 64-bit seqnos', () => {
    expect(dmaFence.seqnoIsLater(1n, 0xffff_ffffn, false)).toBe(true);
    expect(dmaFence.seqnoIsLater(1n, 0xffff_ffffn, true)).toBe(false);
    expect(dmaFence.seqnoIsLater(0x1_0000_0001n, 0x1n, true)).toBe(true);
  });

  it('the stub is signaled with context 0 and names "stub"', () => {
    const { core } = setup();
    const stub = dmaFence.getStub(core);
    expect(dmaFence.isSignaled(stub)).toBe(true);
    expect(stub.context).toBe(0n);
    expect(dmaFence.driverName(stub)).toBe('stub');
    expect(dmaFence.timelineName(stub)).toBe('stub');
    expect(dmaFence.getStub(core)).toBe(stub);
  });
});

/* Cases after the kernel's selftest drivers/dma-buf/st-dma-fence.c. */
describe('dma-fence (st-dma-fence.c)', () => {
  const mock = () => {
    const s = setup();
    return { ...s, f: dmaFence.init(s.core, s.ops, s.core.contextAlloc(), 0n) };
  };

  it('sanitycheck: a fresh fence is unsignaled and signals once', () => {
    const { f } = mock();
    expect(dmaFence.isSignaled(f)).toBe(false);
    expect(dmaFence.getStatus(f)).toBe(0);
    expect(dmaFence.signal(f)).toBe(0);
    expect(dmaFence.isSignaled(f)).toBe(true);
  });

  it('test_signaling: signaling twice reports -EINVAL the second time', () => {
    const { f } = mock();
    dmaFence.enableSwSignaling(f);
    expect(dmaFence.signal(f)).toBe(0);
    expect(dmaFence.signal(f)).toBe(-EINVAL);
    expect(dmaFence.isSignaled(f)).toBe(true);
  });

  it('test_add_callback: a callback added before signal runs at signal', () => {
    const { f } = mock();
    let seen: dmaFence.DmaFence | null = null;
    expect(dmaFence.addCallback(f, { func: (fence) => (seen = fence) })).toBe(0);
    expect(seen).toBeNull();
    dmaFence.signal(f);
    expect(seen).toBe(f);
  });

  it('test_late_add_callback: a callback added after signal is rejected and never runs', () => {
    const { f } = mock();
    dmaFence.enableSwSignaling(f);
    dmaFence.signal(f);
    let seen = false;
    expect(dmaFence.addCallback(f, { func: () => (seen = true) })).toBe(-ENOENT);
    expect(seen).toBe(false);
  });

  it('test_rm_callback: a removed callback does not run', () => {
    const { f } = mock();
    let seen = false;
    const cb: dmaFence.DmaFenceCb = { func: () => (seen = true) };
    dmaFence.addCallback(f, cb);
    expect(dmaFence.removeCallback(f, cb)).toBe(true);
    dmaFence.signal(f);
    expect(seen).toBe(false);
  });

  it('test_late_rm_callback: removing after the callback ran reports false', () => {
    const { f } = mock();
    let seen = false;
    const cb: dmaFence.DmaFenceCb = { func: () => (seen = true) };
    dmaFence.addCallback(f, cb);
    dmaFence.signal(f);
    expect(seen).toBe(true);
    expect(dmaFence.removeCallback(f, cb)).toBe(false);
  });

  it('callbacks run in the order they were added', () => {
    const { f } = mock();
    const order: number[] = [];
    for (const i of [1, 2, 3]) dmaFence.addCallback(f, { func: () => order.push(i) });
    dmaFence.signal(f);
    expect(order).toEqual([1, 2, 3]);
  });

  it('test_status: 0 before signal, 1 after', () => {
    const { f } = mock();
    dmaFence.enableSwSignaling(f);
    expect(dmaFence.getStatus(f)).toBe(0);
    dmaFence.signal(f);
    expect(dmaFence.getStatus(f)).toBe(1);
  });

  it('test_error: an error set before signal is the status once signaled', () => {
    const { f, core } = mock();
    dmaFence.enableSwSignaling(f);
    dmaFence.setError(f, -EIO);
    expect(f.error).toBe(-EIO);
    expect(dmaFence.getStatus(f)).toBe(0);
    dmaFence.signal(f);
    expect(dmaFence.getStatus(f)).toBe(-EIO);
    expect(core.warnings).toEqual([]);
  });

  it('set_error with 0, a positive value or below -MAX_ERRNO warns', () => {
    for (const bad of [0, 5, -(MAX_ERRNO + 1)]) {
      const { f, core } = mock();
      dmaFence.setError(f, bad);
      expect(core.warnings).toHaveLength(1);
    }
    const { f, core } = mock();
    dmaFence.setError(f, -MAX_ERRNO);
    expect(core.warnings).toEqual([]);
  });

  it('test_stub: every stub handed out is signaled', () => {
    const { core } = setup();
    for (let i = 0; i < 4; i++) expect(dmaFence.isSignaled(dmaFence.getStub(core))).toBe(true);
  });

  it('a private stub is a fresh signaled stub with the given timestamp', () => {
    const { core } = setup();
    const s = dmaFence.allocatePrivateStub(core, 1234n);
    expect(s).not.toBe(dmaFence.getStub(core));
    expect(s.signaled).toBe(true);
    expect(s.timestamp).toBe(1234n);
    expect(dmaFence.driverName(s)).toBe('stub');
    expect(dmaFence.isStub(s)).toBe(true);
  });

  it('signal_timestamp records the given time, not now', () => {
    const { f, clock } = mock();
    clock.advance(100n);
    expect(dmaFence.signalTimestamp(f, 42n)).toBe(0);
    expect(f.timestamp).toBe(42n);
  });

  it('ops.signaled reports completion lazily and the first query latches it', () => {
    const { core } = setup();
    let done = false;
    let fired = 0;
    const ops: dmaFence.DmaFenceOps = {
      driverName: 'lazy',
      timelineName: () => 'lazy',
      use64bitSeqno: false,
      signaled: () => done,
    };
    const f = dmaFence.init(core, ops, core.contextAlloc(), 1n);
    dmaFence.addCallback(f, { func: () => fired++ });
    expect(dmaFence.isSignaled(f)).toBe(false);
    done = true;
    expect(f.signaled).toBe(false);
    expect(dmaFence.isSignaled(f)).toBe(true);
    expect(f.signaled).toBe(true);
    expect(fired).toBe(1);
  });

  it('enable_signaling runs once, at the first waiter', () => {
    const { core } = setup();
    let enabled = 0;
    const ops: dmaFence.DmaFenceOps = {
      driverName: 'x',
      timelineName: () => 'x',
      use64bitSeqno: false,
      enableSignaling: () => void enabled++,
    };
    const f = dmaFence.init(core, ops, core.contextAlloc(), 1n);
    expect(enabled).toBe(0);
    dmaFence.addCallback(f, { func: () => {} });
    dmaFence.addCallback(f, { func: () => {} });
    dmaFence.enableSwSignaling(f);
    expect(enabled).toBe(1);
    expect(f.signalingEnabled).toBe(true);
  });

  it('is_later across contexts warns and is false', () => {
    const { core, ops } = setup();
    const a = dmaFence.init(core, ops, core.contextAlloc(), 2n);
    const b = dmaFence.init(core, ops, core.contextAlloc(), 1n);
    expect(dmaFence.isLater(a, b)).toBe(false);
    expect(core.warnings).toHaveLength(1);
  });

  it('is_later uses 32-bit wrap-around for ordinary fences', () => {
    const { core, ops } = setup();
    const ctx = core.contextAlloc();
    const old = dmaFence.init(core, ops, ctx, 0xffff_ffffn);
    const wrapped = dmaFence.init(core, ops, ctx, 1n);
    expect(dmaFence.isLater(wrapped, old)).toBe(true);
    expect(dmaFence.isLater(old, wrapped)).toBe(false);
    expect(dmaFence.later(old, wrapped)).toBe(wrapped);
    // More than 2^31 ahead reads as behind.
    const far = dmaFence.init(core, ops, ctx, 0x8000_0001n);
    const zero = dmaFence.init(core, ops, ctx, 0n);
    expect(dmaFence.isLater(far, zero)).toBe(false);
  });

  it('is_later_or_same is true for the same fence only, among equal seqnos', () => {
    const { core, ops } = setup();
    const ctx = core.contextAlloc();
    const a = dmaFence.init(core, ops, ctx, 5n);
    const twin = dmaFence.init(core, ops, ctx, 5n);
    expect(dmaFence.isLaterOrSame(a, a)).toBe(true);
    expect(dmaFence.isLaterOrSame(a, twin)).toBe(false);
  });

  it('context_alloc(n) returns the first of n fresh contexts, never 0', () => {
    const { core } = setup();
    const first = core.contextAlloc(3);
    expect(first).toBeGreaterThan(0n);
    expect(core.contextAlloc()).toBe(first + 3n);
  });
});

import { describe, expect, it } from 'vitest';
import { KernelCore } from '../../shared/kernel/core';
import { ManualClock } from '../../shared/kernel/clock';
import * as dmaFence from '../../shared/kernel/dma-fence';
import { EINVAL, ENOENT } from '../../shared/kernel/errno';

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

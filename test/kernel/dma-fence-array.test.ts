import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/kernel/clock';
import { KernelCore } from '../../shared/kernel/core';
import * as dmaFence from '../../shared/kernel/dma-fence';
import * as dmaFenceArray from '../../shared/kernel/dma-fence-array';
import * as dmaFenceChain from '../../shared/kernel/dma-fence-chain';
import { EINVAL, EIO, ENOENT } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';

const mockOps: dmaFence.DmaFenceOps = { driverName: 'mock', timelineName: () => 'mock', use64bitSeqno: false };

function setup() {
  const clock = new ManualClock();
  const core = new KernelCore({ clock, legacyReplaceImport: false });
  const mock = (): dmaFence.DmaFence => dmaFence.init(core, mockOps, core.contextAlloc(), 1n);
  const array = (fences: dmaFence.DmaFence[], signalOnAny = false) =>
    dmaFenceArray.create(core, fences, core.contextAlloc(), 1n, signalOnAny);
  return { clock, core, mock, array };
}

describe('dma-fence-array', () => {
  it('is named dma_fence_array / unbound with its own context and seqno', () => {
    const { core, mock } = setup();
    const ctx = core.contextAlloc();
    const a = dmaFenceArray.create(core, [mock(), mock()], ctx, 1n);
    expect(dmaFence.driverName(a)).toBe('dma_fence_array');
    expect(dmaFence.timelineName(a)).toBe('unbound');
    expect(a.context).toBe(ctx);
    expect(a.seqno).toBe(1n);
    expect(dmaFenceArray.toArray(a)).toBe(a);
    expect(dmaFenceArray.toArray(mock())).toBeUndefined();
  });

  it('signals only when all components have signaled (lazily, without waiters)', () => {
    const { mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    const a = array([f1, f2]);
    expect(dmaFence.isSignaled(a)).toBe(false);
    dmaFence.signal(f1);
    expect(dmaFence.isSignaled(a)).toBe(false);
    dmaFence.signal(f2);
    expect(dmaFence.isSignaled(a)).toBe(true);
    expect(dmaFence.getStatus(a)).toBe(1);
  });

  it('with a waiter, signals from the last component callback at that time', () => {
    const { clock, mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    const a = array([f1, f2]);
    let fired = 0;
    expect(dmaFence.addCallback(a, { func: () => fired++ })).toBe(0);
    expect(a.signalingEnabled).toBe(true);
    clock.advance(10n);
    dmaFence.signal(f2);
    expect(a.signaled).toBe(false);
    clock.advance(10n);
    dmaFence.signal(f1);
    expect(a.signaled).toBe(true);
    expect(a.timestamp).toBe(clock.now());
    expect(fired).toBe(1);
  });

  it('adding a callback to an array of signaled fences is -ENOENT', () => {
    const { mock, array } = setup();
    const f1 = mock();
    dmaFence.signal(f1);
    const a = array([f1]);
    expect(dmaFence.addCallback(a, { func: () => {} })).toBe(-ENOENT);
    expect(a.signaled).toBe(true);
  });

  it('signal_on_any signals with the first component', () => {
    const { mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    const a = array([f1, f2], true);
    expect(dmaFence.isSignaled(a)).toBe(false);
    dmaFence.signal(f2);
    expect(dmaFence.isSignaled(a)).toBe(true);
    const b = array([mock(), mock()], true);
    dmaFence.enableSwSignaling(b);
    dmaFence.signal(b.fences[1]!);
    expect(b.signaled).toBe(true);
    dmaFence.signal(b.fences[0]!);
    expect(b.numPending).toBeLessThan(0);
  });

  it('error is the first non-zero component error in signalling order', () => {
    const { mock, array } = setup();
    const [f1, f2, f3] = [mock(), mock(), mock()];
    const a = array([f1, f2, f3]);
    dmaFence.enableSwSignaling(a);
    dmaFence.signal(f1);
    dmaFence.setError(f3, -EIO);
    dmaFence.signal(f3);
    dmaFence.setError(f2, -EINVAL);
    dmaFence.signal(f2);
    expect(a.signaled).toBe(true);
    expect(dmaFence.getStatus(a)).toBe(-EIO);
  });

  it('status is 0 while pending even after a component failed', () => {
    const { mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    const a = array([f1, f2]);
    dmaFence.enableSwSignaling(a);
    dmaFence.setError(f1, -EIO);
    dmaFence.signal(f1);
    expect(dmaFence.getStatus(a)).toBe(0);
    dmaFence.signal(f2);
    expect(dmaFence.getStatus(a)).toBe(-EIO);
  });

  it('an error of an already-signaled component is taken when signaling is enabled', () => {
    const { mock, array } = setup();
    const [f1, f2] = [mock(), mock()];
    dmaFence.setError(f1, -ENOENT);
    dmaFence.signal(f1);
    const a = array([f1, f2]);
    let seen = 0;
    dmaFence.addCallback(a, { func: (f) => (seen = f.error) });
    dmaFence.signal(f2);
    expect(seen).toBe(-ENOENT);
  });

  it('containing a container warns', () => {
    const { core, mock, array } = setup();
    const inner = array([mock()]);
    array([inner, mock()]);
    expect(core.warnings.length).toBe(1);
    const chain = dmaFenceChain.init(core, null, mock(), 1n);
    array([chain]);
    expect(core.warnings.length).toBe(2);
    expect(dmaFenceArray.isContainer(chain)).toBe(true);
    expect(dmaFenceArray.isContainer(inner)).toBe(true);
    expect(dmaFenceArray.isContainer(mock())).toBe(false);
  });

  it('emits fence.init with the component ids', () => {
    const { core, mock, array } = setup();
    const events: KernelEvent[] = [];
    core.subscribe((ev) => events.push(ev));
    const [f1, f2] = [mock(), mock()];
    const a = array([f1, f2]);
    const init = events.find((e) => e.type === 'fence.init' && e.fence === a.id);
    expect(init).toMatchObject({ driver: 'dma_fence_array', timeline: 'unbound', components: [f1.id, f2.id] });
  });

  it('an empty array warns', () => {
    const { core, array } = setup();
    array([]);
    expect(core.warnings).toHaveLength(1);
  });
});

/**
 * dma-fence: the one-shot completion object everything else is built from
 * (drivers/dma-buf/dma-fence.c, include/linux/dma-fence.h).
 *
 * A fence belongs to a context (an ordered timeline) and has a seqno in it.
 * It moves once from unsignaled to signaled, recording a timestamp and
 * running its callbacks exactly once; an error may be set before that.
 * Fences are plain data; these functions are the kernel's dma_fence_* API
 * without the prefix (import the module as `dmaFence`).
 */
import { EINVAL, ENOENT, MAX_ERRNO } from './errno';
import type { KernelCore } from './core';

export interface DmaFenceOps {
  readonly driverName: string;
  timelineName(fence: DmaFence): string;
  /** ops->use_64bit_seqno: compare seqnos as u64 rather than with 32-bit wrap. */
  readonly use64bitSeqno: boolean;
  /** ops->signaled: lazily report completion (sw_sync, containers). */
  signaled?(fence: DmaFence): boolean;
  /** ops->enable_signaling: first waiter arrived (containers arm callbacks here). */
  enableSignaling?(fence: DmaFence): void;
}

/** struct dma_fence_cb: owned by the caller, registered at most once at a time. */
export interface DmaFenceCb {
  func(fence: DmaFence, cb: DmaFenceCb): void;
}

export interface DmaFence {
  readonly core: KernelCore;
  readonly ops: DmaFenceOps;
  /** Kernel-wide id for events and traces (not a Linux concept). */
  readonly id: number;
  readonly context: bigint;
  readonly seqno: bigint;
  /** DMA_FENCE_FLAG_SIGNALED_BIT */
  signaled: boolean;
  /** DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT */
  signalingEnabled: boolean;
  error: number;
  /** Valid once signaled (DMA_FENCE_FLAG_TIMESTAMP_BIT). */
  timestamp: bigint;
  /** Registered callbacks; null once signaled (the kernel reuses cb_list). */
  cbs: Set<DmaFenceCb> | null;
}

/** dma_fence_init. `components` only feeds the creation event of containers. */
export function init(
  core: KernelCore,
  ops: DmaFenceOps,
  context: bigint,
  seqno: bigint,
  components?: readonly DmaFence[],
): DmaFence {
  const fence: DmaFence = {
    core,
    ops,
    id: core.allocId(),
    context,
    seqno,
    signaled: false,
    signalingEnabled: false,
    error: 0,
    timestamp: 0n,
    cbs: new Set(),
  };
  if (core.tracing) {
    const ev = {
      type: 'fence.init' as const,
      t: core.now(),
      fence: fence.id,
      context,
      seqno,
      driver: ops.driverName,
      timeline: ops.timelineName(fence),
    };
    core.emit(components ? { ...ev, components: components.map((c) => c.id) } : ev);
  }
  return fence;
}

export function driverName(fence: DmaFence): string {
  return fence.ops.driverName;
}

export function timelineName(fence: DmaFence): string {
  return fence.ops.timelineName(fence);
}

/**
 * dma_fence_signal_timestamp: signal with a given time. Returns -EINVAL if
 * the fence was already signaled (nothing happens then).
 */
export function signalTimestamp(fence: DmaFence, timestamp: bigint): number {
  if (fence.signaled) return -EINVAL;
  fence.signaled = true;
  fence.timestamp = timestamp;
  const cbs = fence.cbs;
  fence.cbs = null;
  const core = fence.core;
  if (core.tracing) core.emit({ type: 'fence.signaled', t: timestamp, fence: fence.id, error: fence.error });
  if (cbs) for (const cb of cbs) cb.func(fence, cb);
  return 0;
}

/** dma_fence_signal: signal now. -EINVAL if already signaled. */
export function signal(fence: DmaFence): number {
  return signalTimestamp(fence, fence.core.now());
}

/**
 * dma_fence_set_error: only before signaling, only a negative errno. The
 * kernel WARNs on misuse and stores the value anyway; so does the model.
 */
export function setError(fence: DmaFence, error: number): void {
  if (fence.signaled) fence.core.warn(`dma_fence_set_error on signaled fence ${fence.id}`);
  if (error >= 0 || error < -MAX_ERRNO) fence.core.warn(`dma_fence_set_error with invalid error ${error}`);
  fence.error = error;
}

/**
 * dma_fence_is_signaled: true if signaled, asking ops->signaled lazily; a
 * fence found complete that way is signaled on the spot (latched).
 */
export function isSignaled(fence: DmaFence): boolean {
  if (fence.signaled) return true;
  if (fence.ops.signaled?.(fence)) {
    signal(fence);
    return true;
  }
  return false;
}

/** dma_fence_get_status: 0 pending (even with an error stored), 1 done, <0 error. */
export function getStatus(fence: DmaFence): number {
  if (!isSignaled(fence)) return 0;
  return fence.error < 0 ? fence.error : 1;
}

/** __dma_fence_is_later on raw seqnos. */
export function seqnoIsLater(f1: bigint, f2: bigint, use64bit: boolean): boolean {
  if (use64bit) return f1 > f2;
  // (int)(lower_32_bits(f1) - lower_32_bits(f2)) > 0
  const diff = BigInt.asIntN(32, BigInt.asUintN(32, f1) - BigInt.asUintN(32, f2));
  return diff > 0n;
}

/** dma_fence_is_later: same context required (WARN and false otherwise). */
export function isLater(f1: DmaFence, f2: DmaFence): boolean {
  if (f1.context !== f2.context) {
    f1.core.warn(`dma_fence_is_later across contexts ${f1.context} and ${f2.context}`);
    return false;
  }
  return seqnoIsLater(f1.seqno, f2.seqno, f1.ops.use64bitSeqno);
}

/** dma_fence_is_later_or_same */
export function isLaterOrSame(f1: DmaFence, f2: DmaFence): boolean {
  return f1 === f2 || isLater(f1, f2);
}

/** dma_fence_later: the later of two same-context fences. */
export function later(f1: DmaFence, f2: DmaFence): DmaFence {
  return isLater(f1, f2) ? f1 : f2;
}

/** dma_fence_enable_sw_signaling */
export function enableSwSignaling(fence: DmaFence): void {
  if (fence.signalingEnabled || fence.signaled) return;
  fence.signalingEnabled = true;
  fence.ops.enableSignaling?.(fence);
}

/**
 * dma_fence_add_callback: 0 when registered; -ENOENT (and never called) if
 * the fence has already signaled.
 */
export function addCallback(fence: DmaFence, cb: DmaFenceCb): number {
  // Like Linux, only the SIGNALED bit is tested here, not ops->signaled:
  // enable_signaling decides (a container of signaled fences signals itself).
  if (fence.signaled) return -ENOENT;
  enableSwSignaling(fence);
  // enable_signaling may have completed the fence (a container of signaled fences).
  if (fence.signaled || !fence.cbs) return -ENOENT;
  fence.cbs.add(cb);
  return 0;
}

/** dma_fence_remove_callback: true if it was still registered. */
export function removeCallback(fence: DmaFence, cb: DmaFenceCb): boolean {
  return fence.cbs?.delete(cb) ?? false;
}

/**
 * Convenience over addCallback: run `fn` once when the fence signals, or now
 * if it already has. Returns a cancel function.
 */
export function onSignaled(fence: DmaFence, fn: (fence: DmaFence) => void): () => void {
  const cb: DmaFenceCb = { func: (f) => fn(f) };
  if (addCallback(fence, cb) !== 0) {
    fn(fence);
    return () => {};
  }
  return () => {
    removeCallback(fence, cb);
  };
}

const stubOps: DmaFenceOps = {
  driverName: 'stub',
  timelineName: () => 'stub',
  use64bitSeqno: false,
};

export function isStub(fence: DmaFence): boolean {
  return fence.ops === stubOps;
}

const globalStubs = new WeakMap<KernelCore, DmaFence>();

/**
 * dma_fence_get_stub: the one signaled stub of this kernel (context 0,
 * seqno 0, "stub"/"stub"), timestamped at first use.
 */
export function getStub(core: KernelCore): DmaFence {
  let stub = globalStubs.get(core);
  if (!stub) {
    stub = init(core, stubOps, 0n, 0n);
    signal(stub);
    globalStubs.set(core, stub);
  }
  return stub;
}

/** dma_fence_allocate_private_stub: a fresh signaled stub with the given timestamp. */
export function allocatePrivateStub(core: KernelCore, timestamp: bigint): DmaFence {
  const stub = init(core, stubOps, 0n, 0n);
  signalTimestamp(stub, timestamp);
  return stub;
}

/**
 * dma-fence-array: one fence standing for several (drivers/dma-buf/dma-fence-array.c).
 *
 * The array signals when all of its components have signaled (or the first
 * one, with signal_on_any). It is lazy like the kernel's: nothing is armed
 * until a waiter enables signaling, which registers one callback per
 * component; before that, ops.signaled polls the components. Its error is
 * the first non-zero error a component reports. Arrays must not contain
 * containers (arrays or chains): the kernel WARNs and so does the model.
 *
 * Merge (dma-fence-unwrap.ts) and dma_resv_get_singleton build arrays with
 * a fresh context and seqno 1.
 */
import type { KernelCore } from './core';
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceCb, DmaFenceOps } from './dma-fence';
import { toChain } from './dma-fence-chain';

export interface DmaFenceArray extends DmaFence {
  readonly fences: readonly DmaFence[];
  readonly signalOnAny: boolean;
  /** atomic num_pending: components still awaited (1 with signal_on_any). */
  numPending: number;
}

const arrayOps: DmaFenceOps = {
  driverName: 'dma_fence_array',
  timelineName: () => 'unbound',
  // dma_fence_array_ops does not set use_64bit_seqno.
  use64bitSeqno: false,
  signaled: arraySignaled,
  enableSignaling: arrayEnableSignaling,
};

/** to_dma_fence_array */
export function toArray(f: DmaFence): DmaFenceArray | undefined {
  return f.ops === arrayOps ? (f as DmaFenceArray) : undefined;
}

/** dma_fence_is_array */
export function isArray(f: DmaFence): boolean {
  return f.ops === arrayOps;
}

/** dma_fence_is_container: an array or a chain node. */
export function isContainer(f: DmaFence): boolean {
  return f.ops === arrayOps || toChain(f) !== undefined;
}

/**
 * dma_fence_array_create. Takes the component list as is (the kernel takes
 * ownership of the pointer array); the seqno is an `unsigned` in the kernel,
 * hence truncated to 32 bits.
 */
export function create(
  core: KernelCore,
  fences: DmaFence[],
  context: bigint,
  seqno: bigint,
  signalOnAny = false,
): DmaFenceArray {
  if (fences.length === 0) core.warn('dma_fence_array_init with no fences');
  const base = dmaFence.init(core, arrayOps, context, BigInt.asUintN(32, seqno), fences);
  const array: DmaFenceArray = Object.assign(base, {
    fences,
    signalOnAny,
    numPending: signalOnAny ? 1 : fences.length,
  });
  // Containers inside an array would make every operation recursive.
  for (const f of fences) {
    if (isContainer(f)) core.warn(`dma_fence_array ${array.id} contains container fence ${f.id}`);
  }
  return array;
}

/**
 * dma_fence_array_set_pending_error: the first non-zero error reported by a
 * component sticks, but only while the array itself is unsignaled. (The
 * kernel parks PENDING_ERROR=1 in base.error meanwhile; the model keeps 0,
 * which reads the same through get_status.)
 */
function setPendingError(array: DmaFenceArray, error: number): void {
  if (error !== 0 && array.error === 0 && !array.signaled) array.error = error;
}

/** One callback per component, as the kernel's dma_fence_array_cb. */
interface ArrayCb extends DmaFenceCb {
  readonly array: DmaFenceArray;
}

function arrayCbFunc(f: DmaFence, cb: DmaFenceCb): void {
  const array = (cb as ArrayCb).array;
  setPendingError(array, f.error);
  // dec_and_test: exactly the transition to zero signals (signal_on_any
  // keeps decrementing below zero without effect).
  if (--array.numPending === 0) dmaFence.signal(array);
}

/**
 * dma_fence_array_enable_signaling: arm a callback on every component. An
 * already-signaled component counts down at once and contributes its error.
 */
function arrayEnableSignaling(fence: DmaFence): void {
  const array = fence as DmaFenceArray;
  for (const f of array.fences) {
    const cb: ArrayCb = { array, func: arrayCbFunc };
    if (dmaFence.addCallback(f, cb) !== 0) {
      setPendingError(array, f.error);
      if (--array.numPending === 0) {
        // enable_signaling returned false: the core signals right away.
        dmaFence.signal(array);
        return;
      }
    }
  }
}

/**
 * dma_fence_array_signaled. Once signaling is enabled the callbacks keep the
 * count. Before that, poll the components; completed ones also contribute
 * their error here (the kernel only collects errors through callbacks, but
 * the model's addCallback polls ops.signaled before enabling, so doing the
 * same here keeps a waited-on array's error the same as in Linux).
 */
function arraySignaled(fence: DmaFence): boolean {
  const array = fence as DmaFenceArray;
  let numPending = array.numPending;
  if (array.signalingEnabled) return numPending <= 0;
  for (const f of array.fences) {
    if (dmaFence.isSignaled(f)) {
      setPendingError(array, f.error);
      if (--numPending === 0) return true;
    }
  }
  return false;
}

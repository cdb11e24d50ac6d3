/**
 * dma-fence-chain: timeline points as a linked list of nodes
 * (drivers/dma-buf/dma-fence-chain.c). drm_syncobj timelines are built
 * from these.
 *
 * A node wraps one fence, points back at the previous node (`prev`), and
 * counts as signaled only when its own fence and every predecessor's fence
 * have signaled. Nodes normally share the context of their predecessor; an
 * out-of-order point starts a fresh context. Walking the chain unlinks
 * predecessors whose fences have signaled (garbage collection), so long
 * timelines stay short to walk.
 *
 * Signaling, model side: the kernel re-walks the chain from each waited-on
 * node whenever the fence it armed fires, which is quadratic when many
 * nodes are waited on and signal backwards. The model instead arms each
 * enabled node on its own fence and on its predecessor node (whose signal
 * means "everything before is done"), enabling predecessors iteratively,
 * and signals nodes through a small work queue rather than recursively
 * (the kernel uses irq_work for the same reason: no unbounded recursion).
 * The observable result is the kernel's: a node signals exactly when its
 * last outstanding fence signals.
 */
import type { KernelCore } from './core';
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceCb, DmaFenceOps } from './dma-fence';
import { EINVAL } from './errno';

export interface DmaFenceChain extends DmaFence {
  /** Previous node (or any fence); null once everything before signaled and was collected. */
  prev: DmaFence | null;
  /** Seqno of prev when this node reused its context; 0 for a new context. */
  prevSeqno: bigint;
  readonly fence: DmaFence;
  /** Model: outstanding dependencies (own fence, predecessor) while armed. */
  pendingDeps: number;
}

const chainOps: DmaFenceOps = {
  driverName: 'dma_fence_chain',
  timelineName: () => 'unbound',
  // dma_fence_init64: chains compare seqnos as u64.
  use64bitSeqno: true,
  signaled: chainSignaled,
  enableSignaling: chainEnableSignaling,
};

/**
 * dma_fence_is_signaled with the flag test inlined: walks call it once per
 * node, and on long timelines the out-of-line call was most of the cost.
 */
export function isSignaledFast(f: DmaFence): boolean {
  return f.signaled || (f.ops.signaled !== undefined && dmaFence.isSignaled(f));
}

/** to_dma_fence_chain */
export function toChain(f: DmaFence | null | undefined): DmaFenceChain | undefined {
  return f && f.ops === chainOps ? (f as DmaFenceChain) : undefined;
}

/** dma_fence_is_chain */
export function isChain(f: DmaFence): boolean {
  return f.ops === chainOps;
}

/** dma_fence_chain_contained: the wrapped fence of a node, or the fence itself. */
export function contained(f: DmaFence): DmaFence {
  const chain = toChain(f);
  return chain ? chain.fence : f;
}

/**
 * dma_fence_chain_init. Reuses prev's context when prev is a chain node and
 * `seqno` is later than prev's; otherwise ("unordered point") allocates a
 * fresh context and, after a chain prev, uses max(prev.seqno, seqno).
 */
export function init(core: KernelCore, prev: DmaFence | null, fence: DmaFence, seqno: bigint): DmaFenceChain {
  const prevChain = toChain(prev);
  let context: bigint;
  let prevSeqno = 0n;
  if (prevChain && dmaFence.seqnoIsLater(seqno, prevChain.seqno, prevChain.ops.use64bitSeqno)) {
    context = prevChain.context;
    prevSeqno = prevChain.seqno;
  } else {
    context = core.contextAlloc(1);
    if (prevChain && prevChain.seqno > seqno) seqno = prevChain.seqno;
  }
  const components = prev ? [fence, prev] : [fence];
  const base = dmaFence.init(core, chainOps, context, BigInt.asUintN(64, seqno), components);
  const chain: DmaFenceChain = Object.assign(base, { prev, prevSeqno, fence, pendingDeps: 0 });
  // Chains link through prev only; a chain inside a chain must be flattened.
  if (isChain(fence)) core.warn(`dma_fence_chain ${chain.id} wraps chain fence ${fence.id}`);
  return chain;
}

/**
 * dma_fence_chain_walk: step from node `f` to its predecessor, first
 * unlinking predecessors whose fences have signaled. Returns the first
 * predecessor whose fence is still pending, or null at the end (or if `f`
 * is not a chain node).
 */
export function walk(f: DmaFence): DmaFence | null {
  const chain = toChain(f);
  if (!chain) return null;
  let prev: DmaFence | null;
  while ((prev = chain.prev) !== null) {
    const prevChain = toChain(prev);
    let replacement: DmaFence | null;
    if (prevChain) {
      if (!isSignaledFast(prevChain.fence)) break;
      replacement = prevChain.prev;
    } else {
      if (!isSignaledFast(prev)) break;
      replacement = null;
    }
    chain.prev = replacement;
  }
  return prev;
}

/**
 * dma_fence_chain_find_seqno. Seqno 0 is the head itself. A head that is
 * not a chain node, or has not reached `seqno`, gives -EINVAL ("not yet
 * submitted"). Otherwise walk back while nodes share the head's context and
 * their prev_seqno is still >= seqno. The result may be null: everything up
 * to that point signaled and was collected (callers use the stub).
 */
export function findSeqno(head: DmaFence, seqno: bigint): DmaFence | null | number {
  if (seqno === 0n) return head;
  const chain = toChain(head);
  if (!chain || chain.seqno < seqno) return -EINVAL;
  let iter: DmaFence | null = head;
  while (iter) {
    const node = toChain(iter);
    if (iter.context !== chain.context || !node || node.prevSeqno < seqno) break;
    iter = walk(iter);
  }
  return iter;
}

/**
 * dma_fence_chain_signaled: every fence from this node back is signaled.
 * Walks (and so collects) like the kernel; amortized O(1) per node.
 */
function chainSignaled(fence: DmaFence): boolean {
  for (let iter: DmaFence | null = fence; iter; iter = walk(iter)) {
    if (!isSignaledFast(contained(iter))) return false;
  }
  return true;
}

/* Deferred signaling (the kernel's irq_work): nodes whose last dependency
 * fired are queued and signaled by the outermost caller, so a cascade down
 * a 10,000-node timeline is a loop, not 10,000 nested calls. */
const signalQueue: DmaFenceChain[] = [];
let draining = false;

function queueSignal(chain: DmaFenceChain): void {
  signalQueue.push(chain);
  if (draining) return;
  draining = true;
  let done = 0;
  try {
    while (done < signalQueue.length) {
      const node = signalQueue[done++];
      if (node) dmaFence.signal(node); // -EINVAL if already latched: fine
    }
  } finally {
    // After a throwing callback, keep the rest for the next drain.
    signalQueue.splice(0, done);
    draining = false;
  }
}

function depDone(chain: DmaFenceChain): void {
  if (--chain.pendingDeps === 0) queueSignal(chain);
}

interface ChainCb extends DmaFenceCb {
  readonly chain: DmaFenceChain;
}

function chainCbFunc(_f: DmaFence, cb: DmaFenceCb): void {
  depDone((cb as ChainCb).chain);
}

/** Arm one node: wait for its own fence and for its predecessor. */
function arm(chain: DmaFenceChain): void {
  chain.pendingDeps = 1; // held until both callbacks are in place
  if (dmaFence.addCallback(chain.fence, { chain, func: chainCbFunc } as ChainCb) === 0) chain.pendingDeps++;
  const prev = chain.prev;
  if (prev) {
    const prevChain = toChain(prev);
    if (prevChain) {
      // Armed already (enabled before us, or just now, deepest first).
      if (!prevChain.signaled && prevChain.cbs) {
        prevChain.cbs.add({ chain, func: chainCbFunc } as ChainCb);
        chain.pendingDeps++;
      }
    } else if (dmaFence.addCallback(prev, { chain, func: chainCbFunc } as ChainCb) === 0) {
      chain.pendingDeps++;
    }
  }
  depDone(chain);
}

/**
 * dma_fence_chain_enable_signaling. Enables every not-yet-enabled
 * predecessor node too (iteratively), then arms them deepest first so each
 * node only needs to wait for its immediate predecessor.
 */
function chainEnableSignaling(fence: DmaFence): void {
  const head = fence as DmaFenceChain;
  const todo: DmaFenceChain[] = [head];
  for (let p = toChain(head.prev); p && !p.signaled && !p.signalingEnabled; p = toChain(p.prev)) {
    p.signalingEnabled = true;
    todo.push(p);
  }
  for (let i = todo.length - 1; i >= 0; i--) {
    const node = todo[i];
    if (node && !node.signaled) arm(node);
  }
}

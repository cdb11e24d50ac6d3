/**
 * dma-fence-unwrap: look through containers, and merge fences
 * (drivers/dma-buf/dma-fence-unwrap.c).
 *
 * unwrap() lists the leaf fences behind a fence, through chain nodes (their
 * wrapped fence, then their predecessors) and arrays, the way
 * dma_fence_unwrap_for_each visits them. Walking a chain collects
 * predecessors that have signaled, so those may be skipped.
 *
 * merge() is dma_fence_unwrap_merge, used by SYNC_IOC_MERGE and syncobj
 * transfer: it drops signaled leaves, returns a private stub (timestamped
 * with the latest of them) when nothing is left, the one remaining fence
 * itself, or else a new array holding the latest fence per context, sorted
 * by context. Lossy on purpose.
 */
import type { KernelCore } from './core';
import * as dmaFence from './dma-fence';
import type { DmaFence } from './dma-fence';
import * as dmaFenceArray from './dma-fence-array';
import { contained, isChain, isSignaledFast, walk } from './dma-fence-chain';

/**
 * dma_fence_unwrap_for_each as a list. Like the kernel's iterator, an empty
 * array (which only exists after a WARN) ends the iteration.
 */
export function unwrap(head: DmaFence): DmaFence[] {
  const out: DmaFence[] = [];
  for (let cur: DmaFence | null = head; cur; cur = walk(cur)) {
    const inner = contained(cur);
    const array = dmaFenceArray.toArray(inner);
    if (!array) {
      out.push(inner);
      continue;
    }
    if (array.fences.length === 0) break;
    for (const f of array.fences) out.push(f);
  }
  return out;
}

/**
 * lib/sort.c's heapsort (bottom-up sift, two largest extracted per round),
 * ported step for step so that ties and 32-bit-wrapped seqnos (for which
 * is_later is not a total order) come out in the kernel's order.
 *
 * It sorts `perm`, a permutation of element ids. Elements compare by
 * `key[id]` first and by `tie(a, b)` when the keys are equal; typed arrays
 * and the inlined key test keep a 1,000-way merge in the tens of µs.
 */
function heapsort(perm: Int32Array, key: Float64Array, tie: (a: number, b: number) => number): void {
  const cmp = (i: number, j: number): number => {
    const ki = key[i]!;
    const kj = key[j]!;
    return ki < kj ? -1 : ki > kj ? 1 : tie(i, j);
  };
  const num = perm.length;
  let n = num;
  let a = num >> 1;
  let shift = 0;
  let t = 0;
  if (a === 0) return;
  for (;;) {
    if (a) {
      a -= 1 << shift;
    } else if (n > 3) {
      n -= 1;
      t = perm[0]!;
      perm[0] = perm[n]!;
      perm[n] = t;
      shift = cmp(perm[1]!, perm[2]!) <= 0 ? 1 : 0;
      a = 1 << shift;
      n -= 1;
      t = perm[a]!;
      perm[a] = perm[n]!;
      perm[n] = t;
    } else {
      break;
    }
    // Sift down: find the path to a leaf, then back up to where `a` goes.
    let b = a;
    let c = 2 * b + 1;
    let d = c + 1;
    while (d < n) {
      b = cmp(perm[c]!, perm[d]!) > 0 ? c : d;
      c = 2 * b + 1;
      d = c + 1;
    }
    if (d === n) b = c;
    while (b !== a && cmp(perm[a]!, perm[b]!) >= 0) b = (b - 1) >> 1;
    c = b;
    while (b !== a) {
      b = (b - 1) >> 1;
      t = perm[b]!;
      perm[b] = perm[c]!;
      perm[c] = t;
    }
  }
  n -= 1;
  t = perm[0]!;
  perm[0] = perm[n]!;
  perm[n] = t;
  if (n === 2 && cmp(perm[0]!, perm[1]!) > 0) {
    t = perm[0]!;
    perm[0] = perm[1]!;
    perm[1] = t;
  }
}

function identity(count: number): Int32Array {
  const perm = new Int32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  return perm;
}

/** Linux sort() with the kernel's algorithm, in place (exported for tests). */
export function kernelSort<T>(v: T[], cmp: (a: T, b: T) => number): void {
  const items = v.slice();
  const perm = identity(items.length);
  heapsort(perm, new Float64Array(items.length), (i, j) => cmp(items[i] as T, items[j] as T));
  for (let i = 0; i < perm.length; i++) v[i] = items[perm[i]!] as T;
}

/**
 * dma_fence_dedup_array: sort with fence_cmp (context ascending, the later
 * fence first within a context), then keep the first, i.e. latest, fence of
 * each context. Compacts `fences` in place and returns the new length.
 */
export function dedupArray(fences: DmaFence[]): number {
  const items = fences.slice();
  const count = items.length;
  // Number() is monotonic, so comparing doubles first and the exact bigints
  // only on a tie gives the bigint order.
  const ctx = new Float64Array(count);
  for (let i = 0; i < count; i++) ctx[i] = Number((items[i] as DmaFence).context);
  const perm = identity(count);
  heapsort(perm, ctx, (i, j) => {
    const a = items[i] as DmaFence;
    const b = items[j] as DmaFence;
    if (a.context !== b.context) return a.context < b.context ? -1 : 1;
    if (dmaFence.seqnoIsLater(b.seqno, a.seqno, b.ops.use64bitSeqno)) return 1;
    if (dmaFence.seqnoIsLater(a.seqno, b.seqno, a.ops.use64bitSeqno)) return -1;
    return 0;
  });
  let j = 0;
  let last = -1;
  for (let i = 0; i < count; i++) {
    const id = perm[i]!;
    const f = items[id] as DmaFence;
    if (last < 0 || ctx[id] !== ctx[last] || f.context !== (items[last] as DmaFence).context) {
      fences[j++] = f;
      last = id;
    }
  }
  fences.length = j;
  return j;
}

/** dma_fence_unwrap_merge over any number of fences. */
export function merge(core: KernelCore, fences: readonly DmaFence[]): DmaFence {
  const pending: DmaFence[] = [];
  let timestamp = 0n;
  const visit = (f: DmaFence): void => {
    if (!isSignaledFast(f)) {
      pending.push(f);
    } else if (f.timestamp > timestamp) {
      timestamp = f.timestamp;
    }
  };
  for (const head of fences) {
    // Plain fences (the usual case) need no iterator.
    if (isChain(head) || dmaFenceArray.isArray(head)) unwrap(head).forEach(visit);
    else visit(head);
  }
  // Nothing pending: a private stub carrying the latest signal time.
  if (pending.length === 0) return dmaFence.allocatePrivateStub(core, timestamp);
  // The common single-fence case returns the fence itself, unwrapped.
  if (pending.length === 1) return pending[0] as DmaFence;
  const count = dedupArray(pending);
  if (count === 1) return pending[0] as DmaFence;
  return dmaFenceArray.create(core, pending, core.contextAlloc(1), 1n, false);
}

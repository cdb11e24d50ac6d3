/**
 * Point lookup for drm_syncobj timelines: the kernel's
 * dma_fence_chain_find_seqno() and the QUERY walk, answered in O(log n)
 * amortized instead of by walking the chain.
 *
 * Why: the kernel walks a timeline from its head on every lookup, so a wait
 * on many points of a long, mostly pending timeline, or a QUERY after every
 * signal, is quadratic. The model must stay O(n log n) at 10,000 points.
 *
 * How: the nodes of one chain context form a path whose seqnos strictly
 * increase (a node joins its predecessor's context only with a later
 * seqno). Each node added by the syncobj code is recorded with its depth in
 * that path. Kernel walks visit the head and then only the nodes whose own
 * fence is still pending (garbage collection unlinks the rest), so the
 * answers depend only on which own fences have signaled, and that only
 * ever grows. Two structures track it per path:
 * - `lo`: every node below it has signaled (the "completed" prefix);
 * - `skip`: union-find links over runs of signaled nodes, to find the
 *   newest pending node at or below an index.
 * The signaled prefix is trimmed from the arrays so a long-lived timeline
 * does not keep every node it ever had.
 *
 * Results are the kernel's; `findSeqnoSlow` and `querySlow` are the
 * kernel's walks, kept for nodes the index does not know and for tests
 * that compare the two.
 */
import * as dmaFence from './dma-fence';
import type { DmaFence } from './dma-fence';
import { findSeqno, toChain, walk, type DmaFenceChain } from './dma-fence-chain';
import { EINVAL } from './errno';

interface Path {
  /** Nodes at absolute depths base, base+1, ... (the signaled prefix below base is trimmed). */
  nodes: DmaFenceChain[];
  /** Union-find parent per absolute depth (offset by base): skip[i] < i means (skip[i], i] all signaled. */
  skip: number[];
  base: number;
  /** Every node at depth < lo has a signaled own fence. */
  lo: number;
  /** The context's first node: its prev leads out of the context. */
  readonly root: DmaFenceChain;
}

interface NodeInfo {
  readonly path: Path;
  readonly depth: number;
}

const index = new WeakMap<DmaFence, NodeInfo>();

/** Trim the signaled prefix once it is this long and half the array. */
const TRIM_MIN = 64;

function nodeAt(path: Path, depth: number): DmaFenceChain {
  const n = path.nodes[depth - path.base];
  if (!n) throw new Error(`syncobj timeline index: depth ${depth} outside [${path.base}, ${path.base + path.nodes.length})`);
  return n;
}

/**
 * Record a chain node just made by dma_fence_chain_init (before anything
 * walks it). A node whose same-context predecessor is unknown stays
 * unrecorded: lookups through it use the kernel's walk.
 */
export function recordNode(node: DmaFenceChain): void {
  const prev = toChain(node.prev);
  if (!prev || prev.context !== node.context) {
    index.set(node, { path: { nodes: [node], skip: [0], base: 0, lo: 0, root: node }, depth: 0 });
    return;
  }
  const pi = index.get(prev);
  if (!pi) return;
  let path = pi.path;
  const depth = pi.depth + 1;
  if (path.base + path.nodes.length !== depth) {
    // prev is not the tip (another syncobj already extended it): branch.
    const keep = Math.max(0, depth - path.base);
    const base = keep === 0 ? depth : path.base;
    path = {
      nodes: path.nodes.slice(0, keep),
      skip: path.skip.slice(0, keep),
      base,
      lo: Math.min(Math.max(path.lo, base), depth),
      root: path.root,
    };
  }
  path.nodes.push(node);
  path.skip.push(depth);
  index.set(node, { path, depth });
}

/** Move `lo` past signaled nodes below `limit`; trim the prefix when it is long. */
function advance(path: Path, limit: number): void {
  while (path.lo < limit && dmaFence.isSignaled(nodeAt(path, path.lo).fence)) path.lo++;
  const dead = path.lo - path.base;
  if (dead >= TRIM_MIN && dead * 2 >= path.nodes.length) {
    path.nodes.splice(0, dead);
    path.skip.splice(0, dead);
    path.base = path.lo;
  }
}

/** Keep the index current when a node is added on top of `node` (amortized O(1)). */
export function noteExtended(node: DmaFence): void {
  const info = index.get(node);
  if (info) advance(info.path, info.depth);
}

/** Newest depth <= k whose own fence is pending, or -1 (union-find with path compression). */
function lastPending(path: Path, k: number): number {
  const seen: number[] = [];
  let i = k;
  while (i >= path.lo) {
    const s = path.skip[i - path.base];
    if (s === undefined) throw new Error(`syncobj timeline index: no skip entry at ${i}`);
    if (s !== i) {
      seen.push(i);
      i = s;
      continue;
    }
    if (!dmaFence.isSignaled(nodeAt(path, i).fence)) break;
    seen.push(i);
    i--;
  }
  const result = i >= path.lo ? i : -1;
  for (const x of seen) path.skip[x - path.base] = result;
  return result;
}

/**
 * dma_fence_chain_find_seqno(head, point) with the kernel's result: the
 * head itself for point 0; -EINVAL if head is not a chain or has not
 * reached `point`; otherwise the node covering `point` (or, when that one's
 * own fence has signaled, the newest older node still pending, or whatever
 * pending fence precedes the context), or null when everything up to it has
 * signaled and been collected (callers use the stub).
 */
export function findPoint(head: DmaFence, point: bigint): DmaFence | null | number {
  if (point === 0n) return head;
  const chain = toChain(head);
  if (!chain || chain.seqno < point) return -EINVAL;
  // The kernel's first step: the head's prev_seqno is below the point.
  if (chain.prevSeqno < point) return chain;
  const info = index.get(chain);
  if (!info) return findSeqno(head, point);
  const { path, depth } = info;
  // j: the oldest depth < depth whose seqno reaches the point.
  const first = path.base;
  const last = Math.min(depth - 1, path.base + path.nodes.length - 1);
  if (first > last || nodeAt(path, first).prevSeqno >= point) {
    // The covering node is in the trimmed, all-signaled prefix.
    return walk(path.root);
  }
  let lo = first;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nodeAt(path, mid).seqno < point) lo = mid + 1;
    else hi = mid;
  }
  const j = lo;
  const nj = nodeAt(path, j);
  if (!dmaFence.isSignaled(nj.fence)) return nj;
  const i = lastPending(path, j - 1);
  return i >= 0 ? nodeAt(path, i) : walk(path.root);
}

/**
 * DRM_IOCTL_SYNCOBJ_QUERY without LAST_SUBMITTED: 0 for a non-chain fence;
 * otherwise take L, the oldest node of the head's context still reachable
 * (the head, or the oldest one whose own fence is pending); the answer is
 * L.seqno if L (and so everything before it) has signaled, else
 * L.prev_seqno.
 */
export function queryPoint(head: DmaFence | null): bigint {
  const chain = toChain(head);
  if (!chain) return 0n;
  const info = index.get(chain);
  if (!info) return querySlow(chain);
  const { path, depth } = info;
  advance(path, depth);
  if (path.lo < depth) return nodeAt(path, path.lo).prevSeqno;
  return dmaFence.isSignaled(chain) ? chain.seqno : chain.prevSeqno;
}

/** The kernel's QUERY walk (drm_syncobj_query_ioctl), for unindexed chains and tests. */
export function querySlow(head: DmaFence | null): bigint {
  const chain = toChain(head);
  if (!chain) return 0n;
  let last: DmaFence = chain;
  for (let iter: DmaFence | null = chain; iter; iter = walk(iter)) {
    if (iter.context !== chain.context) break;
    last = iter;
  }
  if (dmaFence.isSignaled(last)) return last.seqno;
  return toChain(last)?.prevSeqno ?? 0n;
}

/** The kernel's dma_fence_chain_find_seqno walk, for tests. */
export function findSeqnoSlow(head: DmaFence, point: bigint): DmaFence | null | number {
  return findSeqno(head, point);
}

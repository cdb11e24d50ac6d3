/**
 * dma-resv-index: NOT LINUX. An index beside a reservation object's slots
 * that finds the slot dma_resv_add_fence's linear scan would stop at
 * without walking the slots. dma-resv.ts owns the slots and reports every
 * write here; nothing observable changes (same slot, same events, the
 * same dma_fence_is_signaled calls where they can matter).
 *
 * Linux overwrites the FIRST slot i, in slot order, where
 *   (a) old.context == new.context, old usage >= new usage (numerically)
 *       and the new fence is later than or the same as the old one, or
 *   (b) dma_fence_is_signaled(old);
 * else it appends. The index finds the lowest slot of each kind:
 * - (a): per context, a treap of its slots keyed by (usage, low 32 bits
 *   of the seqno, fence id, slot), each node knowing the lowest slot
 *   below it. For each usage level >= the new one, "earlier than the new
 *   fence" is one or two seqno ranges (32-bit wrap) or a prefix (64-bit
 *   seqnos), and "the same fence" one exact (seqno, id) key: O(log m) for
 *   the m slots of the context, however many (importing a timeline puts
 *   many slots of one context in a buffer, newest first, none matching).
 * - (b), bit already set: a min-heap of slots whose fence has signaled,
 *   fed by a callback each slot keeps on its fence while the fence is
 *   there. Entries go stale when a slot is overwritten and are dropped
 *   when they surface.
 * - (b) by latching: dma_fence_is_signaled also asks ops->signaled and, if
 *   it says yes, signals the fence there and then. Slots holding an
 *   unsignaled fence with ops->signaled are listed in order and asked, up
 *   to the candidate of (a) and (b): the calls Linux's scan makes on them,
 *   in its order, with its side effects. In this model vgpu job fences and
 *   driver fences have no ops->signaled and the stub is born signaled, so
 *   none of them is ever asked. sw_sync points have one, and it runs ahead
 *   of the SIGNALED bit only inside sync_timeline_signal's loop, that is
 *   while one of the timeline's points runs its callbacks: an add made
 *   from such a callback (Linux can't: callbacks run under the fence lock
 *   and the resv lock sleeps; the model's kernel doesn't, a test may)
 *   latches the point as the scan would. Fences whose ops->signaled polls
 *   a device, and containers (never added: a WARN), are handled alike.
 *   The price: one ops->signaled per pending sw_sync slot before the
 *   candidate, as in Linux, so a resv holding thousands of pending sw_sync
 *   points still adds in O(n). Knowing that no timeline is mid-signal
 *   would need a hook in dma-fence or sw_sync.
 *
 * Only the scan sees one thing: a fence WITHOUT ops->signaled whose bit is
 * set while its callbacks (this index's among them) still run. An add
 * from one of those callbacks would miss that slot; Linux forbids such an
 * add (above), and so does the model.
 *
 * Compaction (reserve_fences dropping signaled fences) and a wholesale new
 * slot array rebuild the index: O(n log n), amortized by the list's
 * doubling. The callbacks go straight into fence.cbs, as dma-fence-chain
 * does: dma_fence_add_callback would enable signaling, which add_fence
 * does not do and which a container would notice (it arms its components).
 */
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceCb } from './dma-fence';
import * as minHeap from './min-heap';
import { NUMBER_ASCENDING } from './min-heap';

/** What the index needs of a slot (dma-resv's DmaResvEntry). */
export interface IndexedSlot {
  readonly fence: DmaFence;
  readonly usage: number;
}

const USAGE_LEVELS = 4;
const U32 = 0x1_0000_0000;
const U32_MAX = 0xffff_ffffn;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * One slot: its node in its context's treap, and the callback it keeps on
 * its fence while the fence sits there (one object for both, and the root
 * of a one-slot context is the whole context: an import of K fences from
 * K contexts allocates K of these and little else).
 */
interface SlotNode extends DmaFenceCb {
  readonly usage: number;
  /** Low 32 bits of the seqno: what 32-bit is_later compares. */
  readonly key: number;
  /** Fence id: equal keys of different fences stay apart, "the same" is one key. */
  readonly id: number;
  readonly slot: number;
  readonly prio: number;
  left: SlotNode | null;
  right: SlotNode | null;
  /** Lowest slot in this subtree. */
  min: number;
  readonly ix: SlotIndex;
  readonly fence: DmaFence;
  /** The callback is registered on the fence (it has not signaled, the slot still holds it). */
  armed: boolean;
}

/** Contexts as numbers where exact: hashing a bigint costs several times more. */
type ContextKey = number | bigint;

function contextKey(context: bigint): ContextKey {
  return context <= SAFE_MAX ? Number(context) : context;
}

/**
 * The context map is split in 64 Maps by a hash of the context. One Map
 * holding thousands of entries costs V8 several times more per insert
 * than small ones (measured: ~30 ns at 1,000 entries, ~260 ns at 10,000:
 * its big tables are reallocated outside the young generation as they
 * grow); 64 smaller ones stay cheap until hundreds of thousands.
 */
const SHARD_BITS = 6;

/** Per context, the root of its treap, in 64 Maps picked by a hash of the context. */
type ContextMap = (Map<ContextKey, SlotNode> | undefined)[];

function shardOf(contexts: ContextMap, key: ContextKey, create: boolean): Map<ContextKey, SlotNode> | undefined {
  const h = typeof key === 'number' ? Math.imul(key | 0, 0x9e37_79b9) >>> (32 - SHARD_BITS) : 0;
  let m = contexts[h];
  if (!m && create) m = contexts[h] = new Map();
  return m;
}

function contextRoot(ix: SlotIndex, key: ContextKey): SlotNode | undefined {
  return shardOf(ix.contexts, key, false)?.get(key);
}

function setContextRoot(ix: SlotIndex, key: ContextKey, root: SlotNode | null): void {
  if (root) shardOf(ix.contexts, key, true)?.set(key, root);
  else shardOf(ix.contexts, key, false)?.delete(key);
}

export interface SlotIndex {
  /** The slot array indexed; a different array (reassigned slots) means rebuild. */
  slots: readonly IndexedSlot[];
  contexts: ContextMap;
  /** Per context, its slots whose seqno needs more than 32 bits (64-bit compares scan then). */
  wide: Map<ContextKey, number>;
  /** Min-heap of slots whose fence has signaled (may hold stale entries). */
  signaled: number[];
  /** Ascending slots holding an unsignaled fence with ops->signaled. */
  lazy: number[];
  /** Bumped at every change of `lazy`, so a walk over it knows when to find its place again. */
  lazyEpoch: number;
  /** Per slot, its node. */
  nodes: (SlotNode | undefined)[];
  /** Treap priorities: a deterministic pseudo-random sequence (no Math.random in the kernel). */
  prioSeed: number;
}

export function createIndex(slots: readonly IndexedSlot[]): SlotIndex {
  const ix: SlotIndex = { slots: [], contexts: [], wide: new Map(), signaled: [], lazy: [], lazyEpoch: 0, nodes: [], prioSeed: 0 };
  rebuildIndex(ix, slots);
  return ix;
}

/** Index `slots` from scratch (after compaction or a wholesale replacement). O(n log n). */
export function rebuildIndex(ix: SlotIndex, slots: readonly IndexedSlot[]): void {
  for (const node of ix.nodes) if (node) disarm(node);
  ix.slots = slots;
  ix.contexts = [];
  ix.wide = new Map();
  ix.signaled = [];
  ix.lazy = [];
  ix.lazyEpoch++;
  ix.nodes = [];
  for (let i = 0; i < slots.length; i++) insertSlot(ix, i, slots[i] as IndexedSlot);
}

/**
 * Slot `i` of ix.slots now holds `entry` (it held `old`, or was just
 * appended). Call after every write to the slot array.
 */
export function slotChanged(ix: SlotIndex, i: number, old: IndexedSlot | undefined, entry: IndexedSlot): void {
  if (old) removeSlot(ix, i, old);
  insertSlot(ix, i, entry);
}

/** Every slot holding a fence of `context`, ascending (dma_resv_replace_fences). */
export function slotsOfContext(ix: SlotIndex, context: bigint): number[] {
  const out: number[] = [];
  collect(contextRoot(ix, contextKey(context)) ?? null, 0, out);
  return out.sort((a, b) => a - b);
}

/**
 * The slot dma_resv_add_fence(fence, usage) overwrites, or Infinity to
 * append. May signal fences, as the kernel's scan does (see the top).
 */
export function findSlot(ix: SlotIndex, fence: DmaFence, usage: number): number {
  let best = firstSameContext(ix, fence, usage);
  const sig = firstSignaled(ix);
  if (sig < best) best = sig;
  // The scan would ask every slot before `best`; only these can answer yes.
  // (A resv full of pending sw_sync points pays one ops->signaled per such
  // slot, as Linux's walk does; see the top.)
  const lazy = ix.lazy;
  for (let k = 0, epoch = ix.lazyEpoch; k < lazy.length; k++) {
    const j = lazy[k] as number;
    if (j >= best) break;
    // Latching runs the fence's callbacks (this index's included) first.
    if (dmaFence.isSignaled((ix.slots[j] as IndexedSlot).fence)) return j;
    // An ops->signaled with side effects could have changed the list: find our place again.
    if (ix.lazyEpoch !== epoch || ix.lazy !== lazy) return Math.min(best, probeFrom(ix, j + 1, best));
  }
  return best;
}

/** The probe of findSlot, restarted at slot `from` after the list changed under it. */
function probeFrom(ix: SlotIndex, from: number, best: number): number {
  for (;;) {
    const j = ix.lazy[lowerBound(ix.lazy, from)];
    if (j === undefined || j >= best) return Infinity;
    if (dmaFence.isSignaled((ix.slots[j] as IndexedSlot).fence)) return j;
    from = j + 1;
  }
}

// ---- slot bookkeeping ----

function insertSlot(ix: SlotIndex, i: number, entry: IndexedSlot): void {
  const fence = entry.fence;
  const key = contextKey(fence.context);
  const node: SlotNode = {
    usage: entry.usage,
    key: low32(fence.seqno),
    id: fence.id,
    slot: i,
    prio: nextPrio(ix),
    left: null,
    right: null,
    min: i,
    func: nodeFenceSignaled,
    ix,
    fence,
    armed: false,
  };
  const root = contextRoot(ix, key);
  setContextRoot(ix, key, root ? treapInsert(root, node) : node);
  if (fence.seqno > U32_MAX) ix.wide.set(key, (ix.wide.get(key) ?? 0) + 1);
  ix.nodes[i] = node;

  if (fence.signaled || !fence.cbs) {
    heapPush(ix, i);
    return;
  }
  fence.cbs.add(node);
  node.armed = true;
  if (fence.ops.signaled) lazyInsert(ix, i);
}

function removeSlot(ix: SlotIndex, i: number, old: IndexedSlot): void {
  const node = ix.nodes[i];
  const key = contextKey(old.fence.context);
  const root = contextRoot(ix, key);
  if (!node || !root) throw new Error(`dma-resv index: slot ${i} (context ${old.fence.context}) not indexed`);
  setContextRoot(ix, key, treapRemove(root, node));
  if (old.fence.seqno > U32_MAX) {
    const n = (ix.wide.get(key) ?? 0) - 1;
    if (n > 0) ix.wide.set(key, n);
    else ix.wide.delete(key);
  }
  disarm(node);
  ix.nodes[i] = undefined;
  lazyRemove(ix, i);
  // A heap entry for `i` may stay: it is checked against the slot when it surfaces.
}

/** The fence of a slot signaled: the slot is a (b) candidate from now on. */
function nodeFenceSignaled(_fence: DmaFence, cb: DmaFenceCb): void {
  const node = cb as SlotNode;
  if (!node.armed) return; // removed while its fence was already running callbacks
  node.armed = false;
  lazyRemove(node.ix, node.slot);
  heapPush(node.ix, node.slot);
}

function disarm(node: SlotNode): void {
  if (!node.armed) return;
  node.armed = false;
  node.fence.cbs?.delete(node);
}

// ---- (a): same context, usage at least as weak, not later than the new fence ----

function low32(seqno: bigint): number {
  // Most seqnos fit: no bigint allocated for them.
  return Number(seqno <= U32_MAX ? seqno : BigInt.asUintN(32, seqno));
}

function firstSameContext(ix: SlotIndex, fence: DmaFence, usage: number): number {
  const key = contextKey(fence.context);
  const root = contextRoot(ix, key);
  if (!root) return Infinity;
  const use64 = fence.ops.use64bitSeqno;
  // u64 order is low-32 order only while every seqno fits in 32 bits.
  if (use64 && (ix.wide.has(key) || fence.seqno > U32_MAX)) return scanContext(ix, root, fence, usage);
  const s = low32(fence.seqno);
  let best = Infinity;
  for (let v = usage; v < USAGE_LEVELS && root.min < best; v++) {
    // "The same": this very fence (its id) at this seqno.
    const same = rangeMin(root, v, s, fence.id, s, fence.id);
    if (same < best) {
      // Fence ids are unique per kernel; a fence of another kernel could collide.
      if ((ix.slots[same] as IndexedSlot).fence !== fence) return scanContext(ix, root, fence, usage);
      best = same;
    }
    if (use64) {
      // is_later with 64-bit seqnos: old < new.
      if (s > 0) best = Math.min(best, rangeMin(root, v, 0, -Infinity, s - 1, Infinity));
    } else {
      // (int32)(new - old) > 0: old in [new - (2^31 - 1), new - 1] modulo 2^32.
      const lo = (s + 0x8000_0001) % U32;
      const hi = (s + 0xffff_ffff) % U32;
      if (lo <= hi) best = Math.min(best, rangeMin(root, v, lo, -Infinity, hi, Infinity));
      else {
        best = Math.min(best, rangeMin(root, v, lo, -Infinity, U32 - 1, Infinity), rangeMin(root, v, 0, -Infinity, hi, Infinity));
      }
    }
  }
  return best;
}

/** The rule applied slot by slot to one context: for the rare cases the treap cannot order. */
function scanContext(ix: SlotIndex, root: SlotNode, fence: DmaFence, usage: number): number {
  const slots: number[] = [];
  collect(root, usage, slots);
  let best = Infinity;
  for (const i of slots) {
    if (i < best && dmaFence.isLaterOrSame(fence, (ix.slots[i] as IndexedSlot).fence)) best = i;
  }
  return best;
}

// ---- (b): signaled slots ----

function firstSignaled(ix: SlotIndex): number {
  const h = ix.signaled;
  for (;;) {
    const top = h[0];
    if (top === undefined) return Infinity;
    if (ix.slots[top]?.fence.signaled) return top;
    minHeap.pop(h, NUMBER_ASCENDING);
  }
}

function heapPush(ix: SlotIndex, i: number): void {
  const h = ix.signaled;
  // Stale entries only leave from the top; rebuild when they pile up.
  if (h.length > 2 * ix.slots.length + 64) {
    h.length = 0;
    for (let j = 0; j < ix.slots.length; j++) if (ix.slots[j]?.fence.signaled && j !== i) h.push(j); // ascending: a heap
  }
  minHeap.push(h, i, NUMBER_ASCENDING);
}

// ---- sorted number lists (the lazily signaled slots) ----

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lazyInsert(ix: SlotIndex, i: number): void {
  const a = ix.lazy;
  const k = lowerBound(a, i);
  if (a[k] === i) return;
  // Appends (an import) push; only overwrites in the middle move entries.
  if (k === a.length) a.push(i);
  else a.splice(k, 0, i);
  ix.lazyEpoch++;
}

function lazyRemove(ix: SlotIndex, i: number): void {
  const a = ix.lazy;
  if (a.length === 0) return;
  const k = lowerBound(a, i);
  if (a[k] !== i) return;
  a.splice(k, 1);
  ix.lazyEpoch++;
}

// ---- treap on (key, id, slot), with the subtree's lowest slot ----

/** splitmix-style hash of a counter: well-spread priorities, same run to run. */
function nextPrio(ix: SlotIndex): number {
  let x = (ix.prioSeed = (ix.prioSeed + 0x9e37_79b9) | 0);
  x = Math.imul(x ^ (x >>> 16), 0x85eb_ca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2_ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function pull(n: SlotNode): void {
  let m = n.slot;
  if (n.left && n.left.min < m) m = n.left.min;
  if (n.right && n.right.min < m) m = n.right.min;
  n.min = m;
}

/** Is node n ordered before (usage, key, id, slot)? */
function before(n: SlotNode, usage: number, key: number, id: number, slot: number): boolean {
  if (n.usage !== usage) return n.usage < usage;
  if (n.key !== key) return n.key < key;
  if (n.id !== id) return n.id < id;
  return n.slot < slot;
}

function rotateRight(n: SlotNode): SlotNode {
  const l = n.left as SlotNode;
  n.left = l.right;
  pull(n);
  l.right = n;
  pull(l);
  return l;
}

function rotateLeft(n: SlotNode): SlotNode {
  const r = n.right as SlotNode;
  n.right = r.left;
  pull(n);
  r.left = n;
  pull(r);
  return r;
}

function treapInsert(n: SlotNode | null, x: SlotNode): SlotNode {
  if (!n) return x;
  if (before(x, n.usage, n.key, n.id, n.slot)) {
    const l = treapInsert(n.left, x);
    n.left = l;
    if (l.prio > n.prio) return rotateRight(n);
  } else {
    const r = treapInsert(n.right, x);
    n.right = r;
    if (r.prio > n.prio) return rotateLeft(n);
  }
  pull(n);
  return n;
}

/** Join two treaps, every node of `a` ordered before every node of `b`. */
function join(a: SlotNode | null, b: SlotNode | null): SlotNode | null {
  if (!a) return b;
  if (!b) return a;
  if (a.prio > b.prio) {
    a.right = join(a.right, b);
    pull(a);
    return a;
  }
  b.left = join(a, b.left);
  pull(b);
  return b;
}

function treapRemove(n: SlotNode | null, x: SlotNode): SlotNode | null {
  if (!n) throw new Error(`dma-resv index: slot ${x.slot} missing from its tree`);
  if (n === x) return join(n.left, n.right);
  if (before(x, n.usage, n.key, n.id, n.slot)) n.left = treapRemove(n.left, x);
  else n.right = treapRemove(n.right, x);
  pull(n);
  return n;
}

/** Compare n's (usage, key, id) with a bound; id may be ±Infinity. */
function cmp(n: SlotNode, usage: number, key: number, id: number): number {
  if (n.usage !== usage) return n.usage - usage;
  return n.key !== key ? n.key - key : n.id - id;
}

/** Lowest slot among nodes at `usage` with (lo, loId) <= (key, id) <= (hi, hiId). */
function rangeMin(root: SlotNode | null, usage: number, lo: number, loId: number, hi: number, hiId: number): number {
  let n = root;
  while (n) {
    if (cmp(n, usage, lo, loId) < 0) n = n.right;
    else if (cmp(n, usage, hi, hiId) > 0) n = n.left;
    else {
      // n splits the range: its left part is bounded below only, its right part above only.
      let best = n.slot;
      for (let m = n.left; m; ) {
        if (cmp(m, usage, lo, loId) >= 0) {
          best = Math.min(best, m.slot, m.right ? m.right.min : Infinity);
          m = m.left;
        } else m = m.right;
      }
      for (let m = n.right; m; ) {
        if (cmp(m, usage, hi, hiId) <= 0) {
          best = Math.min(best, m.slot, m.left ? m.left.min : Infinity);
          m = m.right;
        } else m = m.left;
      }
      return best;
    }
  }
  return Infinity;
}

/** The slots of nodes at `minUsage` or weaker, in tree order. */
function collect(n: SlotNode | null, minUsage: number, out: number[]): void {
  if (!n) return;
  collect(n.left, minUsage, out);
  if (n.usage >= minUsage) out.push(n.slot);
  collect(n.right, minUsage, out);
}

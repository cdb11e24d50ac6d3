/**
 * dma-resv: the reservation object, a buffer's list of fences for implicit
 * sync (drivers/dma-buf/dma-resv.c, include/linux/dma-resv.h).
 *
 * Every fence sits in a slot with a usage: KERNEL < WRITE < READ <
 * BOOKKEEP. A query at usage U sees every unsignaled fence whose usage is
 * <= U, so a new writer (READ query) waits for readers and writers, a new
 * reader (WRITE query) only for writers, and BOOKKEEP fences are seen only
 * by BOOKKEEP queries.
 *
 * add_fence never drops pending work: it overwrites a slot only when the
 * old fence has signaled, or when the new fence is on the same context, at
 * the same or a stronger usage, and not earlier (the 2022 CVE-2022-49935
 * fix). Otherwise it appends, so one context may sit in several slots.
 * Slots must be reserved first (dma_resv_reserve_fences); adding without
 * room is a kernel BUG, thrown here.
 *
 * The model has no lock (one thread) and adds onChange(), a hook run after
 * every add or replace, for poll wake-ups and memory re-checks.
 *
 * Linux's add_fence walks every slot, so importing K fences costs O(K^2).
 * The model keeps an index beside the slots (dma-resv-index.ts) that finds
 * the same slot in O(log n) (slots holding pending sw_sync points are
 * still asked one by one, as Linux asks them): same slot, same order,
 * same events, the same dma_fence_is_signaled calls where they can
 * matter. Every write to the slots therefore goes through this module;
 * code elsewhere may read `slots` and may assign a whole new array (the
 * index notices and rebuilds), but must not write into it.
 */
import type { KernelCore } from './core';
import type { DmaFence } from './dma-fence';
import * as dmaFenceArray from './dma-fence-array';
import { isSignaledFast } from './dma-fence-chain';
import { EINVAL } from './errno';
import { createIndex, findSlot, rebuildIndex, slotChanged, slotsOfContext, type SlotIndex } from './dma-resv-index';
import type { DmaResvUsageName } from './events';

/** enum dma_resv_usage */
export const DmaResvUsage = { KERNEL: 0, WRITE: 1, READ: 2, BOOKKEEP: 3 } as const;
export type DmaResvUsage = (typeof DmaResvUsage)[keyof typeof DmaResvUsage];

const usageNames: readonly DmaResvUsageName[] = ['KERNEL', 'WRITE', 'READ', 'BOOKKEEP'];

export function usageName(usage: DmaResvUsage): DmaResvUsageName {
  return usageNames[usage] as DmaResvUsageName;
}

export interface DmaResvEntry {
  readonly fence: DmaFence;
  readonly usage: DmaResvUsage;
}

export interface DmaResv {
  readonly core: KernelCore;
  /** The dma-buf this object belongs to, for events. */
  readonly bufId: number;
  /**
   * struct dma_resv_list table[0..num_fences): the slots in order. Read it
   * freely; write it only through this module (or assign a new array).
   */
  slots: DmaResvEntry[];
  /** dma_resv_list.max_fences: room reserved so far (0: no list yet). */
  maxFences: number;
  /** Model hook: run after every add or replace. */
  readonly listeners: Set<() => void>;
  /** NOT LINUX: where add_fence's scan would stop, found without scanning. */
  readonly index: SlotIndex;
}

/** dma_resv_init */
export function create(core: KernelCore, bufId: number): DmaResv {
  const slots: DmaResvEntry[] = [];
  return { core, bufId, slots, maxFences: 0, listeners: new Set(), index: createIndex(slots) };
}

/** The index, rebuilt first if someone assigned a new slot array. */
function indexOf(resv: DmaResv): SlotIndex {
  if (resv.index.slots !== resv.slots) rebuildIndex(resv.index, resv.slots);
  return resv.index;
}

/** Write slot i (i == slots.length appends) and keep the index in step. */
function setSlot(resv: DmaResv, ix: SlotIndex, i: number, entry: DmaResvEntry): DmaResvEntry | undefined {
  const old = resv.slots[i];
  resv.slots[i] = entry;
  slotChanged(ix, i, old, entry);
  return old;
}

/**
 * dma_resv_usage_rw: the usage an access must *wait* at. Deliberately
 * inverted: a write waits for readers and writers (READ), a read only for
 * writers (WRITE).
 */
export function usageRw(write: boolean): DmaResvUsage {
  return write ? DmaResvUsage.READ : DmaResvUsage.WRITE;
}

/**
 * kmalloc_size_roundup for x86-64 SLUB: kmalloc buckets up to 8 KiB, whole
 * pages (power-of-two orders) above. dma_resv_list_alloc recomputes
 * max_fences from the rounded size, so reserving 1 slot gives room for 5.
 */
function kmallocSizeRoundup(size: number): number {
  if (size <= 8192) {
    for (const bucket of [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]) {
      if (size <= bucket) return bucket;
    }
  }
  let bytes = 4096;
  while (bytes < size) bytes *= 2;
  return bytes;
}

/** Header of struct dma_resv_list (rcu_head + two u32), then 8-byte pointers. */
const LIST_HEADER = 24;

function listCapacity(maxFences: number): number {
  return Math.floor((kmallocSizeRoundup(LIST_HEADER + 8 * maxFences) - LIST_HEADER) / 8);
}

function roundupPowOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * dma_resv_reserve_fences: make room for `num` more fences. Returns 0, or
 * -EINVAL (with a WARN) for num = 0. When the list has to grow, signaled
 * fences are dropped from the copy, as the kernel does.
 */
export function reserveFences(resv: DmaResv, num: number): number {
  if (num <= 0) {
    resv.core.warn('dma_resv_reserve_fences with num_fences = 0');
    return -EINVAL;
  }
  let max: number;
  if (resv.maxFences > 0) {
    if (resv.slots.length + num <= resv.maxFences) return 0;
    max = Math.max(resv.slots.length + num, resv.maxFences * 2);
  } else {
    max = Math.max(4, roundupPowOfTwo(num));
  }
  resv.slots = resv.slots.filter((e) => !isSignaledFast(e.fence));
  resv.maxFences = listCapacity(max);
  // Compaction moved the survivors: index them again (amortized by the doubling).
  rebuildIndex(resv.index, resv.slots);
  return 0;
}

function notify(resv: DmaResv): void {
  // No snapshot to allocate when nobody listens (an import adds K fences).
  if (resv.listeners.size === 0) return;
  for (const fn of [...resv.listeners]) fn();
}

function emitAdd(resv: DmaResv, fence: DmaFence, usage: DmaResvUsage, old: DmaFence | undefined): void {
  const core = resv.core;
  if (!core.tracing) return;
  const ev = { type: 'resv.add' as const, t: core.now(), buf: resv.bufId, fence: fence.id, usage: usageName(usage) };
  core.emit(old && old !== fence ? { ...ev, replaced: old.id } : ev);
}

/**
 * dma_resv_add_fence. Overwrites the first slot whose old fence either has
 * the same context, a usage at least as weak (old >= new numerically) and
 * is not later than the new fence, or has signaled; otherwise appends,
 * which needs a reserved slot (a BUG in the kernel, thrown here). The
 * index finds that slot without the kernel's walk (dma-resv-index.ts).
 */
export function addFence(resv: DmaResv, fence: DmaFence, usage: DmaResvUsage): void {
  // Containers must be added component by component.
  if (dmaFenceArray.isContainer(fence)) resv.core.warn(`dma_resv_add_fence of container fence ${fence.id}`);
  const ix = indexOf(resv);
  const i = findSlot(ix, fence, usage);
  if (i < resv.slots.length) {
    const old = setSlot(resv, ix, i, { fence, usage });
    emitAdd(resv, fence, usage, old?.fence);
    notify(resv);
    return;
  }
  if (resv.slots.length >= resv.maxFences) {
    throw new Error(`BUG: dma_resv_add_fence on buffer ${resv.bufId} without a reserved slot`);
  }
  setSlot(resv, ix, resv.slots.length, { fence, usage });
  emitAdd(resv, fence, usage, undefined);
  notify(resv);
}

/**
 * dma_resv_replace_fences: every slot of `context`, whatever its order or
 * usage, now holds `replacement`. Kernel-internal (e.g. a preemption fence
 * replaced by a page-table update); no userspace path reaches it.
 */
export function replaceFences(resv: DmaResv, context: bigint, replacement: DmaFence, usage: DmaResvUsage): void {
  const ix = indexOf(resv);
  const targets = slotsOfContext(ix, context);
  for (const i of targets) {
    const old = setSlot(resv, ix, i, { fence: replacement, usage });
    emitAdd(resv, replacement, usage, old?.fence);
  }
  if (targets.length > 0) notify(resv);
}

/**
 * dma_resv_get_fences: snapshot of the unsignaled fences at usage <= U, in
 * slot order.
 */
export function getFences(resv: DmaResv, usage: DmaResvUsage): DmaFence[] {
  const out: DmaFence[] = [];
  for (const e of resv.slots) {
    // Same test order as dma_resv_iter_walk_unlocked: signaled first.
    if (!isSignaledFast(e.fence) && usage >= e.usage) out.push(e.fence);
  }
  return out;
}

/**
 * dma_resv_get_singleton: null when nothing is pending at <= U, the fence
 * itself for one, else a new array (fresh context, seqno 1).
 */
export function getSingleton(resv: DmaResv, usage: DmaResvUsage): DmaFence | null {
  const fences = getFences(resv, usage);
  if (fences.length === 0) return null;
  if (fences.length === 1) return fences[0] as DmaFence;
  const core = resv.core;
  return dmaFenceArray.create(core, fences, core.contextAlloc(1), 1n, false);
}

/** dma_resv_test_signaled: no unsignaled fence at usage <= U. */
export function testSignaled(resv: DmaResv, usage: DmaResvUsage): boolean {
  for (const e of resv.slots) {
    if (!isSignaledFast(e.fence) && usage >= e.usage) return false;
  }
  return true;
}

/**
 * Every slot in order, signaled ones included (dma_resv_for_each_fence at
 * BOOKKEEP under the lock), as a snapshot.
 */
export function entries(resv: DmaResv): Iterable<DmaResvEntry> {
  return resv.slots.slice();
}

/**
 * dma_resv_copy_fences: dst's list becomes a copy of src's unsignaled
 * fences with their usages.
 */
export function copyFences(dst: DmaResv, src: DmaResv): void {
  const copy = src.slots.filter((e) => !isSignaledFast(e.fence));
  dst.slots = copy;
  dst.maxFences = Math.max(dst.maxFences, copy.length);
  rebuildIndex(dst.index, copy);
  for (const e of copy) emitAdd(dst, e.fence, e.usage, undefined);
  notify(dst);
}

/** Model hook: run `fn` after every add or replace. Returns an unsubscribe. */
export function onChange(resv: DmaResv, fn: () => void): () => void {
  resv.listeners.add(fn);
  return () => {
    resv.listeners.delete(fn);
  };
}

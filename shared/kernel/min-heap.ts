/**
 * min-heap: the binary min-heap every queue of the model keeps (Linux's
 * include/linux/min_heap.h). As there, the heap is a plain array the caller
 * owns and the ordering comes as a callbacks object passed on each call:
 * `less` is min_heap_callbacks.less; `moved` stands in for .swp, for heaps
 * that delete from the middle and so must know where each element sits.
 *
 * One difference in the mechanics, none in the result: elements move into
 * a hole instead of being swapped pairwise (half the writes). For a strict
 * total order (every user here breaks ties itself: arrival sequence
 * numbers, distinct targets, or equal elements that are the same number)
 * the pop order is fully determined by `less`, so no caller can tell.
 */

/** min_heap_callbacks: the order, and (optionally) where an element went. */
export interface MinHeapCallbacks<T> {
  /** Strictly ordered before: ties are for the caller to break. */
  readonly less: (a: T, b: T) => boolean;
  /** Element `x` now sits at index `i` (the .swp callback's job, for min_heap_del). */
  readonly moved?: (x: T, i: number) => void;
}

/** The order of plain numbers (slots, handles): ascending. */
export const NUMBER_ASCENDING: MinHeapCallbacks<number> = { less: (a, b) => a < b };

function place<T>(h: T[], i: number, x: T, cb: MinHeapCallbacks<T>): void {
  h[i] = x;
  cb.moved?.(x, i);
}

/** min_heap_peek: the least element, or undefined when empty. */
export function peek<T>(h: readonly T[]): T | undefined {
  return h[0];
}

/** min_heap_sift_up: move `x`, to go at index `i`, up to its place. */
export function siftUp<T>(h: T[], i: number, x: T, cb: MinHeapCallbacks<T>): void {
  const less = cb.less;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const parent = h[p] as T;
    if (!less(x, parent)) break;
    place(h, i, parent, cb);
    i = p;
  }
  place(h, i, x, cb);
}

/** min_heap_sift_down: move `x`, to go at index `i`, down to its place. */
export function siftDown<T>(h: T[], i: number, x: T, cb: MinHeapCallbacks<T>): void {
  const less = cb.less;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && less(h[r] as T, h[l] as T) ? r : l;
    const child = h[c] as T;
    if (!less(child, x)) break;
    place(h, i, child, cb);
    i = c;
  }
  place(h, i, x, cb);
}

/** min_heap_push */
export function push<T>(h: T[], x: T, cb: MinHeapCallbacks<T>): void {
  h.push(x);
  siftUp(h, h.length - 1, x, cb);
}

/** min_heap_pop: remove and return the least element (undefined when empty). */
export function pop<T>(h: T[], cb: MinHeapCallbacks<T>): T | undefined {
  const top = h[0];
  const last = h.pop();
  if (top === undefined || last === undefined || h.length === 0) return top;
  siftDown(h, 0, last, cb);
  return top;
}

/**
 * min_heap_del: remove the element at index `i`. The last element fills
 * the hole and goes up or down from there. The removed element's index is
 * the caller's to forget (no `moved` call for it).
 */
export function del<T>(h: T[], i: number, cb: MinHeapCallbacks<T>): void {
  const last = h.pop();
  if (last === undefined || i >= h.length) return;
  if (i > 0 && cb.less(last, h[(i - 1) >> 1] as T)) siftUp(h, i, last, cb);
  else siftDown(h, i, last, cb);
}

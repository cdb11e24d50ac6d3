/**
 * The machine's physical pages: one shared pool of 4 KiB pages that every
 * allocation draws from, dma-heap buffers and the kernel's own structures
 * ("page table", ...) alike. It stands in for the buddy allocator plus the
 * heaps' page pools (drivers/dma-buf/heaps/system_heap.c), reduced to what
 * König's objection needs: a freed page is handed out again at once.
 *
 * Free pages form a stack: the most recently freed page is the next one
 * allocated, the way a hot per-CPU free list hands back cache-warm pages.
 * So memory freed too early visibly ends up under a new owner by the very
 * next allocation. Every page carries its owner label and a generation
 * counter bumped on each allocation, so an observer holding (page,
 * generation) can tell that the page was freed and reused since.
 */
import type { KernelCore } from './core';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export interface PagePool {
  readonly core: KernelCore;
  /** Number of pages the machine has. */
  readonly total: number;
  /** Pages never handed out yet: [nextFresh, total). Lazily, so a big pool costs nothing. */
  nextFresh: number;
  /** Freed pages; the last element is handed out first. */
  readonly freeStack: number[];
  /** Owner label of each allocated page (undefined: free). Sparse. */
  readonly owners: (string | undefined)[];
  /** The buffer id an allocated page belongs to, if any. Sparse. */
  readonly bufs: (number | undefined)[];
  /** Allocation count of each page (0: never allocated). Sparse. */
  readonly generations: number[];
}

export function createPagePool(core: KernelCore, total: number): PagePool {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`page pool size ${total}`);
  return { core, total, nextFresh: 0, freeStack: [], owners: [], bufs: [], generations: [] };
}

/** Pages currently free. */
export function freeCount(pool: PagePool): number {
  return pool.freeStack.length + (pool.total - pool.nextFresh);
}

/**
 * Take `n` pages for `owner` (and buffer `buf`, if the pages back one).
 * Recently freed pages come first, then never-used ones. null when the
 * pool cannot satisfy the whole request (the caller returns -ENOMEM);
 * nothing is taken then.
 */
export function allocPages(pool: PagePool, n: number, owner: string, buf?: number): number[] | null {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`allocPages(${n})`);
  if (n > freeCount(pool)) return null;
  const pages: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const page = pool.freeStack.pop() ?? pool.nextFresh++;
    pool.owners[page] = owner;
    pool.bufs[page] = buf;
    pool.generations[page] = (pool.generations[page] ?? 0) + 1;
    pages[i] = page;
  }
  const core = pool.core;
  if (core.tracing) {
    const ev = { type: 'pages.alloc' as const, t: core.now(), owner, pages: pages.slice() };
    core.emit(buf === undefined ? ev : { ...ev, buf });
  }
  return pages;
}

/**
 * Give pages back. Pushed in reverse, so an allocation of the same size
 * right after gets the same pages in the same order. Freeing a page that
 * is not allocated is a broken invariant (a double free): throw.
 */
export function freePages(pool: PagePool, pages: readonly number[], owner: string): void {
  for (const page of pages) {
    if (pool.owners[page] === undefined) throw new Error(`page ${page} freed twice (by ${owner})`);
  }
  const buf = pages.length > 0 ? pool.bufs[pages[0] ?? 0] : undefined;
  for (let i = pages.length - 1; i >= 0; i--) {
    const page = pages[i] ?? 0;
    pool.owners[page] = undefined;
    pool.bufs[page] = undefined;
    pool.freeStack.push(page);
  }
  const core = pool.core;
  if (core.tracing) {
    const ev = { type: 'pages.free' as const, t: core.now(), owner, pages: pages.slice() };
    core.emit(buf === undefined ? ev : { ...ev, buf });
  }
}

/** Who holds `page` now (undefined: free or out of range). */
export function pageOwner(pool: PagePool, page: number): string | undefined {
  return pool.owners[page];
}

/** The buffer `page` currently backs, if any. */
export function pageBuf(pool: PagePool, page: number): number | undefined {
  return pool.bufs[page];
}

/** How many times `page` has been allocated: a changed value means it was reused. */
export function pageGeneration(pool: PagePool, page: number): number {
  return pool.generations[page] ?? 0;
}

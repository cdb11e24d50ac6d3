import { describe, expect, it } from 'vitest';
import { KernelCore } from '../../shared/kernel/core';
import { ManualClock } from '../../shared/kernel/clock';
import type { KernelEvent } from '../../shared/kernel/events';
import {
  allocPages,
  createPagePool,
  freeCount,
  freePages,
  pageBuf,
  pageGeneration,
  pageOwner,
} from '../../shared/kernel/page-pool';

function setup(total = 16) {
  const core = new KernelCore({ clock: new ManualClock(), legacyReplaceImport: false });
  const events: KernelEvent[] = [];
  core.subscribe((e) => events.push(e));
  return { core, pool: createPagePool(core, total), events };
}

describe('page-pool', () => {
  it('allocation labels pages with their owner and buffer', () => {
    const { pool } = setup();
    const pages = allocPages(pool, 3, 'dmabuf', 7);
    expect(pages).toEqual([0, 1, 2]);
    expect(pageOwner(pool, 1)).toBe('dmabuf');
    expect(pageBuf(pool, 1)).toBe(7);
    expect(pageGeneration(pool, 1)).toBe(1);
    expect(pageOwner(pool, 3)).toBeUndefined();
  });

  it('the next allocation reuses the most recently freed pages, including the kernel’s own', () => {
    const { pool } = setup();
    allocPages(pool, 2, 'a');
    const b = allocPages(pool, 2, 'b', 2)!;
    freePages(pool, b, 'b');
    expect(pageOwner(pool, b[0]!)).toBeUndefined();
    const pt = allocPages(pool, 2, 'page table');
    expect(pt).toEqual(b);
    expect(pageOwner(pool, b[0]!)).toBe('page table');
    expect(pageBuf(pool, b[0]!)).toBeUndefined();
    expect(pageGeneration(pool, b[0]!)).toBe(2);
  });

  it('an allocation the pool cannot satisfy returns null and takes nothing', () => {
    const { pool } = setup(4);
    allocPages(pool, 3, 'a');
    expect(allocPages(pool, 2, 'b')).toBeNull();
    expect(freeCount(pool)).toBe(1);
    expect(allocPages(pool, 1, 'b')).toEqual([3]);
    expect(freeCount(pool)).toBe(0);
  });

  it('freeing a free page is a double free and throws', () => {
    const { pool } = setup();
    const p = allocPages(pool, 1, 'a')!;
    freePages(pool, p, 'a');
    expect(() => freePages(pool, p, 'a')).toThrow(/twice/);
  });

  it('alloc and free emit pages events', () => {
    const { pool, events } = setup();
    const p = allocPages(pool, 2, 'dmabuf', 5)!;
    freePages(pool, p, 'dmabuf');
    expect(events.map((e) => e.type)).toEqual(['pages.alloc', 'pages.free']);
    expect(events[0]).toMatchObject({ owner: 'dmabuf', buf: 5, pages: [0, 1] });
    expect(events[1]).toMatchObject({ owner: 'dmabuf', buf: 5, pages: [0, 1] });
  });
});

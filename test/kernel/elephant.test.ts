/**
 * König's elephant (dri-devel, 26 Feb 2020): if userspace could *replace* a
 * buffer's fences, it could make a buffer that a shader is still writing
 * look idle, get it freed, and have the shader write into memory the
 * kernel reused for page tables. The 2020 RFC's import did replace; the
 * import Linux merged in 6.0 only adds. Both are run here, same steps.
 */
import { describe, expect, it } from 'vitest';
import type { KernelEvent } from '../../shared/kernel/events';
import { pageOwner } from '../../shared/kernel/page-pool';
import { SyncValidator } from '../../shared/kernel/sync-validator';
import { DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_SYNC_WRITE } from '../../shared/kernel/uapi';
import { VGPU_BO_WRITE } from '../../shared/kernel/vgpu-drm';
import { MS, alloc, client, pollNow, setup, submitOk, swFence } from './vgpu-helpers';

function exploit(legacyReplaceImport: boolean) {
  const { kernel, clock } = setup({ legacyReplaceImport });
  const validator = new SyncValidator(kernel);
  const events: KernelEvent[] = [];
  kernel.subscribe((e) => events.push(e));

  // 1. A process's shader writes a buffer for a long time.
  const { p, drm, heap } = client(kernel, 'hostile');
  const buf = alloc(p, heap, 4n * 4096n);
  const bufPages = events.flatMap((e) => (e.type === 'dmabuf.alloc' ? e.pages : []));
  submitOk(p, drm, { bos: [{ fd: buf, flags: VGPU_BO_WRITE }], duration_ns: 100n * MS, label: 'shader' });
  clock.advance(10n * MS);

  // 2. It imports an already-signaled sync_file as the buffer's WRITE fence.
  const done = swFence(p);
  done.signal();
  expect(p.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: done.fd })).toBe(0);

  // 3. It closes the buffer: the last reference.
  p.close(buf);

  // 4. Another process opens the GPU: its page table is allocated.
  const victim = kernel.spawn('victim');
  expect(victim.open('/dev/dri/card0')).toBeGreaterThanOrEqual(0);
  const tableAlloc = events.filter((e) => e.type === 'pages.alloc' && e.owner === 'page table').at(-1);
  const tablePages = tableAlloc?.type === 'pages.alloc' ? tableAlloc.pages : [];

  // 5. The shader runs to its end.
  clock.advance(90n * MS);
  return { kernel, clock, validator, events, p, buf, bufPages, tablePages };
}

describe("König's elephant", () => {
  it('with the 2020 replace-import, the buffer looks idle while the shader runs', async () => {
    const { kernel, clock } = setup({ legacyReplaceImport: true });
    const { p, drm, heap } = client(kernel, 'hostile');
    const buf = alloc(p, heap);
    submitOk(p, drm, { bos: [{ fd: buf, flags: VGPU_BO_WRITE }], duration_ns: 100n * MS });
    expect(await pollNow(p, buf)).toEqual([false, false]);
    const done = swFence(p);
    done.signal();
    p.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: done.fd });
    expect(await pollNow(p, buf)).toEqual([true, true]);
    clock.advance(100n * MS);
  });

  it('with the 2020 replace-import, the shader writes into pages that became a page table', () => {
    const { validator, bufPages, tablePages } = exploit(true);
    // The freed buffer's pages went straight to the page table.
    expect(tablePages.length).toBeGreaterThan(0);
    expect(tablePages.every((pg) => bufPages.includes(pg))).toBe(true);
    expect(validator.hazards).toHaveLength(1);
    const h = validator.hazards[0];
    // Reported the moment the page table lands on the shader's pages.
    expect(h).toMatchObject({ kind: 'use-after-free', label: 'shader', other: 'page table', t: 10n * MS });
    expect(h?.pages).toEqual(bufPages);
    expect(h?.explanation).toMatch(/shader.*is writing buffer \d+.*page\(s\) \d+ now belong to "page table"/);
  });

  it('the pages were freed while the job still ran', () => {
    const { events } = exploit(true);
    const freed = events.findIndex((e) => e.type === 'pages.free' && e.owner === 'dma-buf');
    const jobDone = events.findIndex((e) => e.type === 'job.done');
    expect(freed).toBeGreaterThanOrEqual(0);
    expect(freed).toBeLessThan(jobDone);
  });

  it('with the merged add-only import, the pages stay until the shader ends and nothing is reported', () => {
    const { kernel, validator, events, bufPages, tablePages } = exploit(false);
    expect(validator.hazards).toEqual([]);
    expect(tablePages.some((pg) => bufPages.includes(pg))).toBe(false);
    const freed = events.findIndex((e) => e.type === 'pages.free' && e.owner === 'dma-buf');
    const jobDone = events.findIndex((e) => e.type === 'job.done');
    expect(freed).toBeGreaterThan(jobDone);
    for (const pg of bufPages) expect(pageOwner(kernel.pages, pg)).toBe(undefined);
  });

  it('with the merged import the buffer stays busy for poll while the shader runs', async () => {
    const { kernel, clock } = setup();
    const { p, drm, heap } = client(kernel, 'hostile');
    const buf = alloc(p, heap);
    submitOk(p, drm, { bos: [{ fd: buf, flags: VGPU_BO_WRITE }], duration_ns: 100n * MS });
    const done = swFence(p);
    done.signal();
    p.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: done.fd });
    expect(await pollNow(p, buf)).toEqual([false, false]);
    clock.advance(100n * MS);
    expect(await pollNow(p, buf)).toEqual([true, true]);
  });
});

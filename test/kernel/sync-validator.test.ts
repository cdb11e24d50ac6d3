import { describe, expect, it } from 'vitest';
import type { KernelEvent } from '../../shared/kernel/events';
import { SyncValidator } from '../../shared/kernel/sync-validator';
import { DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_SYNC_WRITE } from '../../shared/kernel/uapi';
import {
  VGPU_BO_READ,
  VGPU_BO_WRITE,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  VGPU_SUBMIT_NO_IMPLICIT,
} from '../../shared/kernel/vgpu-drm';
import { MS, alloc, client, ringNew, setup, submitOk, swFence } from './vgpu-helpers';

const W = (fd: number) => ({ fd, flags: VGPU_BO_WRITE });
const R = (fd: number) => ({ fd, flags: VGPU_BO_READ });
const EXPLICIT = VGPU_SUBMIT_NO_IMPLICIT;

function world(options: { legacyReplaceImport?: boolean } = {}) {
  const { kernel, clock } = setup(options);
  const v = new SyncValidator(kernel);
  const a = client(kernel, 'client');
  const c = client(kernel, 'compositor');
  const ringA = ringNew(a.p, a.drm, 'client');
  const ringC = ringNew(c.p, c.drm, 'compositor');
  const buf = alloc(a.p, a.heap);
  const cbuf = c.p.receiveFd(a.p, buf);
  return { kernel, clock, v, a, c, ringA, ringC, buf, cbuf };
}

describe('sync validator: synchronized work shows no hazard', () => {
  it('implicit sync across processes and rings: write, read, write', () => {
    const { clock, v, a, c, ringA, ringC, buf, cbuf } = world();
    submitOk(a.p, a.drm, { ring: ringA, bos: [W(buf)], duration_ns: 5n * MS });
    submitOk(c.p, c.drm, { ring: ringC, bos: [R(cbuf)], duration_ns: 3n * MS });
    submitOk(a.p, a.drm, { ring: ringA, bos: [W(buf)], duration_ns: 5n * MS });
    clock.advance(50n * MS);
    expect(v.hazards).toEqual([]);
  });

  it('explicit sync: the reader waits on the writer out-fence, the writer on the reader out-fence', () => {
    const { clock, v, a, c, ringA, ringC, buf, cbuf } = world();
    const w = submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT | VGPU_SUBMIT_FENCE_FD_OUT, bos: [W(buf)], duration_ns: 5n * MS });
    const acquire = c.p.receiveFd(a.p, w.fence_fd);
    const r = submitOk(c.p, c.drm, {
      ring: ringC,
      flags: EXPLICIT | VGPU_SUBMIT_FENCE_FD_IN | VGPU_SUBMIT_FENCE_FD_OUT,
      fence_fd: acquire,
      bos: [R(cbuf)],
      duration_ns: 3n * MS,
    });
    const release = a.p.receiveFd(c.p, r.fence_fd);
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT | VGPU_SUBMIT_FENCE_FD_IN, fence_fd: release, bos: [W(buf)] });
    clock.advance(50n * MS);
    expect(v.hazards).toEqual([]);
  });

  it('concurrent readers are fine', () => {
    const { clock, v, a, c, ringA, ringC, buf, cbuf } = world();
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT, bos: [R(buf)], duration_ns: 5n * MS });
    submitOk(c.p, c.drm, { ring: ringC, flags: EXPLICIT, bos: [R(cbuf)], duration_ns: 5n * MS });
    clock.advance(10n * MS);
    expect(v.hazards).toEqual([]);
  });
});

describe('sync validator: unsynchronized work is reported and explained', () => {
  it('read-during-write: a reader with NO_IMPLICIT and no in-fence while the writer runs', () => {
    const { clock, v, a, c, ringA, ringC, buf, cbuf } = world();
    submitOk(a.p, a.drm, { ring: ringA, bos: [W(buf)], duration_ns: 5n * MS, label: 'render' });
    clock.advance(1n * MS);
    submitOk(c.p, c.drm, { ring: ringC, flags: EXPLICIT, bos: [R(cbuf)], label: 'composite' });
    expect(v.hazards).toHaveLength(1);
    const h = v.hazards[0];
    expect(h).toMatchObject({ kind: 'read-during-write', label: 'composite', t: 1n * MS });
    expect(h?.other).toContain('"render"');
    expect(h?.explanation).toMatch(/composite.*started reading buffer \d+ while job \d+ "render".*still running/);
  });

  it('read-during-write also when the earlier writer has not even started', () => {
    const { v, a, c, ringA, ringC, buf, cbuf } = world();
    const gate = swFence(a.p);
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT | VGPU_SUBMIT_FENCE_FD_IN, fence_fd: gate.fd, bos: [W(buf)], label: 'render' });
    submitOk(c.p, c.drm, { ring: ringC, flags: EXPLICIT, bos: [R(cbuf)], label: 'composite' });
    expect(v.ofKind('read-during-write')).toHaveLength(1);
    expect(v.hazards[0]?.explanation).toContain('not even started');
  });

  it('an implicit reader does not see an explicit (BOOKKEEP) writer: read-during-write', () => {
    const { v, a, c, ringA, ringC, buf, cbuf } = world();
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT, bos: [W(buf)], duration_ns: 5n * MS, label: 'nvidia' });
    submitOk(c.p, c.drm, { ring: ringC, bos: [R(cbuf)], label: 'composite' });
    expect(v.hazards.map((h) => h.kind)).toEqual(['read-during-write']);
  });

  it('write-during-read: a writer that does not wait for the reader (ignored release)', () => {
    const { v, a, c, ringA, ringC, buf, cbuf } = world();
    submitOk(c.p, c.drm, { ring: ringC, bos: [R(cbuf)], duration_ns: 5n * MS, label: 'composite' });
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT, bos: [W(buf)], label: 'next frame' });
    expect(v.hazards.map((h) => [h.kind, h.label])).toEqual([['write-during-read', 'next frame']]);
    expect(v.hazards[0]?.explanation).toContain('half-drawn');
  });

  it('write-during-write: two writers with no ordering', () => {
    const { v, a, c, ringA, ringC, buf, cbuf } = world();
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT, bos: [W(buf)], duration_ns: 5n * MS, label: 'one' });
    submitOk(c.p, c.drm, { ring: ringC, flags: EXPLICIT, bos: [W(cbuf)], label: 'two' });
    expect(v.hazards.map((h) => [h.kind, h.label, h.other])).toEqual([['write-during-write', 'two', expect.stringContaining('"one"')]]);
  });

  it('hazards are kernel events, seen by every observer', () => {
    const { kernel, v, a, c, ringA, ringC, buf, cbuf } = world();
    const seen: KernelEvent[] = [];
    kernel.subscribe((e) => e.type === 'hazard' && seen.push(e));
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT, bos: [W(buf)], duration_ns: 5n * MS });
    submitOk(c.p, c.drm, { ring: ringC, flags: EXPLICIT, bos: [R(cbuf)] });
    expect(seen).toEqual(v.hazards);
    expect(seen).toHaveLength(1);
  });

  it('use-after-free at job start: the pages were handed on before a queued job ran', () => {
    const { kernel, clock, v, a, c, ringA, buf, cbuf } = world({ legacyReplaceImport: true });
    c.p.close(cbuf);
    const gate = swFence(a.p);
    submitOk(a.p, a.drm, { ring: ringA, flags: VGPU_SUBMIT_FENCE_FD_IN, fence_fd: gate.fd, bos: [R(buf)], label: 'late read' });
    // Make the buffer look idle (replace its READ fences), free it, reuse its page.
    const idle = swFence(a.p);
    idle.signal();
    expect(a.p.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: idle.fd })).toBe(0);
    a.p.close(buf);
    const thief = kernel.spawn('thief');
    expect(thief.open('/dev/dri/card0')).toBeGreaterThanOrEqual(0);
    gate.signal();
    expect(v.hazards.map((h) => [h.kind, h.other])).toEqual([['use-after-free', 'page table']]);
    expect(v.hazards[0]?.explanation).toMatch(/started reading buffer/);
    clock.advance(5n * MS);
    expect(v.hazards).toHaveLength(1); // once per job and buffer
  });

  it('use-after-free at job end: the pages were freed under the running job, no one took them yet', () => {
    const { clock, v, a, c, ringA, buf, cbuf } = world({ legacyReplaceImport: true });
    c.p.close(cbuf);
    submitOk(a.p, a.drm, { ring: ringA, bos: [W(buf)], duration_ns: 5n * MS, label: 'render' });
    const idle = swFence(a.p);
    idle.signal();
    expect(a.p.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: idle.fd })).toBe(0);
    a.p.close(buf);
    expect(v.hazards).toEqual([]);
    clock.advance(5n * MS);
    expect(v.hazards.map((h) => [h.kind, h.other, h.t])).toEqual([['use-after-free', 'free memory', 5n * MS]]);
    expect(v.hazards[0]?.explanation).toMatch(/render.*wrote buffer \d+.*are free/);
  });

  it('use-after-free while running: reported when the allocation takes the pages', () => {
    const { kernel, clock, v, a, c, ringA, buf, cbuf } = world({ legacyReplaceImport: true });
    c.p.close(cbuf);
    submitOk(a.p, a.drm, { ring: ringA, bos: [W(buf)], duration_ns: 5n * MS, label: 'render' });
    const idle = swFence(a.p);
    idle.signal();
    expect(a.p.ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: idle.fd })).toBe(0);
    a.p.close(buf);
    clock.advance(2n * MS);
    const thief = client(kernel, 'thief');
    alloc(thief.p, thief.heap);
    expect(v.hazards.map((h) => [h.kind, h.t])).toEqual([['use-after-free', 2n * MS]]);
    expect(v.hazards[0]?.other).toMatch(/page table|dma-buf/);
    clock.advance(5n * MS);
    expect(v.hazards).toHaveLength(1);
  });

  it('dispose stops observing', () => {
    const { v, a, c, ringA, ringC, buf, cbuf } = world();
    v.dispose();
    submitOk(a.p, a.drm, { ring: ringA, flags: EXPLICIT, bos: [W(buf)], duration_ns: 5n * MS });
    submitOk(c.p, c.drm, { ring: ringC, flags: EXPLICIT, bos: [W(cbuf)] });
    expect(v.hazards).toEqual([]);
  });
});

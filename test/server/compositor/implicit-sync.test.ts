/**
 * The implicit path end to end: the compositor's EXPORT_SYNC_FILE(READ)
 * snapshot at commit (Mutter), its IMPORT_SYNC_FILE(READ) of the
 * composition fence into the buffer so the client's next implicitly synced
 * write waits for the read, wl_buffer.release for replaced buffers, and
 * locks that go away with the client.
 */
import { describe, expect, it } from 'vitest';
import { Harness, type TestClient } from './harness';
import { DMA_BUF_SYNC_READ, POLLIN, SW_SYNC_IOC_INC } from '../../../shared/kernel/uapi';
import {
  dmabufId,
  gpuRing,
  jobDoneAt,
  jobsReading,
  makeBuffer,
  ofType,
  openWindow,
  pendingSyncFile,
  recordTrace,
  submitWrite,
  type Gpu,
  type TestBuffer,
  type Window,
} from './explicit-helpers';

const MS = 1_000_000n;

interface ImplicitClient {
  c: TestClient;
  w: Window;
  gpu: Gpu;
}

async function implicitClient(h: Harness, name = 'implicit'): Promise<ImplicitClient> {
  const c = await h.connect(name);
  const w = openWindow(c);
  await h.run(20n * MS); // the initial commit is presented
  return { c, w, gpu: gpuRing(c) };
}

function commit(s: ImplicitClient, buf: TestBuffer): void {
  s.w.surface.send.attach(buf.proxy, 0, 0);
  s.w.surface.send.commit();
  s.c.env.flush();
}

/** Run in small steps until `cond` holds (at most `maxNs`). */
async function runUntil(h: Harness, cond: () => boolean, maxNs = 100n * MS): Promise<void> {
  const end = h.clock.now() + maxNs;
  while (!cond() && h.clock.now() < end) await h.run(250_000n, 250_000n);
  if (!cond()) throw new Error('condition never held');
}

describe('implicit sync: the compositor read and the next write', () => {
  it("the client's next implicitly synced write waits for the composition that read the buffer", async () => {
    const h = new Harness({ compositionCost: { baseNs: 6n * MS, perSurfaceNs: 0n } });
    const s = await implicitClient(h);
    const events = recordTrace(h);
    const x = makeBuffer(s.c);
    const id = dmabufId(s.c, x.fd);
    submitWrite(s.c, s.gpu, x.fd, 1n * MS, { label: 'frame 1' });
    commit(s, x);
    await runUntil(h, () => jobsReading(events, id).length > 0);
    const read = jobsReading(events, id)[0]!;
    // The client writes the buffer again at once (it did not wait for release).
    submitWrite(s.c, s.gpu, x.fd, 1n * MS, { label: 'frame 2' });
    await h.run(30n * MS);
    const runnable = ofType(events, 'job.runnable').find((e) => e.label === 'frame 2');
    const done = jobDoneAt(events, read.job);
    expect(done).toBeDefined();
    expect(runnable).toBeDefined();
    expect(done! - read.t).toBe(6n * MS);
    expect(runnable!.t).toBeGreaterThanOrEqual(done!);
    expect(h.hazards()).toBe(0);
  });

  it('the compositor imports the composition fence into the buffer with IMPORT_SYNC_FILE(READ) in its own process', async () => {
    const h = new Harness();
    const s = await implicitClient(h);
    const events = recordTrace(h);
    const x = makeBuffer(s.c);
    const id = dmabufId(s.c, x.fd);
    commit(s, x);
    await h.run(20n * MS);
    const read = jobsReading(events, id)[0];
    if (!read) throw new Error('never composited');
    const pid = h.compositor.proc.pid;
    const compFd = [...h.compositor.surfaces.values()][0]!.current!.buffer.attrs.fd;
    const sys = ofType(events, 'syscall').filter((e) => e.what === 'DMA_BUF_IOCTL_IMPORT_SYNC_FILE');
    expect(sys).toEqual([expect.objectContaining({ pid, call: 'ioctl', fd: compFd, result: 0 })]);
    const imports = ofType(events, 'dmabuf.import').filter((e) => e.buf === id);
    expect(imports).toEqual([expect.objectContaining({ pid, flags: DMA_BUF_SYNC_READ, fences: [read.fence] })]);
    expect(ofType(events, 'resv.add')).toContainEqual(expect.objectContaining({ buf: id, fence: read.fence, usage: 'READ' }));
  });
});

describe('implicit sync: the commit-time snapshot (cpu-wait)', () => {
  it('takes an EXPORT_SYNC_FILE(READ) snapshot at commit and latches once the render it holds completes', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await implicitClient(h);
    const events = recordTrace(h);
    const x = makeBuffer(s.c);
    const id = dmabufId(s.c, x.fd);
    submitWrite(s.c, s.gpu, x.fd, 25n * MS, { label: 'render' });
    commit(s, x);
    await h.settle();
    const committedAt = ofType(events, 'protocol').find((e) => e.dir === 'request' && e.iface === 'wl_surface' && e.message === 'commit')!.t;
    const pid = h.compositor.proc.pid;
    expect(ofType(events, 'syscall').filter((e) => e.pid === pid && e.what === 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE')).toEqual([
      expect.objectContaining({ t: committedAt, result: 0 }),
    ]);
    const render = ofType(events, 'job.queued').find((e) => e.label === 'render')!;
    expect(ofType(events, 'dmabuf.export')).toEqual([expect.objectContaining({ pid, buf: id, flags: DMA_BUF_SYNC_READ, fence: render.fence })]);
    await h.run(60n * MS);
    const renderDone = jobDoneAt(events, render.job)!;
    const latch = ofType(events, 'surface.latch').find((e) => e.buf === id)!;
    expect(latch.t).toBeGreaterThanOrEqual(renderDone);
    expect(jobsReading(events, id)[0]!.t).toBeGreaterThanOrEqual(renderDone);
    expect(h.hazards()).toBe(0);
  });

  it('is a snapshot: a write the client submits after commit does not extend the wait', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await implicitClient(h);
    const events = recordTrace(h);
    const x = makeBuffer(s.c);
    const id = dmabufId(s.c, x.fd);
    submitWrite(s.c, s.gpu, x.fd, 5n * MS, { label: 'render' });
    commit(s, x);
    await h.settle();
    // After commit, more work on the buffer: a write that waits on a fence that never signals.
    const never = pendingSyncFile(s.c);
    submitWrite(s.c, s.gpu, x.fd, 1n * MS, { inFence: never.fence, label: 'late write' });
    await h.run(40n * MS);
    const render = ofType(events, 'job.queued').find((e) => e.label === 'render')!;
    const latch = ofType(events, 'surface.latch').find((e) => e.buf === id);
    expect(latch).toBeDefined();
    expect(latch!.t).toBeGreaterThanOrEqual(jobDoneAt(events, render.job)!);
    expect(ofType(events, 'surface.presentation').filter((e) => e.result === 'presented')).not.toHaveLength(0);
    // The late write is still pending on the buffer: polling the dma-buf
    // itself (not a snapshot) would still be waiting.
    expect(ofType(events, 'job.start').find((e) => e.label === 'late write')).toBeUndefined();
    const pfd = { fd: x.fd, events: POLLIN, revents: 0 };
    await expect(s.c.proc.poll([pfd], 0)).resolves.toBe(0);
    // Writing a committed buffer before its release breaks the client's
    // side of the contract: the validator blames that write, nothing else.
    expect(h.compositor.validator.hazards.map((z) => z.other)).toEqual([expect.stringContaining('late write')]);
  });

  it('gpu-wait takes no snapshot: the update latches at once and the composition waits for the render on the GPU', async () => {
    const h = new Harness({ policy: 'gpu-wait' });
    const s = await implicitClient(h);
    const events = recordTrace(h);
    const x = makeBuffer(s.c);
    const id = dmabufId(s.c, x.fd);
    submitWrite(s.c, s.gpu, x.fd, 25n * MS, { label: 'render' });
    commit(s, x);
    await h.run(60n * MS);
    const pid = h.compositor.proc.pid;
    expect(ofType(events, 'syscall').filter((e) => e.pid === pid && e.what === 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE')).toHaveLength(0);
    const render = ofType(events, 'job.queued').find((e) => e.label === 'render')!;
    const renderDone = jobDoneAt(events, render.job)!;
    const latch = ofType(events, 'surface.latch').find((e) => e.buf === id)!;
    expect(latch.t).toBeLessThan(renderDone);
    expect(jobsReading(events, id)[0]!.t).toBeGreaterThanOrEqual(renderDone);
    expect(h.hazards()).toBe(0);
  });
});

describe('implicit sync: release and client lifetime', () => {
  it('wl_buffer.release arrives for a replaced buffer, after the read fence is in place, and not for the one on screen', async () => {
    const h = new Harness();
    const s = await implicitClient(h);
    const events = recordTrace(h);
    const x = makeBuffer(s.c);
    const y = makeBuffer(s.c);
    commit(s, x);
    await h.run(20n * MS);
    expect(x.released).toBe(0);
    commit(s, y);
    await h.run(20n * MS);
    expect(x.released).toBe(1);
    expect(y.released).toBe(0);
    const xId = dmabufId(s.c, x.fd);
    const importAt = ofType(events, 'dmabuf.import').filter((e) => e.buf === xId).map((e) => e.t);
    const releaseAt = ofType(events, 'protocol').filter((e) => e.dir === 'event' && e.iface === 'wl_buffer' && e.message === 'release').map((e) => e.t);
    expect(importAt).toHaveLength(1);
    expect(releaseAt).toHaveLength(1);
    expect(releaseAt[0]!).toBeGreaterThanOrEqual(importAt[0]!);
  });

  it('a client that disconnects with an update still locked releases the lock and its fds', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const fdsBefore = h.compositor.proc.fdCount;
    const s = await implicitClient(h);
    const x = makeBuffer(s.c);
    const never = pendingSyncFile(s.c);
    submitWrite(s.c, s.gpu, x.fd, 1n * MS, { inFence: never.fence, label: 'render' });
    commit(s, x);
    await h.run(30n * MS);
    const surface = [...h.compositor.surfaces.values()][0]!;
    expect(surface.queue.length).toBe(1);
    expect(surface.queue.pending()[0]!.locks).toBe(1);
    s.c.conn.close();
    await h.run(10n * MS);
    expect(h.compositor.surfaces.size).toBe(0);
    expect(surface.queue.length).toBe(0);
    expect(surface.stats.discarded).toBe(1);
    expect(h.compositor.proc.fdCount).toBe(fdsBefore);
    // The render finishing later wakes nothing in the compositor.
    s.c.proc.ioctl(never.timeline, SW_SYNC_IOC_INC, 1);
    await h.run(20n * MS);
    expect(h.compositor.proc.fdCount).toBe(fdsBefore);
  });
});

/**
 * External rings (VGPU_RING_EXTERNAL): a client executes its ring's jobs
 * itself, JOB_WAIT handing them out and JOB_DONE completing them, while
 * the kernel keeps dependencies, order, the hang timeout and the fence.
 */
import { describe, expect, it } from 'vitest';
import { EBUSY, ECANCELED, EINVAL, EIO, ENOENT, ETIMEDOUT } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import type { Process } from '../../shared/kernel/process';
import { DMA_BUF_SYNC_READ, DRM_IOCTL_SYNCOBJ_CREATE, DRM_IOCTL_SYNCOBJ_QUERY, requestName } from '../../shared/kernel/uapi';
import {
  DRM_IOCTL_VGPU_JOB_DONE,
  DRM_IOCTL_VGPU_JOB_WAIT,
  DRM_IOCTL_VGPU_RING_CLOSE,
  DRM_IOCTL_VGPU_RING_NEW,
  VGPU_BO_WRITE,
  VGPU_RING_EXTERNAL,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  type DrmVgpuJobWait,
} from '../../shared/kernel/vgpu-drm';
import { MS, alloc, client, exportSync, fenceInfo, pollNow, ringNew, setup, submitOk, swFence } from './vgpu-helpers';

/** RING_NEW with VGPU_RING_EXTERNAL; the ring's id. */
function externalRing(p: Process, drm: number, name = 'webgpu'): number {
  const a = { name, flags: VGPU_RING_EXTERNAL, ring: 0 };
  expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, a)).toBe(0);
  return a.ring;
}

function waitArgs(ring: number, over: Partial<DrmVgpuJobWait> = {}): DrmVgpuJobWait {
  return { ring, flags: 0, fence: 0, pad: 0, duration_ns: 0n, ...over };
}

/** DRM_IOCTL_VGPU_JOB_WAIT: the result (a number, or a Promise while it waits) and the written args. */
function jobWait(p: Process, drm: number, ring: number, over: Partial<DrmVgpuJobWait> = {}) {
  const args = waitArgs(ring, over);
  return { r: p.ioctl(drm, DRM_IOCTL_VGPU_JOB_WAIT, args), args };
}

function jobDone(p: Process, drm: number, ring: number, fence: number, error = 0, pad = 0): number | Promise<number> {
  return p.ioctl(drm, DRM_IOCTL_VGPU_JOB_DONE, { ring, fence, error, pad });
}

/** Whether a promise has settled once pending microtasks have run (the model's wake-ups are microtasks). */
async function settled(promise: number | Promise<number>): Promise<boolean> {
  let done = false;
  void Promise.resolve(promise).then(() => {
    done = true;
  });
  for (let i = 0; i < 8; i++) await Promise.resolve();
  return done;
}

describe('vgpu external rings: uapi', () => {
  it('request numbers follow from the struct sizes and have uapi names', () => {
    expect(DRM_IOCTL_VGPU_JOB_WAIT).toBe(0xc0186444);
    expect(DRM_IOCTL_VGPU_JOB_DONE).toBe(0xc0106445);
    expect(requestName(DRM_IOCTL_VGPU_JOB_WAIT)).toBe('DRM_IOCTL_VGPU_JOB_WAIT');
    expect(requestName(DRM_IOCTL_VGPU_JOB_DONE)).toBe('DRM_IOCTL_VGPU_JOB_DONE');
  });

  it('RING_NEW takes VGPU_RING_EXTERNAL and no other flag bit', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, { name: 'x', flags: VGPU_RING_EXTERNAL | 2, ring: 0 })).toBe(-EINVAL);
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_NEW, { name: 'x', flags: VGPU_RING_EXTERNAL, ring: 0 })).toBe(0);
  });

  it('JOB_WAIT: flags or pad not 0 is -EINVAL', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    expect(jobWait(p, drm, ring, { flags: 1 }).r).toBe(-EINVAL);
    expect(jobWait(p, drm, ring, { pad: 1 }).r).toBe(-EINVAL);
  });

  it('JOB_DONE: pad not 0 or a positive error is -EINVAL, and the job runs on', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const s = submitOk(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT });
    expect(jobDone(p, drm, ring, s.fence, 0, 1)).toBe(-EINVAL);
    expect(jobDone(p, drm, ring, s.fence, 5)).toBe(-EINVAL);
    expect(fenceInfo(p, s.fence_fd).status).toBe(0);
  });

  it('JOB_WAIT on the shared ring, a plain own ring or an unknown ring is -ENOENT', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const plain = ringNew(p, drm, 'plain');
    expect(jobWait(p, drm, 0).r).toBe(-ENOENT);
    expect(jobWait(p, drm, plain).r).toBe(-ENOENT);
    expect(jobWait(p, drm, 999).r).toBe(-ENOENT);
  });
});

describe('vgpu external rings: jobs', () => {
  it('a job on an external ring waits for the client: the simulated engine does not finish it', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const s = submitOk(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT, duration_ns: 1n * MS });
    clock.advance(100n * MS);
    expect(fenceInfo(p, s.fence_fd).status).toBe(0);
  });

  it('JOB_WAIT answers at once, with seqno and duration, when a job already runs', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    submitOk(p, drm, { ring, duration_ns: 7n * MS });
    const w = jobWait(p, drm, ring);
    expect(w.r).toBe(0);
    expect(w.args).toMatchObject({ fence: 1, duration_ns: 7n * MS });
  });

  it("JOB_WAIT resolves only after the job's in-fence signals", async () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const sw = swFence(p);
    submitOk(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_IN, fence_fd: sw.fd });
    const w = jobWait(p, drm, ring);
    expect(await settled(w.r)).toBe(false);
    sw.signal();
    expect(await w.r).toBe(0);
    expect(w.args.fence).toBe(1);
  });

  it("JOB_DONE signals the job's fence: the out sync_file, the out syncobj point and the buffer's implicit fences follow", async () => {
    const { kernel } = setup();
    const { p, drm, heap } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const buf = alloc(p, heap);
    const so = { handle: 0, flags: 0 };
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_CREATE, so)).toBe(0);
    const s = submitOk(p, drm, {
      ring,
      flags: VGPU_SUBMIT_FENCE_FD_OUT,
      bos: [{ fd: buf, flags: VGPU_BO_WRITE }],
      out_syncobjs: [{ handle: so.handle, flags: 0, point: 5n }],
    });
    const implicit = exportSync(p, buf, DMA_BUF_SYNC_READ);
    expect(await pollNow(p, buf)).toEqual([false, false]);
    expect(jobDone(p, drm, ring, s.fence)).toBe(0);
    expect(fenceInfo(p, s.fence_fd).status).toBe(1);
    expect(fenceInfo(p, implicit).status).toBe(1);
    expect(await pollNow(p, buf)).toEqual([true, true]);
    const q = { handles: [so.handle], points: [0n], count_handles: 1, flags: 0 };
    expect(p.ioctl(drm, DRM_IOCTL_SYNCOBJ_QUERY, q)).toBe(0);
    expect(q.points).toEqual([5n]);
  });

  it("JOB_DONE's error becomes the fence's error", () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const s = submitOk(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT });
    expect(jobDone(p, drm, ring, s.fence, -EIO)).toBe(0);
    expect(fenceInfo(p, s.fence_fd).status).toBe(-EIO);
  });

  it('jobs are handed out in ring order, the next only once the one before is done', async () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    submitOk(p, drm, { ring });
    submitOk(p, drm, { ring });
    const first = jobWait(p, drm, ring);
    expect(first.r).toBe(0);
    expect(first.args.fence).toBe(1);
    const second = jobWait(p, drm, ring);
    expect(await settled(second.r)).toBe(false);
    expect(jobDone(p, drm, ring, 2)).toBe(-ENOENT);
    expect(jobDone(p, drm, ring, 1)).toBe(0);
    expect(await second.r).toBe(0);
    expect(second.args.fence).toBe(2);
  });

  it("another process's JOB_DONE for the ring is -ENOENT and does not complete the job", () => {
    const { kernel } = setup();
    const a = client(kernel, 'page');
    const b = client(kernel, 'other');
    const ring = externalRing(a.p, a.drm);
    const s = submitOk(a.p, a.drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT });
    expect(jobWait(b.p, b.drm, ring).r).toBe(-ENOENT);
    expect(jobDone(b.p, b.drm, ring, s.fence)).toBe(-ENOENT);
    expect(fenceInfo(a.p, s.fence_fd).status).toBe(0);
  });

  it('the hang timeout still declares the job -ETIMEDOUT, and a late JOB_DONE is -ENOENT', () => {
    const { kernel, clock } = setup({ vgpu: { jobTimeoutNs: 10n * MS } });
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const s = submitOk(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT });
    expect(jobWait(p, drm, ring).r).toBe(0);
    clock.advance(10n * MS);
    expect(fenceInfo(p, s.fence_fd).status).toBe(-ETIMEDOUT);
    expect(jobDone(p, drm, ring, s.fence)).toBe(-ENOENT);
  });

  it('a job declared hung before any JOB_WAIT is not handed out', async () => {
    const { kernel, clock } = setup({ vgpu: { jobTimeoutNs: 10n * MS } });
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    submitOk(p, drm, { ring });
    clock.advance(10n * MS);
    const w = jobWait(p, drm, ring);
    expect(await settled(w.r)).toBe(false);
  });

  it('a second JOB_WAIT on the ring while one is pending is -EBUSY', () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    expect(jobWait(p, drm, ring).r).toBeInstanceOf(Promise);
    expect(jobWait(p, drm, ring).r).toBe(-EBUSY);
  });

  it('closing the ring cancels a pending JOB_WAIT with -ECANCELED', async () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const w = jobWait(p, drm, ring);
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_CLOSE, { ring, pad: 0 })).toBe(0);
    expect(await w.r).toBe(-ECANCELED);
  });

  it('closing the DRM file cancels a pending JOB_WAIT with -ECANCELED', async () => {
    const { kernel } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const w = jobWait(p, drm, ring);
    expect(p.close(drm)).toBe(0);
    expect(await w.r).toBe(-ECANCELED);
  });

  it('after the ring closes, its jobs finish on the simulated engine at start + duration', () => {
    const { kernel, clock } = setup();
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const s = submitOk(p, drm, { ring, flags: VGPU_SUBMIT_FENCE_FD_OUT, duration_ns: 4n * MS });
    expect(jobWait(p, drm, ring).r).toBe(0);
    clock.advance(1n * MS);
    expect(p.ioctl(drm, DRM_IOCTL_VGPU_RING_CLOSE, { ring, pad: 0 })).toBe(0);
    expect(jobDone(p, drm, ring, s.fence)).toBe(-ENOENT);
    clock.advance(2n * MS);
    expect(fenceInfo(p, s.fence_fd).status).toBe(0);
    clock.advance(1n * MS);
    expect(fenceInfo(p, s.fence_fd).status).toBe(1);
  });

  it('job events name the engine that ran the job: the client, the display or the simulated one', () => {
    const { kernel } = setup();
    const events: KernelEvent[] = [];
    kernel.subscribe((e) => events.push(e));
    kernel.vgpu.attachExternalEngine('compositor', { execute: (j) => kernel.vgpu.completeJob(j.id) });
    const { p, drm } = client(kernel, 'page');
    const ring = externalRing(p, drm);
    const s = submitOk(p, drm, { ring, label: 'page' });
    expect(jobDone(p, drm, ring, s.fence)).toBe(0);
    submitOk(p, drm, { ring: ringNew(p, drm, 'compositor'), label: 'compose' });
    submitOk(p, drm, { label: 'gfx', duration_ns: 0n });
    const engines = events.flatMap((e) =>
      e.type === 'job.start' || e.type === 'job.done' ? [`${e.type} ${e.label} ${e.engine}`] : [],
    );
    expect(engines).toEqual([
      'job.start page client',
      'job.done page client',
      'job.start compose display',
      'job.done compose display',
      'job.start gfx simulated',
    ]);
  });
});

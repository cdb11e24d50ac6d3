import { describe, expect, it } from 'vitest';
import { DRM_IOCTL_VGPU_JOB_DONE, DRM_IOCTL_VGPU_JOB_WAIT, runExternalRing, type DrmVgpuJobDone, type DrmVgpuJobWait } from '../../client/page/external-ring';
import type { KernelApi } from '../../client/page/client-lib';

const ECANCELED = 125;
const ENOENT = 2;

/** A kernel that hands out the given jobs from JOB_WAIT, then -ECANCELED, and records JOB_DONE. */
function fakeKernel(jobs: { fence: number; duration: bigint }[], doneAnswer = 0) {
  const done: DrmVgpuJobDone[] = [];
  const waits: DrmVgpuJobWait[] = [];
  const kernel: KernelApi = {
    open: async () => -1,
    close: async () => 0,
    dup: async () => -1,
    poll: async () => 0,
    fstat: async () => -1,
    ioctl: async (_fd, request, arg) => {
      if (request === DRM_IOCTL_VGPU_JOB_WAIT) {
        const w = arg as DrmVgpuJobWait;
        waits.push({ ...w });
        const next = jobs.shift();
        if (!next) return -ECANCELED;
        w.fence = next.fence;
        w.duration_ns = next.duration;
        return 0;
      }
      if (request === DRM_IOCTL_VGPU_JOB_DONE) {
        done.push({ ...(arg as DrmVgpuJobDone) });
        return doneAnswer;
      }
      return -22;
    },
  };
  return { kernel, done, waits };
}

describe('the external ring engine loop', () => {
  it('runs each job JOB_WAIT hands out and completes it with JOB_DONE, in order', async () => {
    const { kernel, done, waits } = fakeKernel([
      { fence: 1, duration: 5n },
      { fence: 2, duration: 7n },
    ]);
    const ran: [number, bigint][] = [];
    const engine = runExternalRing(kernel, 3, 9, async (fence, d) => {
      ran.push([fence, d]);
      return 0;
    });
    await engine.finished;
    expect(ran).toEqual([
      [1, 5n],
      [2, 7n],
    ]);
    expect(waits[0]).toEqual({ ring: 9, flags: 0, fence: 0, pad: 0, duration_ns: 0n });
    expect(done).toEqual([
      { ring: 9, fence: 1, error: 0, pad: 0 },
      { ring: 9, fence: 2, error: 0, pad: 0 },
    ]);
    expect(engine.completed()).toBe(2);
  });

  it('a failed job is completed with a negative errno, a throwing one with -EIO', async () => {
    const { kernel, done } = fakeKernel([
      { fence: 1, duration: 0n },
      { fence: 2, duration: 0n },
    ]);
    let n = 0;
    await runExternalRing(kernel, 3, 9, async () => {
      n++;
      if (n === 1) return 5;
      throw new Error('device lost');
    }).finished;
    expect(done.map((d) => d.error)).toEqual([-5, -5]);
  });

  it('a late completion (job declared hung: -ENOENT) is not counted and the loop goes on', async () => {
    const { kernel } = fakeKernel([{ fence: 1, duration: 0n }], -ENOENT);
    const engine = runExternalRing(kernel, 3, 9, async () => 0);
    await engine.finished;
    expect(engine.completed()).toBe(0);
  });

  it('any other JOB_WAIT error ends the loop with the errno named', async () => {
    const kernel: KernelApi = { open: async () => -1, close: async () => 0, dup: async () => -1, poll: async () => 0, fstat: async () => -1, ioctl: async () => -ENOENT };
    await expect(runExternalRing(kernel, 3, 9, async () => 0).finished).rejects.toThrow('DRM_IOCTL_VGPU_JOB_WAIT: -2');
  });
});

import { describe, expect, it } from 'vitest';
import { EBADF, ENOSYS } from '../../shared/kernel/errno';
import type { KernelEvent } from '../../shared/kernel/events';
import {
  DRM_IOCTL_VGPU_SUBMIT,
  VGPU_SUBMIT_FENCE_FD_IN,
  VGPU_SUBMIT_FENCE_FD_OUT,
  VGPU_SUBMIT_NO_IMPLICIT,
  type DrmVgpuSubmit,
} from '../../shared/kernel/vgpu-drm';
import type { ClientEnv, KernelApi, KernelStat } from '../../client/core/kernel-api';
import type { Renderer, RenderBuffer, RenderSlice, RenderTarget, SubmittedJob } from '../../client/core/renderer';
import { SwapchainClient, type SwapchainOptions } from '../../client/core/swapchain-client';
import type { SyncKind } from '../../client/core/sync/index';
import { Harness } from '../server/compositor/harness';

const MS = 1_000_000n;

/** A renderer that records what the port tells it; its frames are `slices` jobs of 1 ms on the simulated engine. */
function recordingRenderer(slices = 1, ringFlags = 0) {
  const log: string[] = [];
  const jobs: SubmittedJob[] = [];
  let target: RenderTarget | undefined;
  const renderer: Renderer = {
    ringFlags,
    async attach(t) {
      target = t;
      log.push('attach');
    },
    planFrame(buffer: RenderBuffer, frame: number): RenderSlice[] {
      log.push(`plan ${frame} into ${buffer.index}`);
      return Array.from({ length: slices }, (_, i) => ({
        durationNs: 1n * MS,
        async ready() {
          log.push(`ready ${frame}.${i}`);
        },
      }));
    },
    submitted(job) {
      jobs.push(job);
      log.push(`submitted ${job.frame}.${job.slice}`);
    },
    async detach() {
      log.push('detach');
    },
  };
  return { renderer, log, jobs, target: () => target };
}

/** The submit structs as the client passed them (copied before the kernel writes its outputs). */
function recordSubmits(kernel: KernelApi): { kernel: KernelApi; submits: DrmVgpuSubmit[] } {
  const submits: DrmVgpuSubmit[] = [];
  return {
    submits,
    kernel: {
      ...kernel,
      ioctl(fd, request, arg) {
        if (request === DRM_IOCTL_VGPU_SUBMIT) submits.push(structuredClone(arg as DrmVgpuSubmit));
        return kernel.ioctl(fd, request, arg);
      },
    },
  };
}

async function started(h: Harness, options: SwapchainOptions, renderer: Renderer, wrap: (k: KernelApi) => KernelApi = (k) => k) {
  const tc = await h.connect(options.name);
  const events: KernelEvent[] = [];
  h.kernel.subscribe((ev) => {
    if (!('pid' in ev) || ev.pid === tc.proc.pid) events.push(ev);
  });
  const env: ClientEnv = { ...tc.env, kernel: wrap(tc.env.kernel) };
  const client = new SwapchainClient(env, options, renderer);
  const starting = client.start();
  await h.settle();
  await starting;
  return { client, events };
}

describe('SwapchainClient over the renderer port', () => {
  it('attaches the renderer to its ring and every buffer before the first frame', async () => {
    const h = new Harness();
    const r = recordingRenderer();
    const { client } = await started(h, { kind: 'explicit', name: 'a', frames: 2 }, r.renderer);
    await h.run(50n * MS);
    const t = r.target();
    expect(r.log[0]).toBe('attach');
    expect(t?.ring).toBeGreaterThan(0);
    expect(t?.buffers.map((b) => [b.index, b.size, b.width, b.height, b.stride])).toEqual([
      [0, 16_384n, 64, 64, 256],
      [1, 16_384n, 64, 64, 256],
      [2, 16_384n, 64, 64, 256],
    ]);
    expect(new Set(t?.buffers.map((b) => b.fd)).size).toBe(3);
    expect(client.stats.errors).toBe(0);
  });

  it('tells the renderer each job as the kernel queued it: seqno, buffer, frame', async () => {
    const h = new Harness();
    const r = recordingRenderer();
    const { client, events } = await started(h, { kind: 'implicit', name: 'b', frames: 5 }, r.renderer);
    await h.run(100n * MS);
    await client.finished();
    // The kernel's view: each job's fence's seqno on its ring, and the dma-buf it writes.
    const seqnoOf = new Map(events.flatMap((ev) => (ev.type === 'fence.init' ? [[ev.fence, Number(ev.seqno)] as const] : [])));
    const allocated = events.flatMap((ev) => (ev.type === 'dmabuf.alloc' ? [ev.buf] : []));
    const queued = events.flatMap((ev) => (ev.type === 'job.queued' ? [{ label: ev.label, seqno: seqnoOf.get(ev.fence), buf: ev.bos?.[0]?.buf }] : []));
    expect(r.jobs.map((j) => ({ label: `b frame ${j.frame}`, seqno: j.seqno, buf: allocated[j.buffer.index] }))).toEqual(queued);
    expect(r.jobs.map((j) => [j.frame, j.buffer.index])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 0],
      [5, 1],
    ]);
    expect(r.log.at(-1)).toBe('detach');
  });

  it('submits a frame split into slices one by one, each once it is ready', async () => {
    const h = new Harness();
    const r = recordingRenderer(3);
    const { client, events } = await started(h, { kind: 'explicit', name: 'c', frames: 2 }, r.renderer);
    await h.run(100n * MS);
    await client.finished();
    expect(r.log.slice(1, 8)).toEqual(['plan 1 into 0', 'ready 1.0', 'submitted 1.0', 'ready 1.1', 'submitted 1.1', 'ready 1.2', 'submitted 1.2']);
    const labels = events.flatMap((ev) => (ev.type === 'job.queued' ? [ev.label] : []));
    expect(labels).toEqual(['c frame 1.1', 'c frame 1.2', 'c frame 1.3', 'c frame 2.1', 'c frame 2.2', 'c frame 2.3']);
    expect(client.stats).toMatchObject({ committed: 2, renders: 2, errors: 0 });
    expect(client.stats.presented + client.stats.discarded).toBe(2);
  });

  it('fences a split frame first-in, last-out', async () => {
    const h = new Harness();
    const r = recordingRenderer(3);
    let rec: ReturnType<typeof recordSubmits> | undefined;
    const { client } = await started(h, { kind: 'bridged', name: 'd', frames: 1 }, r.renderer, (k) => (rec = recordSubmits(k)).kernel);
    await h.run(50n * MS);
    await client.finished();
    const fenced = rec?.submits.map((s) => ({ in: (s.flags & VGPU_SUBMIT_FENCE_FD_IN) !== 0 && s.fence_fd >= 0, out: (s.flags & VGPU_SUBMIT_FENCE_FD_OUT) !== 0 }));
    expect(fenced).toEqual([
      { in: true, out: false },
      { in: false, out: false },
      { in: false, out: true },
    ]);
    expect(client.stats).toMatchObject({ committed: 1, errors: 0 });
  });

  it('signals an explicit frame’s acquire point from its last slice only', async () => {
    const h = new Harness();
    const r = recordingRenderer(2);
    let rec: ReturnType<typeof recordSubmits> | undefined;
    const { client } = await started(h, { kind: 'explicit', name: 'e', frames: 2 }, r.renderer, (k) => (rec = recordSubmits(k)).kernel);
    await h.run(100n * MS);
    await client.finished();
    expect(rec?.submits.map((s) => s.out_syncobjs?.map((o) => o.point) ?? [])).toEqual([[], [1n], [], [2n]]);
    expect(client.stats).toMatchObject({ committed: 2, errors: 0 });
  });

  it('fails to start when the kernel refuses the ring flags its renderer asked for', async () => {
    const h = new Harness();
    const tc = await h.connect('f');
    // 0x80 is no ring flag the uapi defines: -EINVAL.
    const client = new SwapchainClient(tc.env, { kind: 'implicit', name: 'f' }, recordingRenderer(1, 0x80).renderer);
    const failure = client.start().then(() => null, (e: unknown) => e);
    await h.settle();
    expect(String(await failure)).toMatch(/RING_NEW\(flags 128\): -22/);
  });
});

describe('each sync kind fences its render submission', () => {
  const expected: Record<SyncKind, { flags: number; outPoints: number; inFence: boolean }> = {
    explicit: { flags: VGPU_SUBMIT_NO_IMPLICIT, outPoints: 1, inFence: false },
    'explicit-fd': { flags: VGPU_SUBMIT_NO_IMPLICIT | VGPU_SUBMIT_FENCE_FD_OUT, outPoints: 0, inFence: false },
    implicit: { flags: 0, outPoints: 0, inFence: false },
    bridged: { flags: VGPU_SUBMIT_NO_IMPLICIT | VGPU_SUBMIT_FENCE_FD_IN | VGPU_SUBMIT_FENCE_FD_OUT, outPoints: 0, inFence: true },
    naive: { flags: VGPU_SUBMIT_NO_IMPLICIT, outPoints: 0, inFence: false },
  };
  for (const [kind, want] of Object.entries(expected) as [SyncKind, (typeof expected)[SyncKind]][]) {
    it(`${kind}: flags ${want.flags >>> 0}, ${want.outPoints} out point(s), ${want.inFence ? 'an' : 'no'} in-fence`, async () => {
      const h = new Harness();
      let rec: ReturnType<typeof recordSubmits> | undefined;
      const { client } = await started(h, { kind, name: kind, frames: 1 }, recordingRenderer().renderer, (k) => (rec = recordSubmits(k)).kernel);
      await h.run(30n * MS);
      await client.finished();
      const s = rec?.submits[0];
      expect({ flags: s?.flags, outPoints: s?.nr_out_syncobjs, inFence: (s?.fence_fd ?? -1) >= 0 }).toEqual({ ...want, flags: want.flags >>> 0 });
      expect(client.stats).toMatchObject({ committed: 1, errors: 0 });
    });
  }
});

describe('a buffer’s identity', () => {
  const withFstat = (answer: (fd: number) => KernelStat | number) => (k: KernelApi): KernelApi => ({ ...k, fstat: async (fd) => answer(fd) });

  it('is its fstat st_ino', async () => {
    const h = new Harness();
    const r = recordingRenderer();
    await started(h, { kind: 'implicit', name: 'g', frames: 1 }, r.renderer, withFstat((fd) => ({ st_dev: 0, st_ino: 1000 + fd, st_mode: 0, st_size: 16_384n })));
    expect(r.target()?.buffers.map((b) => b.ino)).toEqual(r.target()?.buffers.map((b) => 1000 + b.fd));
  });

  it('is unknown (null) where the kernel has no fstat', async () => {
    const h = new Harness();
    const r = recordingRenderer();
    await started(h, { kind: 'implicit', name: 'h', frames: 1 }, r.renderer, withFstat(() => -ENOSYS));
    expect(r.target()?.buffers.map((b) => b.ino)).toEqual([null, null, null]);
  });

  it('stops the client from starting when fstat of a new dma-buf fails otherwise', async () => {
    const h = new Harness();
    const tc = await h.connect('i');
    const env: ClientEnv = { ...tc.env, kernel: withFstat(() => -EBADF)(tc.env.kernel) };
    const failure = new SwapchainClient(env, { kind: 'implicit', name: 'i' }, recordingRenderer().renderer).start().then(() => null, (e: unknown) => e);
    await h.settle();
    expect(String(await failure)).toMatch(/fstat of a new dma-buf: -9/);
  });
});

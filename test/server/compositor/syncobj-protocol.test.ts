import { describe, expect, it } from 'vitest';
import { Harness, type TestClient } from './harness';
import { wpLinuxDrmSyncobjManagerV1Interface } from '../../../shared/protocol/generated/linux-drm-syncobj-v1';
import { SW_SYNC_IOC_INC, DRM_IOCTL_SYNCOBJ_QUERY } from '../../../shared/kernel/uapi';
import type { KernelEvent } from '../../../shared/kernel/events';
import { hi, lo, makeBuffer, openWindow, pendingPoint, signalPoint, syncobjTimeline, type Timeline } from './explicit-helpers';

const MS = 1_000_000n;

async function syncobjClient(h: Harness, name = 'client') {
  const c = await h.connect(name);
  const w = openWindow(c);
  const mgr = c.env.bind(wpLinuxDrmSyncobjManagerV1Interface, 1);
  const sos = mgr.send.getSurface(w.surface);
  const drm = c.proc.open('/dev/dri/card0');
  const acq = syncobjTimeline(c, drm);
  const rel = syncobjTimeline(c, drm);
  const acqP = mgr.send.importTimeline(acq.fd);
  const relP = mgr.send.importTimeline(rel.fd);
  c.env.flush();
  await h.settle();
  return { c, w, mgr, sos, drm, acq, rel, acqP, relP };
}

function errorOf(c: TestClient) {
  return c.conn.error;
}

describe('linux-drm-syncobj-v1 errors (wlroots order)', () => {
  it('surface_exists: a second syncobj surface for the same wl_surface', async () => {
    const h = new Harness();
    const s = await syncobjClient(h);
    s.mgr.send.getSurface(s.w.surface);
    s.c.env.flush();
    await h.settle();
    expect(errorOf(s.c)).toMatchObject({ kind: 'protocol', interface: 'wp_linux_drm_syncobj_manager_v1', code: 0 });
  });

  it('invalid_timeline: importing an fd that is not a syncobj', async () => {
    const h = new Harness();
    const s = await syncobjClient(h);
    const buf = makeBuffer(s.c);
    s.mgr.send.importTimeline(buf.fd);
    s.c.env.flush();
    await h.settle();
    expect(errorOf(s.c)).toMatchObject({ interface: 'wp_linux_drm_syncobj_manager_v1', code: 1 });
  });

  const cases: [string, number, (s: Awaited<ReturnType<typeof syncobjClient>>) => void][] = [
    ['no_buffer: an acquire point without a buffer', 3, (s) => s.sos.send.setAcquirePoint(s.acqP, 0, 1)],
    ['no_buffer: a release point without a buffer', 3, (s) => s.sos.send.setReleasePoint(s.relP, 0, 1)],
    [
      'no_acquire_point: a buffer with only a release point',
      4,
      (s) => {
        s.w.surface.send.attach(makeBuffer(s.c).proxy, 0, 0);
        s.sos.send.setReleasePoint(s.relP, 0, 1);
      },
    ],
    [
      'no_release_point: a buffer with only an acquire point',
      5,
      (s) => {
        s.w.surface.send.attach(makeBuffer(s.c).proxy, 0, 0);
        s.sos.send.setAcquirePoint(s.acqP, 0, 1);
      },
    ],
    [
      'conflicting_points: acquire at or after release on one timeline',
      6,
      (s) => {
        s.w.surface.send.attach(makeBuffer(s.c).proxy, 0, 0);
        s.sos.send.setAcquirePoint(s.acqP, 0, 5);
        s.sos.send.setReleasePoint(s.acqP, 0, 5);
      },
    ],
    [
      'no_buffer wins over no_release_point (order): points set, attach(NULL)',
      3,
      (s) => {
        s.w.surface.send.attach(null, 0, 0);
        s.sos.send.setAcquirePoint(s.acqP, 0, 1);
      },
    ],
  ];
  for (const [title, code, act] of cases) {
    it(title, async () => {
      const h = new Harness();
      const s = await syncobjClient(h);
      const other = await syncobjClient(h, 'bystander');
      act(s);
      s.w.surface.send.commit();
      s.c.env.flush();
      await h.settle();
      expect(errorOf(s.c)).toMatchObject({ kind: 'protocol', interface: 'wp_linux_drm_syncobj_surface_v1', code });
      expect(errorOf(s.c)?.message.length).toBeGreaterThan(10);
      // Only the offender is ended.
      const rt = other.c.env.roundtrip();
      await h.settle();
      await expect(rt).resolves.toBeTypeOf('number');
      expect(errorOf(other.c)).toBeNull();
    });
  }

  it('no_surface: setting a point after the wl_surface is gone', async () => {
    const h = new Harness();
    const s = await syncobjClient(h);
    s.w.surface.send.destroy();
    s.sos.send.setAcquirePoint(s.acqP, 0, 1);
    s.c.env.flush();
    await h.settle();
    expect(errorOf(s.c)).toMatchObject({ interface: 'wp_linux_drm_syncobj_surface_v1', code: 1 });
  });

  it('setting a point twice in one cycle replaces it (no error)', async () => {
    const h = new Harness();
    const s = await syncobjClient(h);
    signalPoint(s.c, s.drm, s.acq, 2n);
    s.w.surface.send.attach(makeBuffer(s.c).proxy, 0, 0);
    s.sos.send.setAcquirePoint(s.acqP, 0, 1);
    s.sos.send.setAcquirePoint(s.acqP, 0, 2);
    s.sos.send.setReleasePoint(s.relP, 0, 1);
    s.w.surface.send.commit();
    s.c.env.flush();
    await h.run(30n * MS);
    expect(errorOf(s.c)).toBeNull();
  });
});

describe('linux-drm-syncobj-v1 acquire and release', () => {
  function commit(s: Awaited<ReturnType<typeof syncobjClient>>, buf: { proxy: Parameters<typeof s.w.surface.send.attach>[0] }, acquire: bigint, rel: Timeline, relP: typeof s.relP, release: bigint) {
    s.w.surface.send.attach(buf.proxy, 0, 0);
    s.sos.send.setAcquirePoint(s.acqP, hi(acquire), lo(acquire));
    s.sos.send.setReleasePoint(relP, hi(release), lo(release));
    s.w.surface.send.commit();
    s.c.env.flush();
    void rel;
  }

  it('a buffer is never sampled before its acquire point signals, and is sampled after', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await syncobjClient(h);
    const buf = makeBuffer(s.c);
    const sw = pendingPoint(s.c, s.drm, s.acq, 1n);
    const events: KernelEvent[] = [];
    h.kernel.subscribe((e) => events.push(e));
    commit(s, buf, 1n, s.rel, s.relP, 1n);
    await h.run(100n * MS);
    const bufId = [...h.compositor.surfaces.values()][0]?.queue.pending()[0]?.state.use?.buffer.attrs.buf;
    expect(bufId).toBeDefined();
    const reads = () => events.filter((e) => e.type === 'job.start' && e.bos?.some((b) => b.buf === bufId));
    expect(reads()).toHaveLength(0);
    const signalAt = h.clock.now();
    s.c.proc.ioctl(sw, SW_SYNC_IOC_INC, 1);
    await h.run(30n * MS);
    expect(reads().length).toBeGreaterThan(0);
    expect(reads()[0]!.t).toBeGreaterThanOrEqual(signalAt);
  });

  it('commit before submit: a point that does not exist yet is waited for, then sampled', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await syncobjClient(h);
    const buf = makeBuffer(s.c);
    commit(s, buf, 1n, s.rel, s.relP, 1n);
    await h.run(50n * MS);
    const surface = [...h.compositor.surfaces.values()][0]!;
    expect(surface.current).toBeNull();
    expect(surface.queue.length).toBe(1);
    signalPoint(s.c, s.drm, s.acq, 1n);
    await h.run(30n * MS);
    expect(surface.current?.buffer.attrs.fd).toBeGreaterThanOrEqual(0);
    expect(surface.stats.presented).toBe(2); // the initial configure commit, then this one
    expect(errorOf(s.c)).toBeNull();
  });

  it('the release point signals only after the composition that last read the buffer completes', async () => {
    const h = new Harness({ policy: 'cpu-wait', compositionCost: { baseNs: 4n * MS, perSurfaceNs: 0n } });
    const s = await syncobjClient(h);
    const events: KernelEvent[] = [];
    h.kernel.subscribe((e) => events.push(e));
    const a = makeBuffer(s.c);
    const aBuf = events.find((e) => e.type === 'dmabuf.alloc');
    if (aBuf?.type !== 'dmabuf.alloc') throw new Error('no alloc');
    signalPoint(s.c, s.drm, s.acq, 1n);
    commit(s, a, 1n, s.rel, s.relP, 1n);
    const readsOfA = () => events.filter((e) => e.type === 'job.start' && e.ring === 'compositor' && e.bos?.some((x) => x.buf === aBuf.buf));
    for (let i = 0; i < 40 && readsOfA().length === 0; i++) await h.run(250_000n, 250_000n);
    const read = readsOfA()[0];
    if (read?.type !== 'job.start') throw new Error('buffer never composited');
    // The buffer stops being used while the composition reading it still runs.
    s.w.surface.send.destroy();
    s.c.env.flush();
    await h.settle();
    const q = { handles: [s.rel.handle], points: [0n], count_handles: 1, flags: 0 };
    s.c.proc.ioctl(s.drm, DRM_IOCTL_SYNCOBJ_QUERY, q);
    expect(q.points[0]).toBe(0n);
    await h.run(5n * MS, 250_000n);
    const done = events.find((e) => e.type === 'job.done' && e.job === read.job);
    expect(done).toBeDefined();
    s.c.proc.ioctl(s.drm, DRM_IOCTL_SYNCOBJ_QUERY, q);
    expect(q.points[0]).toBe(1n);
    // The release point's fence is the composition's: signaled at its completion.
    const relFence = events.filter((e) => e.type === 'syncobj.point' && e.point === 1n && e.pid === h.compositor.proc.pid).pop();
    expect(relFence).toBeDefined();
    const signaled = events.find((e) => e.type === 'fence.signaled' && relFence?.type === 'syncobj.point' && e.fence === relFence.fence);
    expect(signaled?.t).toBe(done!.t);
  });

  it('release without acquire: destroying the surface signals the pending release point', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await syncobjClient(h);
    const buf = makeBuffer(s.c);
    pendingPoint(s.c, s.drm, s.acq, 1n); // never signaled
    commit(s, buf, 1n, s.rel, s.relP, 1n);
    await h.run(30n * MS);
    s.w.surface.send.destroy();
    s.c.env.flush();
    await h.run(5n * MS);
    const q = { handles: [s.rel.handle], points: [0n], count_handles: 1, flags: 0 };
    s.c.proc.ioctl(s.drm, DRM_IOCTL_SYNCOBJ_QUERY, q);
    expect(q.points[0]).toBe(1n);
  });
});

/**
 * linux-explicit-synchronization-unstable-v1 end to end: every error the
 * compositor raises (each ending only the offender), the acquire sync_file
 * gating the first read of the buffer, and the release object getting
 * exactly one of fenced_release / immediate_release per commit, with
 * wl_buffer.release as well. (unsupported_buffer cannot happen here: every
 * wl_buffer is a dma-buf.)
 */
import { describe, expect, it } from 'vitest';
import { Harness, type TestClient } from './harness';
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import { wpPresentationInterface } from '../../../shared/protocol/generated/presentation-time';
import type { Proxy } from '../../../shared/protocol/client';
import { SW_SYNC_IOC_INC } from '../../../shared/kernel/uapi';
import { isSignaled } from '../../../shared/kernel/dma-fence';
import {
  dmabufId,
  fenceOf,
  gpuRing,
  jobDoneAt,
  jobsReading,
  makeBuffer,
  ofType,
  openWindow,
  pendingSyncFile,
  recordTrace,
  submitWrite,
  type TestBuffer,
  type Window,
} from './explicit-helpers';

const MS = 1_000_000n;
const SURFACE_SYNC = 'zwp_linux_surface_synchronization_v1';

interface SyncClient {
  c: TestClient;
  w: Window;
  mgr: Proxy<'zwp_linux_explicit_synchronization_v1'>;
  sync: Proxy<'zwp_linux_surface_synchronization_v1'>;
}

async function syncFileClient(h: Harness, name = 'client'): Promise<SyncClient> {
  const c = await h.connect(name);
  const w = openWindow(c);
  const mgr = c.env.bind(zwpLinuxExplicitSynchronizationV1Interface, 2);
  const sync = mgr.send.getSynchronization(w.surface);
  c.env.flush();
  await h.settle();
  return { c, w, mgr, sync };
}

/** The offender got this error; a bystander still roundtrips. */
async function expectOnlyOffenderEnded(h: Harness, offender: TestClient, bystander: TestClient, iface: string, code: number): Promise<void> {
  expect(offender.conn.error).toMatchObject({ kind: 'protocol', interface: iface, code });
  expect(offender.conn.error?.message.length).toBeGreaterThan(10);
  const rt = bystander.env.roundtrip();
  await h.settle();
  await expect(rt).resolves.toBeTypeOf('number');
  expect(bystander.conn.error).toBeNull();
}

interface ReleaseLog {
  fenced: number[];
  immediate: number;
}

/** get_release with a listener that logs which destructor event came. */
function getRelease(s: SyncClient, log: ReleaseLog): void {
  s.sync.send.getRelease().setListener({
    fencedRelease: (fd) => log.fenced.push(fd),
    immediateRelease: () => log.immediate++,
  });
}

function commitBuffer(s: SyncClient, buf: TestBuffer, opts: { fence?: number; release?: ReleaseLog } = {}): void {
  s.w.surface.send.attach(buf.proxy, 0, 0);
  if (opts.fence !== undefined) s.sync.send.setAcquireFence(opts.fence);
  if (opts.release) getRelease(s, opts.release);
  s.w.surface.send.commit();
  s.c.env.flush();
}

describe('linux-explicit-synchronization-v1 errors', () => {
  const cases: [string, string, number, (s: SyncClient) => void][] = [
    ['synchronization_exists: a second synchronization object for one wl_surface', 'zwp_linux_explicit_synchronization_v1', 0, (s) => s.mgr.send.getSynchronization(s.w.surface)],
    ['invalid_fence: a dma-buf fd instead of a sync_file', SURFACE_SYNC, 0, (s) => s.sync.send.setAcquireFence(makeBuffer(s.c).fd)],
    [
      'duplicate_fence: two acquire fences in one commit cycle',
      SURFACE_SYNC,
      1,
      (s) => {
        s.sync.send.setAcquireFence(pendingSyncFile(s.c).fence);
        s.sync.send.setAcquireFence(pendingSyncFile(s.c).fence);
      },
    ],
    [
      'duplicate_release: two get_release in one commit cycle',
      SURFACE_SYNC,
      2,
      (s) => {
        s.sync.send.getRelease();
        s.sync.send.getRelease();
      },
    ],
    [
      'no_surface: set_acquire_fence after the wl_surface was destroyed',
      SURFACE_SYNC,
      3,
      (s) => {
        s.w.surface.send.destroy();
        s.sync.send.setAcquireFence(pendingSyncFile(s.c).fence);
      },
    ],
    [
      'no_surface: get_release after the wl_surface was destroyed',
      SURFACE_SYNC,
      3,
      (s) => {
        s.w.surface.send.destroy();
        s.sync.send.getRelease();
      },
    ],
    [
      'no_buffer: an acquire fence in a commit without a buffer',
      SURFACE_SYNC,
      5,
      (s) => {
        s.sync.send.setAcquireFence(pendingSyncFile(s.c).fence);
        s.w.surface.send.commit();
      },
    ],
    [
      'no_buffer: a release in a commit without a buffer',
      SURFACE_SYNC,
      5,
      (s) => {
        s.sync.send.getRelease();
        s.w.surface.send.commit();
      },
    ],
    [
      'no_buffer: an acquire fence in a commit that attaches NULL',
      SURFACE_SYNC,
      5,
      (s) => {
        s.w.surface.send.attach(null, 0, 0);
        s.sync.send.setAcquireFence(pendingSyncFile(s.c).fence);
        s.w.surface.send.commit();
      },
    ],
  ];
  for (const [title, iface, code, act] of cases) {
    it(`${title} ends only the offender and leaks no compositor fd`, async () => {
      const h = new Harness();
      const fdsBefore = h.compositor.proc.fdCount;
      const s = await syncFileClient(h, 'offender');
      const other = await syncFileClient(h, 'bystander');
      act(s);
      s.c.env.flush();
      await h.settle();
      await expectOnlyOffenderEnded(h, s.c, other.c, iface, code);
      expect(h.compositor.proc.fdCount).toBe(fdsBefore);
    });
  }

  it('a new synchronization object after the old one is destroyed is no error', async () => {
    const h = new Harness();
    const s = await syncFileClient(h);
    s.sync.send.destroy();
    const again = s.mgr.send.getSynchronization(s.w.surface);
    again.send.getRelease();
    s.w.surface.send.attach(makeBuffer(s.c).proxy, 0, 0);
    s.w.surface.send.commit();
    s.c.env.flush();
    await h.run(30n * MS);
    expect(s.c.conn.error).toBeNull();
  });
});

describe('linux-explicit-synchronization-v1 acquire fence', () => {
  it('cpu-wait: the buffer is not sampled before its acquire sync_file signals, and is after', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await syncFileClient(h);
    const events = recordTrace(h);
    const buf = makeBuffer(s.c);
    const id = dmabufId(s.c, buf.fd);
    const acq = pendingSyncFile(s.c);
    commitBuffer(s, buf, { fence: acq.fence, release: { fenced: [], immediate: 0 } });
    await h.run(100n * MS);
    expect(jobsReading(events, id)).toHaveLength(0);
    const surface = [...h.compositor.surfaces.values()][0]!;
    expect(surface.queue.length).toBe(1);
    const signalAt = h.clock.now();
    s.c.proc.ioctl(acq.timeline, SW_SYNC_IOC_INC, 1);
    await h.run(30n * MS);
    const reads = jobsReading(events, id);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads[0]!.t).toBeGreaterThanOrEqual(signalAt);
    expect(surface.current?.buffer.attrs.buf).toBe(id);
    expect(s.c.conn.error).toBeNull();
  });

  it('gpu-wait: the update latches at once but the composition job only starts after the fence signals', async () => {
    const h = new Harness({ policy: 'gpu-wait' });
    const s = await syncFileClient(h);
    const events = recordTrace(h);
    const buf = makeBuffer(s.c);
    const id = dmabufId(s.c, buf.fd);
    const acq = pendingSyncFile(s.c);
    commitBuffer(s, buf, { fence: acq.fence });
    await h.run(50n * MS);
    const queued = events.filter((e) => e.type === 'job.queued' && e.ring === 'compositor' && e.bos?.some((b) => b.buf === id));
    expect(queued).toHaveLength(1);
    expect(jobsReading(events, id)).toHaveLength(0);
    const signalAt = h.clock.now();
    s.c.proc.ioctl(acq.timeline, SW_SYNC_IOC_INC, 1);
    await h.run(30n * MS);
    const reads = jobsReading(events, id);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads[0]!.t).toBeGreaterThanOrEqual(signalAt);
  });
});

describe('linux-explicit-synchronization-v1 without an acquire fence', () => {
  it("cpu-wait: a commit with no acquire fence waits for the buffer's implicit fences (as Weston's EGL import does)", async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await syncFileClient(h);
    await h.run(20n * MS);
    const events = recordTrace(h);
    const a = makeBuffer(s.c);
    const id = dmabufId(s.c, a.fd);
    submitWrite(s.c, gpuRing(s.c), a.fd, 15n * MS, { label: 'render' });
    commitBuffer(s, a, { release: { fenced: [], immediate: 0 } });
    await h.run(40n * MS);
    const render = ofType(events, 'job.queued').find((e) => e.label === 'render')!;
    const reads = jobsReading(events, id);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads[0]!.t).toBeGreaterThanOrEqual(jobDoneAt(events, render.job)!);
    expect(h.hazards()).toBe(0);
  });
});

describe('linux-explicit-synchronization-v1 release', () => {
  it('a release object outlives its destroyed synchronization object and still gets its event', async () => {
    const h = new Harness();
    const s = await syncFileClient(h);
    const a = makeBuffer(s.c);
    const b = makeBuffer(s.c);
    const rel: ReleaseLog = { fenced: [], immediate: 0 };
    getRelease(s, rel);
    s.sync.send.destroy();
    commitBuffer(s, a);
    await h.run(20n * MS);
    commitBuffer(s, b);
    await h.run(20n * MS);
    expect(rel.fenced.length + rel.immediate).toBe(1);
    expect(a.released).toBe(1);
    expect(s.c.conn.error).toBeNull();
  });

  it('exactly one of fenced_release / immediate_release per commit, and wl_buffer.release for every replaced buffer', async () => {
    const h = new Harness();
    const s = await syncFileClient(h);
    const events = recordTrace(h);
    const a = makeBuffer(s.c);
    const b = makeBuffer(s.c);
    const logs: ReleaseLog[] = [];
    for (let i = 0; i < 6; i++) {
      const log: ReleaseLog = { fenced: [], immediate: 0 };
      logs.push(log);
      commitBuffer(s, i % 2 === 0 ? a : b, { release: log });
      await h.run(10n * MS);
    }
    await h.run(20n * MS);
    const sent = () => events.filter((e) => e.type === 'protocol' && e.dir === 'event' && e.iface === 'zwp_linux_buffer_release_v1');
    // The sixth commit is still on screen: no release for it yet.
    expect(logs.map((l) => l.fenced.length + l.immediate)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(sent()).toHaveLength(5);
    expect(a.released).toBe(3);
    expect(b.released).toBe(2);
    s.w.surface.send.destroy();
    s.c.env.flush();
    await h.run(10n * MS);
    expect(logs.map((l) => l.fenced.length + l.immediate)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(sent()).toHaveLength(6);
    expect(b.released).toBe(3);
    expect(s.c.conn.error).toBeNull();
  });

  it('fenced_release carries the fence of the last composition that read the buffer', async () => {
    const h = new Harness({ compositionCost: { baseNs: 2n * MS, perSurfaceNs: 0n } });
    const s = await syncFileClient(h);
    const events = recordTrace(h);
    const a = makeBuffer(s.c);
    const b = makeBuffer(s.c);
    const relA: ReleaseLog = { fenced: [], immediate: 0 };
    commitBuffer(s, a, { release: relA });
    await h.run(25n * MS);
    // A commit without a buffer: the next frame composites `a` again.
    s.w.surface.send.commit();
    s.c.env.flush();
    await h.run(15n * MS);
    commitBuffer(s, b, { release: { fenced: [], immediate: 0 } });
    await h.run(15n * MS);
    expect(relA.immediate).toBe(0);
    expect(relA.fenced).toHaveLength(1);
    const reads = jobsReading(events, dmabufId(s.c, a.fd));
    expect(reads).toHaveLength(2);
    const last = reads[reads.length - 1]!;
    const fence = fenceOf(s.c.proc, relA.fenced[0]!);
    expect(fence.id).toBe(last.fence);
    expect(isSignaled(fence)).toBe(true);
    expect(fence.timestamp).toBe(jobDoneAt(events, last.job));
  });

  it('fenced_release sent while the composition still runs signals exactly when it completes', async () => {
    const h = new Harness({ compositionCost: { baseNs: 4n * MS, perSurfaceNs: 0n } });
    const s = await syncFileClient(h);
    const events = recordTrace(h);
    const a = makeBuffer(s.c);
    const id = dmabufId(s.c, a.fd);
    const rel: ReleaseLog = { fenced: [], immediate: 0 };
    commitBuffer(s, a, { release: rel });
    for (let i = 0; i < 80 && jobsReading(events, id).length === 0; i++) await h.run(250_000n, 250_000n);
    const read = jobsReading(events, id)[0];
    if (!read) throw new Error('buffer never composited');
    // The buffer stops being used while the composition reading it runs.
    s.w.surface.send.destroy();
    s.c.env.flush();
    await h.settle();
    expect(rel.fenced).toHaveLength(1);
    const fence = fenceOf(s.c.proc, rel.fenced[0]!);
    expect(fence.id).toBe(read.fence);
    expect(isSignaled(fence)).toBe(false);
    await h.run(5n * MS, 250_000n);
    const done = jobDoneAt(events, read.job);
    expect(done).toBeDefined();
    expect(isSignaled(fence)).toBe(true);
    expect(fence.timestamp).toBe(done);
    expect(a.released).toBe(1);
  });

  it('a buffer superseded before it was ever composited gets immediate_release (and discarded feedback)', async () => {
    const h = new Harness();
    const s = await syncFileClient(h);
    await h.run(20n * MS); // the initial commit is presented
    const presentation = s.c.env.bind(wpPresentationInterface, 2);
    const events = recordTrace(h);
    const a = makeBuffer(s.c);
    const b = makeBuffer(s.c);
    const relA: ReleaseLog = { fenced: [], immediate: 0 };
    const relB: ReleaseLog = { fenced: [], immediate: 0 };
    const fb: string[] = [];
    const feedback = (tag: string) =>
      presentation.send.feedback(s.w.surface).setListener({ presented: () => fb.push(`${tag} presented`), discarded: () => fb.push(`${tag} discarded`) });
    feedback('a');
    commitBuffer(s, a, { release: relA });
    feedback('b');
    commitBuffer(s, b, { release: relB });
    await h.run(20n * MS);
    expect(jobsReading(events, dmabufId(s.c, a.fd))).toHaveLength(0);
    expect(relA).toEqual({ fenced: [], immediate: 1 });
    expect(a.released).toBe(1);
    expect(relB.fenced.length + relB.immediate).toBe(0); // on screen
    expect(fb.sort()).toEqual(['a discarded', 'b presented']);
  });

  it('an update still waiting on its acquire fence when the surface goes gets immediate_release', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const s = await syncFileClient(h);
    const a = makeBuffer(s.c);
    const rel: ReleaseLog = { fenced: [], immediate: 0 };
    commitBuffer(s, a, { fence: pendingSyncFile(s.c).fence, release: rel });
    await h.run(30n * MS);
    expect(rel.fenced.length + rel.immediate).toBe(0);
    s.w.surface.send.destroy();
    s.c.env.flush();
    await h.run(5n * MS);
    expect(rel).toEqual({ fenced: [], immediate: 1 });
    expect(a.released).toBe(1);
  });
});

/**
 * presented + discarded == committed: every content update ends in exactly
 * one wp_presentation_feedback result, on the compositor's side (surface
 * stats) and on the client's (feedback events), whatever happens to it:
 * shown, superseded in the same latch, dropped with its surface while
 * queued, or latched into a frame still in flight when the surface or the
 * whole client goes away.
 */
import { describe, expect, it } from 'vitest';
import { Harness, type TestClient } from './harness';
import type { HeadlessClient, SyncKind } from '../../../client/node/headless-client';
import { wpPresentationInterface } from '../../../shared/protocol/generated/presentation-time';
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import type { Proxy } from '../../../shared/protocol/client';
import { SW_SYNC_IOC_INC } from '../../../shared/kernel/uapi';
import type { Surface } from '../../../server/compositor/surface';
import { LATCH_POLICIES } from '../../../server/compositor/types';
import { jobsReading, dmabufId, makeBuffer, openWindow, pendingSyncFile, recordTrace, type TestBuffer, type Window } from './explicit-helpers';

const MS = 1_000_000n;

/** A hand-driven client that commits faster than the display shows, each commit with feedback. */
interface Burst {
  c: TestClient;
  w: Window;
  presentation: Proxy<'wp_presentation'>;
  sync: Proxy<'zwp_linux_surface_synchronization_v1'> | null;
  buffers: TestBuffer[];
  /** sw_sync timelines of acquire fences still to signal, with when. */
  pending: { timeline: number; at: bigint }[];
  committed: number;
  presented: number;
  discarded: number;
}

async function burstClient(h: Harness, name: string, fenced: boolean): Promise<Burst> {
  const c = await h.connect(name);
  const w = openWindow(c);
  const presentation = c.env.bind(wpPresentationInterface, 2);
  const sync = fenced ? c.env.bind(zwpLinuxExplicitSynchronizationV1Interface, 2).send.getSynchronization(w.surface) : null;
  const buffers = [makeBuffer(c), makeBuffer(c), makeBuffer(c), makeBuffer(c)];
  await h.settle();
  return { c, w, presentation, sync, buffers, pending: [], committed: 0, presented: 0, discarded: 0 };
}

function burstCommit(h: Harness, b: Burst, fenceDelay: bigint): void {
  const buf = b.buffers[b.committed % b.buffers.length]!;
  b.presentation.send.feedback(b.w.surface).setListener({
    presented: () => b.presented++,
    discarded: () => b.discarded++,
  });
  b.w.surface.send.attach(buf.proxy, 0, 0);
  if (b.sync) {
    const f = pendingSyncFile(b.c);
    b.sync.send.setAcquireFence(f.fence);
    b.sync.send.getRelease();
    b.pending.push({ timeline: f.timeline, at: h.clock.now() + fenceDelay });
  }
  b.w.surface.send.commit();
  b.c.env.flush();
  b.committed++;
}

function signalDue(h: Harness, b: Burst): void {
  const now = h.clock.now();
  b.pending = b.pending.filter((p) => {
    if (p.at > now) return true;
    b.c.proc.ioctl(p.timeline, SW_SYNC_IOC_INC, 1);
    return false;
  });
}

function surfaceOf(h: Harness, titlePrefix: string): Surface {
  for (const s of h.compositor.surfaces.values()) if (s.role.kind === 'xdg_toplevel' && s.role.title.startsWith(titlePrefix)) return s;
  throw new Error(`no surface ${titlePrefix}`);
}

function balance(s: Surface): { committed: number; ended: number } {
  return { committed: s.stats.committed, ended: s.stats.presented + s.stats.discarded };
}

describe('presented + discarded == committed', () => {
  for (const policy of LATCH_POLICIES) {
    it(`${policy}: for every client of every kind, slow and bursting, once they stop and their queues drain`, async () => {
      const h = new Harness({ policy });
      const kinds: { kind: SyncKind; renderNs: bigint; name: string }[] = [
        { kind: 'explicit', renderNs: 3n * MS, name: 'explicit' },
        { kind: 'explicit-fd', renderNs: 3n * MS, name: 'explicit-fd' },
        { kind: 'implicit', renderNs: 3n * MS, name: 'implicit' },
        { kind: 'bridged', renderNs: 3n * MS, name: 'bridged' },
        { kind: 'naive', renderNs: 3n * MS, name: 'naive' },
        { kind: 'implicit', renderNs: 35n * MS, name: 'slow-implicit' },
        { kind: 'explicit', renderNs: 35n * MS, name: 'slow-explicit' },
        { kind: 'explicit-fd', renderNs: 35n * MS, name: 'slow-explicit-fd' },
      ];
      const clients: HeadlessClient[] = [];
      for (const k of kinds) clients.push(await h.client(k));
      const plain = await burstClient(h, 'burst', false);
      const fenced = await burstClient(h, 'burst-fenced', true);
      // 400 ms: the burst clients commit every 3 ms; fenced ones' fences signal 1..13 ms later.
      for (let i = 0; i < 400; i++) {
        if (i % 3 === 0) {
          burstCommit(h, plain, 0n);
          burstCommit(h, fenced, BigInt(1 + ((i * 7) % 13)) * MS);
        }
        signalDue(h, fenced);
        await h.run(1n * MS, 1n * MS);
      }
      const stops = clients.map((c) => c.stop());
      for (let i = 0; i < 100; i++) {
        signalDue(h, fenced);
        await h.run(1n * MS, 1n * MS);
      }
      await Promise.all(stops);
      await h.run(50n * MS);

      for (const c of clients) {
        expect(c.stats.errors).toBe(0);
        expect(c.stats.committed).toBeGreaterThan(5);
        expect({ name: c.options.name, ended: c.stats.presented + c.stats.discarded }).toEqual({ name: c.options.name, ended: c.stats.committed });
        expect(balance(surfaceOf(h, c.options.name))).toEqual({ committed: c.stats.committed + 1, ended: c.stats.committed + 1 });
      }
      for (const b of [plain, fenced]) {
        expect(b.c.conn.error).toBeNull();
        expect(b.discarded).toBeGreaterThan(b.committed / 2);
        expect(b.presented).toBeGreaterThan(10);
        expect(b.presented + b.discarded).toBe(b.committed);
        expect(balance(surfaceOf(h, b.c.name))).toEqual({ committed: b.committed + 1, ended: b.committed + 1 });
      }
      for (const s of h.compositor.surfaces.values()) expect(s.queue.length).toBe(0);
    });
  }

  it('updates still queued when the surface is destroyed are discarded', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const b = await burstClient(h, 'burst', true);
    await h.run(20n * MS);
    const surface = surfaceOf(h, 'burst');
    for (let i = 0; i < 4; i++) burstCommit(h, b, 1000n * MS); // fences that will not signal in time
    await h.run(30n * MS);
    expect(surface.queue.length).toBe(4);
    b.w.surface.send.destroy();
    b.c.env.flush();
    await h.run(10n * MS);
    expect(b.discarded).toBe(4);
    expect(balance(surface)).toEqual({ committed: 5, ended: 5 });
  });

  it('an update latched into a frame still in flight when its surface is destroyed ends as discarded', async () => {
    const h = new Harness({ compositionCost: { baseNs: 6n * MS, perSurfaceNs: 0n } });
    const b = await burstClient(h, 'burst', false);
    await h.run(20n * MS);
    const surface = surfaceOf(h, 'burst');
    const events = recordTrace(h);
    burstCommit(h, b, 0n);
    const id = dmabufId(b.c, b.buffers[0]!.fd);
    while (jobsReading(events, id).length === 0) await h.run(250_000n, 250_000n);
    // Latched and being composited: destroy the surface before the flip.
    b.w.surface.send.destroy();
    b.c.env.flush();
    await h.run(30n * MS);
    expect(b.presented + b.discarded).toBe(1);
    expect(balance(surface)).toEqual({ committed: 2, ended: 2 });
  });

  it('every surface balances when clients disconnect with updates queued and frames in flight', async () => {
    const h = new Harness({ policy: 'cpu-wait', compositionCost: { baseNs: 6n * MS, perSurfaceNs: 0n } });
    const clients: HeadlessClient[] = [];
    for (const kind of ['explicit', 'explicit-fd', 'implicit', 'bridged'] as const) {
      clients.push(await h.client({ kind, name: kind, renderNs: 2n * MS }));
      clients.push(await h.client({ kind, name: `slow-${kind}`, renderNs: 35n * MS }));
    }
    const b = await burstClient(h, 'burst', true);
    const surfaces = [...h.compositor.surfaces.values()];
    for (let i = 0; i < 100; i++) {
      burstCommit(h, b, 40n * MS);
      signalDue(h, b);
      await h.run(1n * MS, 1n * MS);
    }
    // Stop mid-frame: a composition is in flight now (6 ms of every 10).
    while (!h.compositor.output.compositionInFlight) await h.run(250_000n, 250_000n);
    expect(surfaces.some((s) => s.queue.length > 0)).toBe(true);
    for (const c of h.compositor.clients.keys()) c.destroy();
    await h.run(30n * MS);
    expect(h.compositor.surfaces.size).toBe(0);
    for (const s of surfaces) expect({ key: s.key, ...balance(s) }).toEqual({ key: s.key, committed: s.stats.committed, ended: s.stats.committed });
  });
});

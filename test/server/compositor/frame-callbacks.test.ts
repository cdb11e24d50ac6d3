/**
 * wl_surface.frame callbacks of content updates that are never shown
 * (issue 14). As in wlroots, Weston and Mutter: a superseded update's
 * callbacks fire with the update that replaced it; those of a surface not
 * shown wait until it is; those that can never fire (their surface is
 * destroyed) are destroyed, so wl_display.delete_id hands the id back
 * without a done. No callback keeps its id until the client disconnects.
 */
import { describe, expect, it } from 'vitest';
import { Harness, type TestClient } from './harness';
import { makeBuffer, openWindow, ofType, pendingSyncFile, recordTrace } from './explicit-helpers';
import { wlCompositorInterface } from '../../../shared/protocol/generated/wayland';
import { xdgWmBaseInterface } from '../../../shared/protocol/generated/xdg-shell';
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import type { TraceEvent } from '../../../shared/trace/events';
import type { Proxy } from '../../../shared/protocol/client';

const MS = 1_000_000n;

/** A frame callback that records its done. */
function frame(c: TestClient, surface: ReturnType<typeof openWindow>['surface'], log: string[], tag: string): Proxy<'wl_callback'> {
  const cb = surface.send.frame();
  cb.setListener({ done: () => log.push(tag) });
  return cb;
}

/** The ids the compositor handed back with wl_display.delete_id. */
function deletedIds(events: readonly TraceEvent[]): number[] {
  return ofType(events, 'protocol')
    .filter((e) => e.dir === 'event' && e.iface === 'wl_display' && e.message === 'delete_id')
    .map((e) => Number(e.args));
}

describe('frame callbacks of updates that are not shown', () => {
  it('a callback of a surface destroyed with its update still queued is destroyed: the id comes back, with no done', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const events = recordTrace(h);
    const c = await h.connect('queued');
    const w = openWindow(c);
    const compositor = c.env.bind(wlCompositorInterface, 6);
    await h.run(20n * MS);
    const sync = c.env.bind(zwpLinuxExplicitSynchronizationV1Interface, 2).send.getSynchronization(w.surface);
    const never = pendingSyncFile(c);
    const buf = makeBuffer(c);
    const done: string[] = [];
    const cb = frame(c, w.surface, done, 'queued');
    const id = cb.id;
    sync.send.setAcquireFence(never.fence);
    w.surface.send.attach(buf.proxy, 0, 0);
    w.surface.send.commit();
    c.env.flush();
    await h.run(30n * MS);
    expect(deletedIds(events)).not.toContain(id);
    sync.send.destroy();
    w.surface.send.destroy();
    c.env.flush();
    await h.run(10n * MS);
    expect(done).toEqual([]);
    expect(deletedIds(events)).toContain(id);
    // As with libwayland, the client frees the id once it drops its proxy
    // too; its next object then gets it, and the compositor accepts it.
    // Freed ids are reused before new ones (dense allocation): the sync
    // object's, the surface's and the callback's.
    cb.destroy();
    const next = [0, 1, 2].map(() => compositor.send.createRegion().id);
    expect(next).toContain(id);
    c.env.flush();
    await h.settle();
    expect(c.conn.error).toBeNull();
    expect(c.conn.error).toBeNull();
  });

  it('a callback requested but never committed is destroyed with its surface', async () => {
    const h = new Harness();
    const events = recordTrace(h);
    const c = await h.connect('pending');
    const w = openWindow(c);
    await h.run(20n * MS);
    const done: string[] = [];
    const id = frame(c, w.surface, done, 'pending').id;
    w.surface.send.destroy();
    c.env.flush();
    await h.run(10n * MS);
    expect(done).toEqual([]);
    expect(deletedIds(events)).toContain(id);
  });

  it('a callback of an update latched into a frame still composing when its surface goes is destroyed', async () => {
    const h = new Harness({ compositionCost: { baseNs: 6n * MS, perSurfaceNs: 0n } });
    const events = recordTrace(h);
    const c = await h.connect('inflight');
    const w = openWindow(c);
    await h.run(20n * MS);
    const buf = makeBuffer(c);
    const done: string[] = [];
    const id = frame(c, w.surface, done, 'inflight').id;
    w.surface.send.attach(buf.proxy, 0, 0);
    w.surface.send.commit();
    c.env.flush();
    // Run to the latch deadline (7.5 ms into the 10 ms period) but not to the flip.
    const latched = (): boolean => ofType(events, 'surface.latch').some((e) => e.buffer === buf.proxy.id);
    while (!latched()) await h.run(500_000n);
    w.surface.send.destroy();
    c.env.flush();
    await h.run(30n * MS);
    expect(done).toEqual([]);
    expect(deletedIds(events)).toContain(id);
  });

  it('callbacks of a surface without a role wait until it is shown, then fire; none is lost', async () => {
    const h = new Harness();
    const c = await h.connect('late-role');
    const compositor = c.env.bind(wlCompositorInterface, 6);
    const surface = compositor.send.createSurface();
    const buf = makeBuffer(c);
    const done: string[] = [];
    frame(c, surface, done, 'before role');
    surface.send.attach(buf.proxy, 0, 0);
    surface.send.commit();
    c.env.flush();
    await h.run(40n * MS);
    // Discarded at each deadline (never shown), its callback held.
    expect(done).toEqual([]);
    const xs = c.env.bind(xdgWmBaseInterface, 5).send.getXdgSurface(surface);
    xs.send.getToplevel();
    frame(c, surface, done, 'with role');
    surface.send.commit();
    c.env.flush();
    await h.run(40n * MS);
    expect(done).toEqual(['before role', 'with role']);
  });

  it('a superseded update\'s callback fires with the update that replaced it', async () => {
    const h = new Harness();
    const c = await h.connect('burst');
    const w = openWindow(c);
    await h.run(20n * MS);
    const done: string[] = [];
    for (const tag of ['a', 'b', 'c']) {
      frame(c, w.surface, done, tag);
      w.surface.send.attach(makeBuffer(c).proxy, 0, 0);
      w.surface.send.commit();
    }
    c.env.flush();
    await h.run(20n * MS);
    expect(done).toEqual(['a', 'b', 'c']);
  });
});

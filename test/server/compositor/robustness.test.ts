/**
 * Findings of the review that a client (or a teacher's knob) could hit:
 * each one used to crash the server, leak, or stall other clients.
 */
import { describe, expect, it } from 'vitest';
import { Harness } from './harness';
import { makeBuffer, openWindow } from './explicit-helpers';
import { wpPresentationInterface } from '../../../shared/protocol/generated/presentation-time';
import { wlOutputInterface, wlCompositorInterface } from '../../../shared/protocol/generated/wayland';
import { xdgWmBaseInterface } from '../../../shared/protocol/generated/xdg-shell';
import { ManualClock } from '../../../shared/kernel/clock';
import { Output } from '../../../server/compositor/output';

const MS = 1_000_000n;

describe('review findings', () => {
  it('a vblank period past 4.29 s reports refresh 0 (unknown) instead of overflowing the u32', async () => {
    const h = new Harness({ mode: { refreshHz: 1 } });
    expect(h.compositor.observability.control({ slowMotion: 5 })).toBeUndefined();
    const c = await h.connect('slow');
    const w = openWindow(c);
    const refresh: number[] = [];
    c.env.bind(wpPresentationInterface, 2).send.feedback(w.surface).setListener({ presented: (_a, _b, _c, r) => refresh.push(r) });
    w.surface.send.attach(makeBuffer(c).proxy, 0, 0);
    w.surface.send.commit();
    c.env.flush();
    await h.run(12_000n * MS, 100n * MS);
    expect(refresh).toEqual([0]);
  });

  it('a wl_buffer destroyed between attach and commit becomes attach(NULL): no closed fd reaches the GPU', async () => {
    const h = new Harness();
    const bad = await h.connect('bad');
    const good = await h.connect('good');
    const wb = openWindow(bad);
    const wg = openWindow(good);
    const b = makeBuffer(bad);
    wb.surface.send.attach(b.proxy, 0, 0);
    b.proxy.send.destroy();
    wb.surface.send.commit();
    bad.env.flush();
    let frames = 0;
    for (let i = 0; i < 5; i++) {
      wg.surface.send.frame().setListener({ done: () => frames++ });
      wg.surface.send.attach(makeBuffer(good).proxy, 0, 0);
      wg.surface.send.commit();
      good.env.flush();
      await h.run(10n * MS);
    }
    expect(h.compositor.repaint.stats.submitFailures).toBe(0);
    expect(frames).toBe(5);
    expect(bad.conn.error).toBeNull();
  });

  it('when the compositor cannot snapshot a buffer (its fds exhausted) the client is ended, not sampled unsynchronized', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const c = await h.connect('c');
    const w = openWindow(c);
    const buf = makeBuffer(c);
    await h.settle();
    h.compositor.proc.setMaxFds(h.compositor.proc.fdCount);
    w.surface.send.attach(buf.proxy, 0, 0);
    w.surface.send.commit();
    c.env.flush();
    await h.settle();
    expect(c.conn.error).toMatchObject({ interface: 'wl_display', code: 3 });
    expect(c.conn.error?.message).toContain('EXPORT_SYNC_FILE');
    expect(h.hazards()).toBe(0);
  });

  it('a new refresh rate is announced on every bound wl_output', async () => {
    const h = new Harness({ mode: { refreshHz: 60 } });
    const c = await h.connect('c');
    const modes: number[] = [];
    let dones = 0;
    c.env.bind(wlOutputInterface, 4).setListener({ mode: (_f, _w, _h, r) => modes.push(r), done: () => dones++ });
    c.env.flush();
    await h.settle();
    h.compositor.observability.control({ refreshHz: 144 });
    await h.settle();
    expect(modes).toEqual([60_000, 144_000]);
    expect(dones).toBe(2);
  });

  it('xdg_wm_base.get_xdg_surface on a surface with a buffer is xdg_surface.unconfigured_buffer', async () => {
    const h = new Harness();
    const c = await h.connect('c');
    const surface = c.env.bind(wlCompositorInterface, 6).send.createSurface();
    surface.send.attach(makeBuffer(c).proxy, 0, 0);
    c.env.bind(xdgWmBaseInterface, 5).send.getXdgSurface(surface);
    c.env.flush();
    await h.settle();
    expect(c.conn.error).toMatchObject({ interface: 'xdg_surface', code: 3 });
  });

  it('a repaint hook that throws is reported and the vblank clock goes on', () => {
    const clock = new ManualClock(0n);
    const errors: unknown[] = [];
    let flips = 0;
    const out = new Output('o', clock, {
      repaint: () => {
        throw new Error('boom');
      },
      flipped: () => flips++,
      missed: () => {},
      error: (e) => errors.push(e),
    }, { refreshHz: 100 });
    out.start();
    clock.advance(55n * MS);
    expect(errors.length).toBe(5);
    expect(out.seq).toBe(5n);
    expect(flips).toBe(0);
  });
});

describe('bounded queue', () => {
  it('a client that keeps committing behind a fence that never signals is ended at the cap; others go on', async () => {
    const { MAX_QUEUED_UPDATES } = await import('../../../server/compositor/commit');
    const { zwpLinuxExplicitSynchronizationV1Interface } = await import('../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1');
    const { pendingSyncFile } = await import('./explicit-helpers');
    const h = new Harness({ policy: 'cpu-wait' });
    const c = await h.connect('flood');
    const other = await h.connect('other');
    const w = openWindow(c);
    const sync = c.env.bind(zwpLinuxExplicitSynchronizationV1Interface, 2).send.getSynchronization(w.surface);
    const buf = makeBuffer(c);
    const never = pendingSyncFile(c);
    for (let i = 0; i <= MAX_QUEUED_UPDATES; i++) {
      sync.send.setAcquireFence(never.fence);
      w.surface.send.attach(buf.proxy, 0, 0);
      w.surface.send.commit();
    }
    c.env.flush();
    await h.settle();
    expect(c.conn.error?.message).toContain('content updates already queued');
    const rt = other.env.roundtrip();
    await h.settle();
    await expect(rt).resolves.toBeTypeOf('number');
  });
});

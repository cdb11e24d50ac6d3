import { describe, expect, it } from 'vitest';
import { Harness } from './harness';

describe('compositor end to end (manual clock, in-memory sockets)', () => {
  it('an explicit syncobj client gets every frame presented with no hazards', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const c = await h.client({ kind: 'explicit', name: 'a', renderNs: 2_000_000n, frames: 20 });
    await h.run(400_000_000n);
    expect(c.stats.committed).toBe(20);
    expect(c.stats.presented + c.stats.discarded).toBe(20);
    expect(c.stats.presented).toBeGreaterThan(15);
    expect(h.hazards()).toBe(0);
  });
});

describe('surfaces without a role', () => {
  it('are never shown: their commits are discarded and their buffers handed back', async () => {
    const { wlCompositorInterface } = await import('../../../shared/protocol/generated/wayland');
    const { makeBuffer } = await import('./explicit-helpers');
    const h = new Harness();
    const c = await h.connect('bare');
    const surface = c.env.bind(wlCompositorInterface, 6).send.createSurface();
    const buf = makeBuffer(c);
    for (let i = 0; i < 3; i++) {
      surface.send.attach(buf.proxy, 0, 0);
      surface.send.commit();
    }
    c.env.flush();
    await h.run(30_000_000n);
    const s = [...h.compositor.clients.values()][0]!.surfaces.values().next().value!;
    expect(s.stats.committed).toBe(3);
    expect(s.stats.discarded).toBe(3);
    expect(s.queue.length).toBe(0);
    expect(buf.released).toBeGreaterThan(0);
    expect(h.compositor.output.stats.flips).toBe(0);
  });
});

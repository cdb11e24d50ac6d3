import { describe, expect, it } from 'vitest';
import { Harness } from './harness';
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import { makeBuffer, openWindow } from './explicit-helpers';

const MS = 1_000_000n;

describe('a client that cannot take an fd', () => {
  it('is disconnected with an implementation error; the compositor and other clients go on', async () => {
    const h = new Harness({ kernel: { limits: { maxFds: 32 } } });
    const c = await h.connect('full');
    const bystander = await h.connect('bystander');
    const w = openWindow(c);
    const sync = c.env.bind(zwpLinuxExplicitSynchronizationV1Interface, 2).send.getSynchronization(w.surface);
    const a = makeBuffer(c);
    const b = makeBuffer(c);
    sync.send.getRelease();
    w.surface.send.attach(a.proxy, 0, 0);
    w.surface.send.commit();
    c.env.flush();
    await h.run(30n * MS); // a is composited: its release will be fenced_release(fd)
    // Fill the client's fd table.
    while (c.proc.dup(a.fd) >= 0);
    w.surface.send.attach(b.proxy, 0, 0);
    w.surface.send.commit();
    c.env.flush();
    await h.run(30n * MS);
    expect(c.conn.error).toMatchObject({ interface: 'wl_display', code: 3 });
    expect(c.conn.error?.message).toContain('could not pass fd');
    const rt = bystander.env.roundtrip();
    await h.settle();
    await expect(rt).resolves.toBeTypeOf('number');
    await h.run(30n * MS);
    expect(h.compositor.output.stats.flips).toBeGreaterThan(1);
  });
});

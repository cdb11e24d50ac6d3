import { describe, expect, it } from 'vitest';
import { Harness, type TestClient } from './harness';
import { handoffDisplayManagerV1Interface } from '../../../shared/protocol/generated/handoff-display-v1';
import { makeBuffer, openWindow } from './explicit-helpers';
import { buildApp } from '../../../server/app';

const MS = 1_000_000n;

function registerDisplay(c: TestClient, token: string) {
  const mgr = c.env.bind(handoffDisplayManagerV1Interface, 1);
  const jobs: { id: number; label: string; buffers: number[] }[] = [];
  const display = mgr.send.register(token);
  display.setListener({
    job: (id, label, _hi, _lo, buffers) => {
      const view = new DataView(buffers.buffer, buffers.byteOffset, buffers.byteLength);
      const ids: number[] = [];
      for (let i = 0; i < buffers.byteLength; i += 4) ids.push(view.getUint32(i, true));
      jobs.push({ id, label, buffers: ids });
    },
  });
  c.env.flush();
  return { display, jobs };
}

async function showSomething(h: Harness) {
  const app = await h.connect('app');
  const w = openWindow(app);
  const buf = makeBuffer(app);
  w.surface.send.attach(buf.proxy, 0, 0);
  w.surface.send.commit();
  app.env.flush();
  await h.settle();
  return app;
}

describe('browser display registration (handoff_display_v1)', () => {
  it('with the token, composition jobs go to the display and flip only once it answers done', async () => {
    const h = new Harness();
    const page = await h.connect('page');
    const { display, jobs } = registerDisplay(page, h.compositor.displayToken);
    await h.settle();
    await showSomething(h);
    await h.run(40n * MS);
    expect(jobs.length).toBe(1); // one composition in flight, waiting for the display
    expect(jobs[0]!.label).toMatch(/^compose/);
    expect(jobs[0]!.buffers.length).toBe(1);
    expect(h.compositor.output.stats.flips).toBe(0);
    display.send.done(jobs[0]!.id, 0);
    page.env.flush();
    await h.run(20n * MS);
    expect(h.compositor.output.stats.flips).toBe(1);
    expect(page.conn.error).toBeNull();
  });

  it('a wrong token is a protocol error for that client only', async () => {
    const h = new Harness();
    const intruder = await h.connect('intruder');
    registerDisplay(intruder, 'not-the-token');
    await h.settle();
    expect(intruder.conn.error).toMatchObject({ interface: 'handoff_display_manager_v1', code: 0 });
    await showSomething(h);
    await h.run(40n * MS);
    expect(h.compositor.output.stats.flips).toBeGreaterThan(0); // the simulated engine still composes
  });

  it('only one display at a time', async () => {
    const h = new Harness();
    const a = await h.connect('a');
    registerDisplay(a, h.compositor.displayToken);
    await h.settle();
    const b = await h.connect('b');
    registerDisplay(b, h.compositor.displayToken);
    await h.settle();
    expect(a.conn.error).toBeNull();
    expect(b.conn.error).toMatchObject({ interface: 'handoff_display_manager_v1', code: 1 });
  });

  it('when the display goes away the simulated engine takes over', async () => {
    const h = new Harness();
    const page = await h.connect('page');
    const { display } = registerDisplay(page, h.compositor.displayToken);
    await h.settle();
    await showSomething(h);
    await h.run(30n * MS);
    expect(h.compositor.output.stats.flips).toBe(0);
    display.send.destroy();
    page.env.flush();
    await h.run(30n * MS);
    expect(h.compositor.output.stats.flips).toBe(1);
  });

  it('done for a job never sent is unknown_job', async () => {
    const h = new Harness();
    const page = await h.connect('page');
    const { display } = registerDisplay(page, h.compositor.displayToken);
    display.send.done(12345, 0);
    page.env.flush();
    await h.settle();
    expect(page.conn.error).toMatchObject({ interface: 'handoff_display_v1', code: 0 });
  });
});

describe('GET /display-token', () => {
  it('answers same-origin requests and refuses cross-site ones', async () => {
    const h = new Harness();
    const app = buildApp({ kernel: h.kernel, compositor: h.compositor });
    const ok = await app.inject({ method: 'GET', url: '/display-token', headers: { 'sec-fetch-site': 'same-origin' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ token: h.compositor.displayToken });
    expect(ok.headers['access-control-allow-origin']).toBeUndefined();
    const cross = await app.inject({ method: 'GET', url: '/display-token', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(cross.statusCode).toBe(403);
    await app.close();
    h.compositor.shutdown();
  });
});

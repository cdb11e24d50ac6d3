/**
 * Without WebGPU the page says so in plain words, does not register as the
 * display, and everything else still works: its clients run on the
 * simulated engine, the compositor composes on its own, frames are
 * presented and timed. And when a display page goes away, the simulated
 * engine takes over without losing state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client/core/connection';
import { nodeSocket } from '../../client/node/node-socket';
import { HeadlessClient } from '../../client/node/headless-client';
import { ringEvents } from '../../shared/trace/ring';
import { buildPage, launchBrowser, NO_WEBGPU_ARGS, openPage, releasePage, startServer, waitForState, WEBGPU_ARGS, type TestServer } from './harness';

let server: TestServer;
let dist: string;

beforeAll(async () => {
  dist = await buildPage();
  server = await startServer(dist, { refreshHz: 20 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  releasePage();
});

function presentedTotal(): Promise<number> {
  return fetch(`${server.url}/metrics`)
    .then((r) => r.text())
    .then((t) => Number(/^handoff_frames_presented_total (\d+)/m.exec(t)?.[1] ?? NaN));
}

describe('the page without WebGPU', () => {
  it('explains, and its clients still present frames on the simulated engine', async () => {
    const b = await launchBrowser(NO_WEBGPU_ARGS);
    try {
      const opened = await openPage(b.browser, `${server.url}/?clients=explicit,implicit`);
      const s = await waitForState(opened, (st) => st.ready && st.clients.length === 2, 'the page to start two clients');
      expect(s.webgpu?.ok).toBe(false);
      expect(s.display).toBeNull();
      expect(await opened.page.locator('#status').textContent()).toContain('No WebGPU here');
      const before = await presentedTotal();
      await new Promise((r) => setTimeout(r, 1500));
      expect(await presentedTotal()).toBeGreaterThan(before);
      expect(server.compositor.output.stats.flips).toBeGreaterThan(0);
      await opened.page.close();
    } finally {
      await b.close();
    }
  }, 40_000);
});

describe('the display page going away', () => {
  it('hands composition back to the simulated engine, and a Node client keeps presenting', async () => {
    const conn = await connect(`${server.url.replace('http', 'ws')}/ws`, { socket: nodeSocket(), comm: 'node-client' });
    const node = new HeadlessClient(conn, { kind: 'explicit', name: 'node', renderNs: 1_000_000n });
    await node.start();
    const b = await launchBrowser(WEBGPU_ARGS);
    try {
      const shown = await openPage(b.browser, `${server.url}/`);
      const s = await waitForState(shown, (st) => (st.display?.done ?? 0) >= 3, 'the page to compose as the display', 30_000);
      // The Node client's window is drawn as a placeholder: no texture in the page.
      expect(s.composed.some((w) => !w.hasTexture)).toBe(true);
      expect(server.kernel.vgpu.sched.engines.has('compositor')).toBe(true);
      await shown.page.close();
      await new Promise((r) => setTimeout(r, 300));
      const presented = node.stats.presented;
      const jobsBefore = compositorJobs().length;
      await new Promise((r) => setTimeout(r, 1200));
      // The compositor's ring is back on the simulated engine, and composing.
      expect(server.kernel.vgpu.sched.engines.has('compositor')).toBe(false);
      expect(compositorJobs().length).toBeGreaterThan(jobsBefore + 5);
      expect(node.stats.presented).toBeGreaterThan(presented + 5);
    } finally {
      await b.close();
      await node.stop();
      conn.close();
    }
  }, 40_000);
});

/** Start→done of each composition job in the trace, ms. */
function compositorJobs(): number[] {
  const started = new Map<number, bigint>();
  const out: number[] = [];
  for (const ev of ringEvents(server.compositor.trace)) {
    if (ev.type === 'job.start' && ev.ring === 'compositor') started.set(ev.job, ev.t);
    if (ev.type === 'job.done' && ev.ring === 'compositor') {
      const t0 = started.get(ev.job);
      if (t0 !== undefined) out.push(Number(ev.t - t0) / 1e6);
    }
  }
  return out;
}

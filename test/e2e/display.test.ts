/**
 * The page in real headless Chromium against a real server: a real WebGPU
 * adapter, the pixi desktop registered as the compositor's display, its
 * composition jobs completed by the page (not the simulated engine), and
 * the desktop with the clients' own pixels on a screenshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, launchBrowser, openPage, releasePage, startServer, waitForState, type OpenedPage, type TestServer } from './harness';
import { near, pixelsAt } from './pixels';
import type { Browser } from 'playwright-core';
import type { TraceEvent } from '../../shared/trace/events';
import { ringEvents } from '../../shared/trace/ring';
import { writeFileSync } from 'node:fs';

let server: TestServer;
let browser: { browser: Browser; close(): Promise<void> };
let opened: OpenedPage;

const DESKTOP_BG = [0x20, 0x30, 0x3c];

beforeAll(async () => {
  const dist = await buildPage();
  // A slow output: a composition on SwiftShader takes tens of ms.
  server = await startServer(dist, { refreshHz: 10 });
  browser = await launchBrowser();
  opened = await openPage(browser.browser, `${server.url}/?clients=explicit,explicit-fd,implicit,bridged`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  releasePage();
});

function traceEvents(): TraceEvent[] {
  return ringEvents(server.compositor.trace);
}

describe('the page in headless Chromium', () => {
  it('gets a real WebGPU adapter and pixi runs on WebGPU', async () => {
    const s = await waitForState(opened, (st) => st.webgpu !== null, 'WebGPU to be probed');
    expect(s.webgpu).toMatchObject({ ok: true, renderer: 'webgpu', info: { vendor: 'google', architecture: 'swiftshader' } });
  });

  it('registers as the display and completes composition jobs itself', async () => {
    const s = await waitForState(opened, (st) => (st.display?.done ?? 0) >= 5, 'five compositions done by the page', 30_000);
    expect(s.display?.failed).toBe(0);
    expect(s.display?.problem).toBeNull();
    // Every composition since the display registered was answered by the
    // page: the simulated engine would take its modelled 300 µs + 2 µs per
    // surface, while the page's real GPU work takes milliseconds.
    const evs = traceEvents();
    const started = new Map<number, bigint>();
    const durations: number[] = [];
    for (const ev of evs) {
      if (ev.type === 'job.start' && ev.ring === 'compositor') started.set(ev.job, ev.t);
      if (ev.type === 'job.done' && ev.ring === 'compositor') {
        const t0 = started.get(ev.job);
        if (t0 !== undefined) durations.push(Number(ev.t - t0) / 1e6);
      }
    }
    expect(durations.length).toBeGreaterThanOrEqual(5);
    const recent = durations.slice(-5);
    for (const d of recent) expect(d).toBeGreaterThan(1); // ms: real GPU round trips, not the model's 0.3
    const pageJobs = s.jobs.filter((j) => j.error === 0);
    expect(pageJobs.length).toBeGreaterThanOrEqual(5);
  }, 40_000);

  it('shows the desktop with each client window in its own colour', async () => {
    const s = await waitForState(
      opened,
      (st) => st.composed.length >= 4 && st.composed.every((w) => w.hasTexture) && st.clients.every((c) => c.frames >= 3),
      'four client windows with their own textures on the desktop',
      30_000,
    );
    const box = await opened.page.locator('#desktop canvas').boundingBox();
    if (!box) throw new Error('no desktop canvas');
    const scale = box.width / 960;
    const points: { x: number; y: number }[] = [{ x: 4 * scale, y: 4 * scale }];
    // Sample a column of points in each window, away from the moving bar's
    // single column and the fence mark at the bottom.
    for (const w of s.composed) for (const fx of [0.1, 0.5, 0.9]) points.push({ x: (w.x + w.width * fx) * scale, y: (w.y + w.height * 0.3) * scale });
    const { pixels, png } = await pixelsAt(opened.page, '#desktop canvas', points);
    // The README's screenshots come from this test: HANDOFF_UPDATE_SCREENSHOTS=1 npx vitest run test/e2e/display.test.ts
    if (process.env.HANDOFF_UPDATE_SCREENSHOTS === '1') {
      writeFileSync('docs/page-desktop.png', png);
      writeFileSync('docs/page-full.png', await opened.page.screenshot({ fullPage: true }));
    }
    expect(near(pixels[0]!, DESKTOP_BG)).toBe(true);
    s.composed.forEach((w, i) => {
      const client = s.clients.find((c) => c.bufs.includes(w.buf));
      expect(client, `window ${w.title} belongs to an in-page client`).toBeDefined();
      const samples = pixels.slice(1 + i * 3, 4 + i * 3);
      const own = samples.filter((p) => near(p, client!.colour, 16)).length;
      expect(own, `window ${w.title}: ${JSON.stringify(samples)} vs ${client!.colour.join(',')}`).toBeGreaterThanOrEqual(2);
    });
  }, 40_000);

  it('adds a naive client from the keyboard; the URL keeps the scene; clients of every mode present frames', async () => {
    const page = opened.page;
    await page.focus('#controls select[name=mode]');
    await page.keyboard.press('End'); // the last mode: naive
    await page.focus('#controls form.add-client button');
    await page.keyboard.press('Enter');
    const s = await waitForState(
      opened,
      (st) => st.clients.length === 5 && st.clients.every((c) => c.presented >= 3),
      'five clients (one per mode) with presented frames',
      40_000,
    );
    expect(s.clients.map((c) => c.mode).sort()).toEqual(['bridged', 'explicit', 'explicit-fd', 'implicit', 'naive']);
    expect(new URL(page.url()).searchParams.get('clients')).toBe('explicit,explicit-fd,implicit,bridged,naive');
    // Presentation feedback counted in the page (from the trace) and in /metrics.
    for (const w of s.windows.filter((x) => s.clients.some((c) => x.title.startsWith(`client ${c.serial} `)))) expect(w.presented).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const total = Number(/^handoff_frames_presented_total (\d+)/m.exec(metrics)?.[1]);
    expect(total).toBeGreaterThanOrEqual(s.clients.reduce((n, c) => n + c.presented, 0));
  }, 60_000);

  it('a window whose newest update waits on its fence shows the waiting-on-fence mark', async () => {
    const page = opened.page;
    // An explicit client with GPU load 8: a frame's job is modelled at
    // 2 + 8 × 10 ms, so latches often find its acquire point unsignalled.
    await page.selectOption('#controls select[name=mode]', 'explicit');
    await page.selectOption('#controls select[name=load]', '8');
    await page.click('#controls form.add-client button');
    const s = await waitForState(opened, (st) => st.composed.some((w) => w.waitingOnFence && w.hasTexture), 'a composed window marked waiting on fence', 30_000);
    const w = s.composed.find((x) => x.waitingOnFence)!;
    expect(w.title).toMatch(/explicit/);
  }, 40_000);
});

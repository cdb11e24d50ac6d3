import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { buildApp } from '../../server/app';
import { Compositor } from '../../server/compositor/compositor';
import { Kernel } from '../../shared/kernel/kernel';
import { ManualClock } from '../../shared/kernel/clock';
import { decodeBatch } from '../../shared/trace/encode';

function setup() {
  const clock = new ManualClock(0n);
  const kernel = new Kernel({ clock });
  const compositor = new Compositor({ kernel, mode: { refreshHz: 100 } });
  const app = buildApp({ kernel, compositor });
  return { clock, kernel, compositor, app };
}

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('observability endpoints', () => {
  it('GET /metrics is Prometheus text with the compositor families', async () => {
    const { app, clock, compositor } = setup();
    cleanup.push(() => app.close());
    clock.advance(100_000_000n);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
    for (const name of ['handoff_clients', 'handoff_frames_presented_total', 'handoff_frames_missed_total', 'handoff_latch_latency_seconds_bucket', 'handoff_hazards_total']) {
      expect(res.body).toContain(name);
    }
    compositor.shutdown();
  });

  it('GET /trace.json is Chrome trace-event JSON with the compositor process', async () => {
    const { app, compositor } = setup();
    cleanup.push(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/trace.json' });
    expect(res.statusCode).toBe(200);
    const json = JSON.parse(res.body) as { traceEvents: { ph: string; name: string; args?: { name?: string } }[] };
    const names = json.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args?.name ?? '');
    expect(names.some((n) => n.startsWith('compositor'))).toBe(true);
    compositor.shutdown();
  });

  it('POST /control changes policy, refresh and slow motion, and refuses bad values', async () => {
    const { app, compositor } = setup();
    cleanup.push(() => app.close());
    const ok = await app.inject({ method: 'POST', url: '/control', payload: { policy: 'gpu-wait', refreshHz: 30, slowMotion: 4 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ policy: 'gpu-wait', refreshHz: 30, slowMotion: 4 });
    expect(compositor.policy).toBe('gpu-wait');
    const bad = await app.inject({ method: 'POST', url: '/control', payload: { policy: 'fastest' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain('cpu-wait');
    expect(compositor.policy).toBe('gpu-wait');
    const foreign = await app.inject({ method: 'POST', url: '/control', headers: { origin: 'http://evil.test' }, payload: { policy: 'none' } });
    expect(foreign.statusCode).toBe(403);
    expect(compositor.policy).toBe('gpu-wait');
    compositor.shutdown();
  });

  it('the /trace WebSocket sends the history, then live events', async () => {
    const { app, compositor, kernel } = setup();
    cleanup.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/trace`);
    const batches: unknown[][] = [];
    const got = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (batches.length >= n ? resolve() : setTimeout(check, 5));
        check();
      });
    ws.on('message', (data) => batches.push(decodeBatch(String(data))));
    await got(1);
    // History: the compositor's own process spawn, at least.
    expect(batches[0]!.some((e) => (e as { type: string }).type === 'process.spawn')).toBe(true);
    kernel.spawn('late-arrival');
    await got(2);
    expect(batches[1]!.some((e) => (e as { type: string; comm?: string }).comm === 'late-arrival')).toBe(true);
    ws.close();
    compositor.shutdown();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { connect, type HandoffClient } from '../../client/core/connection';
import { nodeSocket } from '../../client/node/node-socket';
import { wlOutputInterface } from '../../shared/protocol/generated/wayland';
import { Kernel } from '../../shared/kernel/kernel';
import { ManualClock } from '../../shared/kernel/clock';
import { hostClock } from '../../server/host-clock';
import { buildApp, DEFAULT_MAX_RECEIVED_FRAME_BYTES } from '../../server/app';
import { connectClient, openRaw, startServer, until, type Running } from './helpers';
import { createMinimalCompositor } from './minimal-compositor';

const minimal = () => createMinimalCompositor(new Kernel({ clock: hostClock() }));

let running: Running | undefined;
const clients: HandoffClient[] = [];

async function start(options: Parameters<typeof startServer>[0] = {}): Promise<Running> {
  running = await startServer(options);
  return running;
}

async function client(r: Running, comm?: string): Promise<HandoffClient> {
  const c = await connectClient(r, comm);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) if (c.isConnected) c.close();
  await running?.app.close();
  running = undefined;
});

describe('http', () => {
  it('/healthz counts connected clients', async () => {
    const r = await start();
    expect((await r.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok', clients: 0 });
    const c = await client(r);
    expect((await r.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok', clients: 1 });
    c.close();
    await until(() => r.app.sessions.size === 0, 'the session to end');
    expect((await r.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok', clients: 0 });
  });

  it('/ points at the demo and the trace when dist/ has no app', async () => {
    const app = buildApp({ compositor: minimal(), distDir: join(tmpdir(), 'handoff-no-such-dist') });
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('npm run demo');
    expect(res.body).toContain('/trace.json');
    await app.close();
  });

  it('/ serves the built app from dist/', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'handoff-dist-'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>built</title>');
    const app = buildApp({ compositor: minimal(), distDir: dist });
    const res = await app.inject({ url: '/' });
    expect(res.body).toContain('<title>built</title>');
    await app.close();
  });

  it('refuses a compositor from another kernel', () => {
    const other = buildApp({ compositor: minimal() });
    expect(() => buildApp({ kernel: new Kernel({ clock: new ManualClock() }), compositor: other.compositor })).toThrow(/kernel/);
    void other.close();
  });
});

describe('WebSocket origin', () => {
  it('allows a client that sends no Origin (non-browser)', async () => {
    const r = await start();
    const raw = await openRaw(r.wsUrl);
    raw.ws.close();
  });

  it("allows the server's own origin, as 127.0.0.1 and as localhost", async () => {
    const r = await start();
    const own = await openRaw(r.wsUrl, r.origin);
    own.ws.close();
    const local = await openRaw(r.wsUrl, r.origin.replace('127.0.0.1', 'localhost'));
    local.ws.close();
  });

  it('refuses a foreign origin with 403 before the upgrade', async () => {
    const r = await start();
    await expect(openRaw(r.wsUrl, 'http://evil.example')).rejects.toThrow(/403/);
    await expect(connect(r.wsUrl, { socket: nodeSocket({ origin: 'http://127.0.0.1:1' }) })).rejects.toThrow(/403/);
    expect(r.app.sessions.size).toBe(0);
  });

  it('on every interface, allows the address the browser used but not a rebound host name', async () => {
    const app = buildApp({ compositor: minimal() });
    await app.listen({ host: '0.0.0.0', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const url = `ws://127.0.0.1:${port}/ws`;
      const ok = await openRaw(url, `http://127.0.0.1:${port}`);
      ok.ws.close();
      const rebound = new WebSocket(url, { origin: `http://evil.example:${port}`, headers: { host: `evil.example:${port}` } });
      await expect(new Promise((resolve, reject) => (rebound.on('open', resolve), rebound.on('error', reject)))).rejects.toThrow(/403/);
    } finally {
      await app.close();
    }
  });

  it('allows a configured extra origin', async () => {
    const r = await start({ origins: ['http://localhost:5173'] });
    const raw = await openRaw(r.wsUrl, 'http://localhost:5173');
    raw.ws.close();
  });
});

describe('connections', () => {
  it('binds a global and roundtrips', async () => {
    const r = await start();
    const c = await client(r);
    expect([...c.globals.values()].map((g) => g.interface)).toContain('wl_output');
    const seen: string[] = [];
    c.bind(wlOutputInterface, 4).setListener({
      mode: (_flags, w, h, refresh) => seen.push(`mode ${w}x${h}@${refresh}`),
      name: (name) => seen.push(`name ${name}`),
      done: () => seen.push('done'),
    });
    await c.roundtrip();
    expect(seen).toEqual(['mode 1280x720@60000', 'name HANDOFF-1', 'done']);
  });

  it('binding a version the global does not offer throws in the client', async () => {
    const r = await start();
    const c = await client(r);
    expect(() => c.bind(wlOutputInterface, 5)).toThrow(RangeError);
  });

  it('one connection is one process; closing it exits the process', async () => {
    const kernel = new Kernel({ clock: hostClock() });
    const r = await start({ kernel });
    const before = kernel.processes().size;
    const c = await client(r, 'painter');
    const fd = await c.kernel.open('/dev/sw_sync');
    expect(fd).toBe(0);
    const procs = [...kernel.processes().values()];
    expect(procs.map((p) => p.comm)).toContain('painter');
    const painter = procs.find((p) => p.comm === 'painter');
    expect(painter?.fdCount).toBe(1);
    c.close();
    await until(() => kernel.processes().size === before, 'the process to exit');
    expect(painter?.isExited).toBe(true);
    expect(painter?.fdCount).toBe(0);
  });

  it('a frame over the cap ends that client with 1009 and nobody else', async () => {
    const r = await start();
    const bystander = await client(r);
    const raw = await openRaw(r.wsUrl);
    raw.ws.send(new Uint8Array(DEFAULT_MAX_RECEIVED_FRAME_BYTES + 1));
    expect((await raw.closed).code).toBe(1009);
    await bystander.roundtrip();
    expect(bystander.isConnected).toBe(true);
  });

  it('shutdown tells every client 1001 and why', async () => {
    const r = await start();
    const c = await client(r);
    const gone = new Promise<[number, string]>((resolve) => c.on('disconnect', (code, reason) => resolve([code, reason])));
    await r.app.close();
    running = undefined;
    expect(await gone).toEqual([1001, 'server shutting down']);
    expect(c.isConnected).toBe(false);
    await expect(c.kernel.open('/dev/sw_sync')).rejects.toThrow(/disconnected/);
  });
});

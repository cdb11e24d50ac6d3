/**
 * Web checks over a real server on 127.0.0.1: what a page on another
 * Origin can reach (nothing that opens a socket, reads the display token
 * or changes settings), and the static server's refusal of paths outside
 * its root. Requests are written by hand (node:http with the raw path), so
 * nothing normalises `..` or percent-escapes on the way.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from './live-server';

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function http(server: LiveServer, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  const url = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Opens a WebSocket with these headers; resolves 'open' or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => resolve(-1));
  });
}

const SECRET = 'the-secret-outside-dist';
let server: LiveServer;
let traceUrl: string;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'handoff-web-'));
  const dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(join(dist, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), SECRET);
  server = await startLiveServer({ distDir: dist });
  traceUrl = server.wsUrl.replace(/\/ws$/, '/trace');
});
afterAll(async () => {
  await server.close();
});

const FOREIGN = 'http://evil.example';

describe('another Origin cannot reach the server', () => {
  for (const origin of [FOREIGN, 'null', 'http://127.0.0.1:1', 'http://localhost.evil.example']) {
    it(`cannot open /ws (Origin: ${origin})`, async () => {
      expect(await upgrade(server.wsUrl, { origin })).toBe(403);
    });
    it(`cannot open /trace (Origin: ${origin})`, async () => {
      expect(await upgrade(traceUrl, { origin })).toBe(403);
    });
    it(`cannot read /display-token (Origin: ${origin})`, async () => {
      const r = await http(server, 'GET', '/display-token', { origin });
      expect(r.status).toBe(403);
      expect(r.body).not.toContain(server.compositor.displayToken);
    });
    it(`cannot change /control (Origin: ${origin})`, async () => {
      const before = await http(server, 'GET', '/control');
      const r = await http(server, 'POST', '/control', { origin, 'content-type': 'application/json' }, '{"refreshHz":1}');
      expect(r.status).toBe(403);
      expect((await http(server, 'GET', '/control')).body).toBe(before.body);
    });
  }

  it('a cross-site fetch of /display-token is refused by Sec-Fetch-Site', async () => {
    const r = await http(server, 'GET', '/display-token', { 'sec-fetch-site': 'cross-site' });
    expect(r.status).toBe(403);
  });

  it('no response tells a browser another Origin may read it (no CORS header)', async () => {
    for (const path of ['/display-token', '/control', '/metrics', '/trace.json', '/healthz']) {
      const r = await http(server, 'GET', path, { origin: FOREIGN });
      expect(r.headers['access-control-allow-origin'], path).toBeUndefined();
    }
  });

  it('a DNS-rebinding Host with its own Origin is refused', async () => {
    const port = new URL(server.origin).port;
    const origin = `http://rebind.example:${port}`;
    expect(await upgrade(server.wsUrl, { origin, host: `rebind.example:${port}` })).toBe(403);
  });

  it('the server\'s own page may open /ws and read the token', async () => {
    expect(await upgrade(server.wsUrl, { origin: server.origin })).toBe('open');
    const r = await http(server, 'GET', '/display-token', { origin: server.origin, 'sec-fetch-site': 'same-origin' });
    expect(r.status).toBe(200);
  });
});

describe('the static server stays inside its root', () => {
  const paths = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/%252e%252e/secret.txt',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/etc/passwd',
    `/${encodeURIComponent('/etc/passwd')}`,
    '/assets/%00/../../secret.txt',
  ];
  for (const path of paths) {
    it(`refuses ${path}`, async () => {
      const r = await http(server, 'GET', path);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toMatch(/root:.*:0:0:/);
      expect(r.status).not.toBe(200);
    });
  }

  it('serves what is inside', async () => {
    expect((await http(server, 'GET', '/assets/app.js')).status).toBe(200);
  });
});

describe('requests without an Origin', () => {
  it('a non-browser client (no Origin, no Sec-Fetch-Site) may open /ws, as headless clients do', async () => {
    expect(await upgrade(server.wsUrl, {})).toBe('open');
  });
});

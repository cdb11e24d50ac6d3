/**
 * The handoff server as a fastify app that tests build without a port:
 *
 *   GET /healthz   {status:'ok', clients:n}
 *   GET /ws        WebSocket upgrade: one connection is one client process
 *                  (client-session.ts); Origin checked against an allowlist
 *   GET /          the built browser app from dist/, or a page saying how
 *                  to build it
 *
 * and, when the compositor offers observability (compositor/host.ts):
 *
 *   GET /metrics     Prometheus text format
 *   GET /trace.json  Chrome trace-event JSON (Perfetto, chrome://tracing)
 *   GET /trace       WebSocket: trace events as JSON arrays, history first
 *                    (?from=<seq>), then live
 *   GET /display-token  the browser display's token (same-origin only)
 *   GET /control     the live settings; POST /control changes them
 *                    ({policy, refreshHz, slowMotion}, application/json)
 *
 * Everything ws-specific stays in this file: the session and the compositor
 * see a FrameSink (send bytes, close) and plain Uint8Array frames.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isIP, type AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import type { WebSocket, RawData } from 'ws';
import type { Kernel } from '../shared/kernel/kernel';
import { ClientSession, CloseCode, type FrameSink } from './client-session';
import type { ControlSettings, HostedCompositor } from './compositor/host';

/** Frames larger than this end the client (ws closes with 1009, Message Too Big). */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 20;
/** A client that lets this much output pile up unread is dropped. */
export const MAX_BUFFERED_BYTES = 16 << 20;
export const WS_PATH = '/ws';

export interface AppOptions {
  /** The machine. Default: the compositor's. */
  kernel?: Kernel;
  /** The compositor; its process must live in `kernel`. */
  compositor: HostedCompositor;
  /** Origins allowed besides the server's own (`http://host:port` it listens on). */
  origins?: readonly string[];
  /** WebSocket frame cap in bytes. Default 1 MiB. */
  maxFrameBytes?: number;
  /** fastify's logger option (pino). Default: off. */
  logger?: FastifyServerOptions['logger'];
  /** Where the built browser app lives. Default: dist/ at the repository root. */
  distDir?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The kernel every client process lives in. */
    kernel: Kernel;
    compositor: HostedCompositor;
    /** Live client sessions. */
    sessions: ReadonlySet<ClientSession>;
  }
}

const NOT_BUILT_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>handoff</title>
<h1>handoff</h1>
<p>The compositor is running. There is no browser app in <code>dist/</code> yet.</p>
<ul>
<li>Headless clients of every sync kind, with live figures: <code>npm run demo</code></li>
<li>Trace for Perfetto / chrome://tracing: <a href="/trace.json">/trace.json</a></li>
<li>Metrics (Prometheus): <a href="/metrics">/metrics</a></li>
<li>Settings: <a href="/control">/control</a> (POST JSON to change policy, refreshHz, slowMotion)</li>
<li>Health: <a href="/healthz">/healthz</a></li>
</ul>
<p>Wayland clients connect over WebSocket to <code>${WS_PATH}</code> (docs/protocol.md).</p>
`;

/**
 * The origins a browser shows for this server: the address it listens on
 * (and localhost on loopback). Listening on every interface, the page's
 * own origin is whatever address the browser used, taken from the Host
 * header only when it is an IP literal or localhost on our port: a DNS
 * rebinding attack needs a host *name* resolving to us, and is refused.
 */
function ownOrigins(app: FastifyInstance, hostHeader: string | undefined): string[] {
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') return [];
  const { address, port } = addr as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const out = [`http://${host}:${port}`];
  if (address === '127.0.0.1' || address === '::1') out.push(`http://localhost:${port}`);
  if ((address === '0.0.0.0' || address === '::') && hostHeader !== undefined) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+):([0-9]+)$/.exec(hostHeader);
    const name = m?.[1]?.replace(/^\[|\]$/g, '') ?? '';
    if (m && Number(m[2]) === port && (isIP(name) !== 0 || name === 'localhost')) out.push(`http://${hostHeader}`);
  }
  return out;
}

/** A process name from ?comm=, as the kernel keeps it (TASK_COMM_LEN 16). */
function commFrom(query: unknown): string {
  const raw = typeof query === 'object' && query !== null ? (query as Record<string, unknown>).comm : undefined;
  const clean = typeof raw === 'string' ? raw.replace(/[^\w.-]/g, '').slice(0, 15) : '';
  return clean || 'client';
}

/** A close reason fits 123 bytes of UTF-8 (RFC 6455 §5.5); ws throws on longer ones. */
function closeReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** The FrameSink over a ws socket, with the output backlog cap. */
function wsSink(socket: WebSocket): FrameSink {
  return {
    send(frame) {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(CloseCode.policyViolation, 'client is not reading');
        return;
      }
      socket.send(frame, { binary: true });
    },
    close(code, reason) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, closeReason(reason));
    },
  };
}

export function buildApp(options: AppOptions): FastifyInstance {
  const compositor = options.compositor;
  const kernel = options.kernel ?? compositor.process.kernel;
  if (compositor.process.kernel !== kernel) throw new Error('the compositor process must live in the app kernel');
  const extraOrigins = new Set(options.origins ?? []);
  const distDir = options.distDir ?? fileURLToPath(new URL('../dist', import.meta.url));
  const sessions = new Set<ClientSession>();
  let nextClientId = 1;

  const app = Fastify({ logger: options.logger ?? false });
  app.decorate('kernel', kernel);
  app.decorate('compositor', compositor);
  app.decorate('sessions', sessions);

  void app.register(fastifyWebsocket, {
    options: { maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES },
    // A client's bad frame (over the cap, bad masking) is the client's
    // fault: warn, not error. ws has already sent the close code.
    errorHandler(error, socket, request) {
      request.log.warn({ err: error }, 'WebSocket error');
      socket.terminate();
    },
    // Shutdown: tell every client why (1001 Going Away) before the server closes.
    preClose(done) {
      for (const s of [...sessions]) s.end(CloseCode.goingAway, 'server shutting down');
      this.websocketServer.close();
      done();
    },
  });

  app.get('/healthz', async () => ({ status: 'ok', clients: sessions.size }));

  /** Browsers send Origin; a foreign page must not reach a socket or change settings. */
  const originAllowed = (origin: string | undefined, host: string | undefined): boolean =>
    origin === undefined || extraOrigins.has(origin) || ownOrigins(app, host).includes(origin);

  const token = compositor.displayToken;
  if (token !== undefined) {
    // No CORS headers: a page from another origin cannot read this. A
    // browser also says where a request came from (Sec-Fetch-Site).
    app.get('/display-token', async (request, reply) => {
      const site = request.headers['sec-fetch-site'];
      if ((site !== undefined && site !== 'same-origin' && site !== 'none') || !originAllowed(request.headers.origin, request.headers.host)) {
        return reply.code(403).send({ error: 'the display token is for the server\'s own page' });
      }
      return reply.header('cache-control', 'no-store').send({ token });
    });
  }

  const obs = compositor.observability;
  if (obs) {
    app.get('/metrics', async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(obs.metricsText()),
    );
    app.get('/trace.json', async (_request, reply) => reply.type('application/json').send(obs.traceJson()));
    app.get('/control', async () => obs.settings());
    app.post(
      '/control',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              policy: { type: 'string' },
              refreshHz: { type: 'number' },
              slowMotion: { type: 'number' },
            },
          },
        },
      },
      async (request, reply) => {
        if (!originAllowed(request.headers.origin, request.headers.host)) {
          return reply.code(403).send({ error: 'origin not allowed' });
        }
        const error = obs.control(request.body as ControlSettings);
        if (error !== undefined) return reply.code(400).send({ error });
        return obs.settings();
      },
    );
  }

  void app.register(async (scope) => {
    scope.get(
      WS_PATH,
      {
        websocket: true,
        // Runs before the upgrade: a browser page from another origin never
        // gets a socket. Non-browser clients send no Origin and are allowed
        // (they could forge one anyway; the check protects browsers).
        preValidation: async (request, reply) => {
          if (originAllowed(request.headers.origin, request.headers.host)) return;
          request.log.warn({ origin: request.headers.origin }, 'WebSocket upgrade from a foreign origin refused');
          await reply.code(403).send({ error: 'origin not allowed' });
        },
      },
      (socket, request) => {
        const sink = wsSink(socket);
        const session = new ClientSession({
          id: nextClientId++,
          kernel,
          compositor,
          comm: commFrom(request.query),
          sink,
          log: request.log,
        });
        sessions.add(session);
        socket.on('message', (data, isBinary) => {
          if (!isBinary) {
            session.refuse('text frame: every frame is binary (docs/protocol.md)');
            return;
          }
          session.receive(toBytes(data));
        });
        socket.on('close', () => {
          sessions.delete(session);
          session.disconnected();
        });
      },
    );
    if (obs) {
      scope.get(
        '/trace',
        {
          websocket: true,
          preValidation: async (request, reply) => {
            if (originAllowed(request.headers.origin, request.headers.host)) return;
            await reply.code(403).send({ error: 'origin not allowed' });
          },
        },
        (socket, request) => {
          const q = request.query as Record<string, unknown>;
          const from = typeof q.from === 'string' && /^[0-9]{1,15}$/.test(q.from) ? Number(q.from) : 0;
          const unsubscribe = obs.subscribeTrace(from, (json) => {
            if (socket.readyState !== socket.OPEN) return;
            if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
              socket.close(CloseCode.policyViolation, 'observer is not reading');
              return;
            }
            socket.send(json);
          });
          socket.on('close', unsubscribe);
          // Observers only listen.
          socket.on('message', () => socket.close(CloseCode.policyViolation, 'the trace socket is read-only'));
        },
      );
    }
  });

  if (existsSync(`${distDir}/index.html`)) {
    void app.register(fastifyStatic, { root: distDir, prefix: '/' });
  } else {
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT_PAGE));
  }

  return app;
}

/**
 * The server's endpoints, one fastify plugin per group; app.ts registers
 * them with what they share (the kernel, the compositor, the sessions, the
 * origin policy):
 *
 *   healthRoutes        GET /healthz, GET / (dist/ or a page saying how to build it)
 *   waylandSocketRoute  GET /ws: one WebSocket is one client process (client-session.ts)
 *   traceRoutes         GET /trace.json, GET /trace (WebSocket: history, then live)
 *   metricsRoute        GET /metrics (Prometheus text)
 *   controlRoutes       GET/POST /control (shared/control.ts: the live settings)
 *   displayTokenRoute   GET /display-token (same-origin only)
 *
 * Everything ws-specific stays in this file and app.ts: the session and the
 * compositor see a FrameSink (send bytes, close) and plain Uint8Array frames.
 */
import { existsSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { WebSocket, RawData } from 'ws';
import type { Kernel } from '../shared/kernel/kernel';
import { DEFAULT_CONTROL_SETTINGS, type ControlUpdate } from '../shared/control';
import { ClientSession, CloseCode, type FrameSink } from './client-session';
import type { HostedCompositor, Observability } from './compositor/host';

/** A client that lets this much output pile up unread is dropped. */
export const MAX_BUFFERED_BYTES = 16 << 20;
export const WS_PATH = '/ws';

/** What the route plugins share. */
export interface RouteContext {
  readonly kernel: Kernel;
  readonly compositor: HostedCompositor;
  readonly sessions: Set<ClientSession>;
  /** Browsers send Origin; a foreign page must not reach a socket or change settings. */
  originAllowed(request: FastifyRequest): boolean;
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
<li>Settings: <a href="/control">/control</a> (POST JSON to change ${Object.keys(DEFAULT_CONTROL_SETTINGS).join(', ')})</li>
<li>Health: <a href="/healthz">/healthz</a></li>
</ul>
<p>Wayland clients connect over WebSocket to <code>${WS_PATH}</code> (docs/protocol.md).</p>
`;

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

/** A WebSocket route's preValidation: runs before the upgrade, so a foreign page never gets a socket. */
function refuseForeignUpgrade(ctx: RouteContext, warn: boolean) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (ctx.originAllowed(request)) return;
    if (warn) request.log.warn({ origin: request.headers.origin }, 'WebSocket upgrade from a foreign origin refused');
    await reply.code(403).send({ error: 'origin not allowed' });
  };
}

export const healthRoutes: FastifyPluginAsync<{ ctx: RouteContext; distDir: string }> = async (app, { ctx, distDir }) => {
  app.get('/healthz', async () => ({ status: 'ok', clients: ctx.sessions.size }));
  if (existsSync(`${distDir}/index.html`)) {
    await app.register(fastifyStatic, { root: distDir, prefix: '/' });
  } else {
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT_PAGE));
  }
};

export const waylandSocketRoute: FastifyPluginAsync<{ ctx: RouteContext }> = async (app, { ctx }) => {
  let nextClientId = 1;
  app.get(
    WS_PATH,
    // Non-browser clients send no Origin and are allowed (they could forge
    // one anyway; the check protects browsers).
    { websocket: true, preValidation: refuseForeignUpgrade(ctx, true) },
    (socket, request) => {
      const session = new ClientSession({
        id: nextClientId++,
        kernel: ctx.kernel,
        compositor: ctx.compositor,
        comm: commFrom(request.query),
        sink: wsSink(socket),
        log: request.log,
      });
      ctx.sessions.add(session);
      socket.on('message', (data, isBinary) => {
        if (!isBinary) {
          session.refuse('text frame: every frame is binary (docs/protocol.md)');
          return;
        }
        session.receive(toBytes(data));
      });
      socket.on('close', () => {
        ctx.sessions.delete(session);
        session.disconnected();
      });
    },
  );
};

export const traceRoutes: FastifyPluginAsync<{ ctx: RouteContext; obs: Observability }> = async (app, { ctx, obs }) => {
  app.get('/trace.json', async (_request, reply) => reply.type('application/json').send(obs.traceJson()));
  app.get('/trace', { websocket: true, preValidation: refuseForeignUpgrade(ctx, false) }, (socket, request) => {
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
  });
};

export const metricsRoute: FastifyPluginAsync<{ obs: Observability }> = async (app, { obs }) => {
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(obs.metricsText()));
};

/**
 * POST /control's body: each setting of shared/control.ts by its JSON type.
 * Ranges and policy names are checked by checkControlUpdate, whose errors
 * name the allowed values.
 */
const CONTROL_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(
    Object.entries(DEFAULT_CONTROL_SETTINGS).map(([name, value]) => [name, { type: typeof value === 'string' ? 'string' : 'number' }]),
  ),
} as const;

export const controlRoutes: FastifyPluginAsync<{ ctx: RouteContext; obs: Observability }> = async (app, { ctx, obs }) => {
  app.get('/control', async () => obs.settings());
  app.post('/control', { schema: { body: CONTROL_BODY_SCHEMA } }, async (request, reply) => {
    if (!ctx.originAllowed(request)) return reply.code(403).send({ error: 'origin not allowed' });
    const error = obs.control(request.body as ControlUpdate);
    if (error !== undefined) return reply.code(400).send({ error });
    return obs.settings();
  });
};

export const displayTokenRoute: FastifyPluginAsync<{ ctx: RouteContext; token: string }> = async (app, { ctx, token }) => {
  // No CORS headers: a page from another origin cannot read this. A
  // browser also says where a request came from (Sec-Fetch-Site).
  app.get('/display-token', async (request, reply) => {
    const site = request.headers['sec-fetch-site'];
    if ((site !== undefined && site !== 'same-origin' && site !== 'none') || !ctx.originAllowed(request)) {
      return reply.code(403).send({ error: 'the display token is for the server\'s own page' });
    }
    return reply.header('cache-control', 'no-store').send({ token });
  });
};

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
 *                    (shared/control.ts: {policy, refreshHz, slowMotion}, application/json)
 *
 * This file builds the app and its origin policy; each endpoint group is a
 * plugin in app-routes.ts.
 */
import { fileURLToPath } from 'node:url';
import { isIP, type AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import type { Kernel } from '../shared/kernel/kernel';
import { CloseCode, type ClientSession } from './client-session';
import type { HostedCompositor } from './compositor/host';
import {
  controlRoutes,
  displayTokenRoute,
  healthRoutes,
  metricsRoute,
  traceRoutes,
  waylandSocketRoute,
  type RouteContext,
} from './app-routes';

export { WS_PATH } from './app-routes';

/** Received frames larger than this end the client (ws closes with 1009, Message Too Big). */
export const DEFAULT_MAX_RECEIVED_FRAME_BYTES = 1 << 20;

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

export function buildApp(options: AppOptions): FastifyInstance {
  const compositor = options.compositor;
  const kernel = options.kernel ?? compositor.process.kernel;
  if (compositor.process.kernel !== kernel) throw new Error('the compositor process must live in the app kernel');
  const extraOrigins = new Set(options.origins ?? []);
  const sessions = new Set<ClientSession>();

  const app = Fastify({ logger: options.logger ?? false });
  app.decorate('kernel', kernel);
  app.decorate('compositor', compositor);
  app.decorate('sessions', sessions);

  const ctx: RouteContext = {
    kernel,
    compositor,
    sessions,
    originAllowed: (request: FastifyRequest) => {
      const origin = request.headers.origin;
      return origin === undefined || extraOrigins.has(origin) || ownOrigins(app, request.headers.host).includes(origin);
    },
  };

  void app.register(fastifyWebsocket, {
    options: { maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_RECEIVED_FRAME_BYTES },
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

  void app.register(healthRoutes, { ctx, distDir: options.distDir ?? fileURLToPath(new URL('../dist', import.meta.url)) });
  void app.register(waylandSocketRoute, { ctx });
  if (compositor.displayToken !== undefined) void app.register(displayTokenRoute, { ctx, token: compositor.displayToken });
  const obs = compositor.observability;
  if (obs) {
    void app.register(traceRoutes, { ctx, obs });
    void app.register(metricsRoute, { obs });
    void app.register(controlRoutes, { ctx, obs });
  }
  return app;
}

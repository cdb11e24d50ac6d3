/**
 * A real handoff server on 127.0.0.1 (port 0) for the wire fuzzer, the
 * faults and the web checks, with every way an internal error shows today
 * wired to one list:
 *
 * - an error-level log line (the session's "kernel call failed", the
 *   compositor's "failed handling a disconnect", fastify's own errors);
 * - a client.disconnect trace event whose reason starts "internal error"
 *   (a request handler threw: Display.onInternalError);
 * - a wl_display.error with code `implementation` seen by any client
 *   (recorded by the caller through noteDisplayError).
 *
 * Protocol violations (wl_display.error with other codes, warn-level
 * logs) are the clean outcome and only counted.
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { buildApp, Compositor, hostClock, Kernel, WS_PATH, WlDisplayError } from './deps';

export interface LiveServer {
  readonly app: ReturnType<typeof buildApp>;
  readonly kernel: Kernel;
  readonly compositor: Compositor;
  /** http://127.0.0.1:port */
  readonly origin: string;
  /** ws://127.0.0.1:port/ws */
  readonly wsUrl: string;
  readonly internalErrors: string[];
  /** Clean refusals: warn-level log lines. */
  readonly warnings: { count: number };
  /** A client saw wl_display.error: implementation errors are internal. */
  noteDisplayError(code: number, message: string): void;
  close(): Promise<void>;
}

export interface LiveServerOptions {
  refreshHz?: number;
  traceCapacity?: number;
  /** vgpu hang timeout (drm_sched timeout). Default the kernel's 2 s. */
  jobTimeoutNs?: bigint;
  /** Where the built page lives (the static server's root). */
  distDir?: string;
}

export async function startLiveServer(options: LiveServerOptions = {}): Promise<LiveServer> {
  const internalErrors: string[] = [];
  const warnings = { count: 0 };
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        try {
          const rec = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
          if ((rec.level ?? 0) >= 50) internalErrors.push(`log: ${rec.msg ?? ''} ${rec.err?.message ?? ''}`.trim());
          else if ((rec.level ?? 0) >= 40) warnings.count++;
        } catch {
          internalErrors.push(`log line that is not JSON: ${line.slice(0, 200)}`);
        }
      }
      done();
    },
  });
  const kernel = new Kernel({ clock: hostClock(), ...(options.jobTimeoutNs !== undefined ? { vgpu: { jobTimeoutNs: options.jobTimeoutNs } } : {}) });
  const compositor = new Compositor({
    kernel,
    mode: { refreshHz: options.refreshHz ?? 60 },
    ...(options.traceCapacity !== undefined ? { traceCapacity: options.traceCapacity } : {}),
  });
  compositor.observe((ev) => {
    if (ev.type === 'client.disconnect' && ev.reason?.startsWith('internal error')) internalErrors.push(`client ${ev.client}: ${ev.reason}`);
  });
  const app = buildApp({
    kernel,
    compositor,
    logger: { level: 'warn', stream },
    ...(options.distDir !== undefined ? { distDir: options.distDir } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    kernel,
    compositor,
    origin: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${WS_PATH}`,
    internalErrors,
    warnings,
    noteDisplayError(code, message) {
      if (code === WlDisplayError.implementation) internalErrors.push(`wl_display.error implementation: ${message}`);
    },
    async close() {
      await app.close();
      compositor.shutdown();
    },
  };
}

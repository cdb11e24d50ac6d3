/**
 * An in-memory transport for client-library tests: a SocketFactory whose
 * "server" is a ClientSession of a given compositor, with frames delivered
 * on microtasks (no ws, no ports). Closing either end runs the session's
 * process exit, as a socket close does.
 */
import { ClientSession } from '../../server/client-session';
import type { HostedCompositor } from '../../server/compositor/host';
import type { SocketFactory } from '../../client/core/socket';
import type { Kernel } from '../../shared/kernel/kernel';

export interface MemoryServer {
  factory: SocketFactory;
  sessions: ClientSession[];
}

export function memoryServer(kernel: Kernel, compositor: HostedCompositor): MemoryServer {
  const sessions: ClientSession[] = [];
  let nextId = 1;
  const factory: SocketFactory = (url, handlers) => {
    let open = true;
    const comm = new URL(url).searchParams.get('comm') ?? 'client';
    const closeBoth = (code: number, reason: string): void => {
      if (!open) return;
      open = false;
      queueMicrotask(() => {
        session.disconnected();
        handlers.close(code, reason);
      });
    };
    const session = new ClientSession({
      id: nextId++,
      kernel,
      compositor,
      comm,
      sink: {
        // Frames sent before a close still arrive before it, as on a stream.
        send: (frame) => {
          if (!open) return;
          const copy = frame.slice();
          queueMicrotask(() => handlers.frame(copy));
        },
        close: closeBoth,
      },
    });
    sessions.push(session);
    queueMicrotask(() => handlers.open());
    return {
      send: (frame) => {
        if (!open) return;
        const copy = frame.slice();
        queueMicrotask(() => session.receive(copy));
      },
      close: (code, reason) => closeBoth(code ?? 1005, reason ?? ''),
    };
  };
  return { factory, sessions };
}

/**
 * A compositor on a manual clock with clients over in-memory socket pairs,
 * each served by the real ClientSession (as app.ts serves a WebSocket) and
 * each a Process of the same Kernel using its syscalls in-process.
 * settle() delivers frames both ways and lets async client code run until
 * nothing moves; run(ns) advances the clock in small steps, settling
 * between them, so timers, fences and clients interleave deterministically.
 */
import { ManualClock } from '../../../shared/kernel/clock';
import { Kernel, type KernelOptions } from '../../../shared/kernel/kernel';
import { ClientConnection, type Proxy } from '../../../shared/protocol/client';
import { createSocketPair, type MemorySocket } from '../../memory-socket';
import { ClientSession } from '../../../server/client-session';
import type { InterfaceName } from '../../../shared/protocol/generated/index';
import type { InterfaceSpec } from '../../../shared/protocol/spec';
import { Compositor, type CompositorOptions } from '../../../server/compositor/compositor';
import type { ClientEnv, KernelApi } from '../../../client/core/kernel-api';
import { processKernel } from '../../../client/node/process-kernel';
import { HeadlessClient, type HeadlessOptions } from '../../../client/node/headless-client';
import type { Process } from '../../../shared/kernel/process';

export interface TestClient {
  readonly name: string;
  readonly proc: Process;
  readonly env: ClientEnv;
  readonly conn: ClientConnection;
  readonly globals: Map<string, { name: number; version: number }>;
}

/**
 * Over a WebSocket, kernel calls travel on the same socket after the
 * Wayland requests batched before them (HandoffClient flushes first), so
 * the compositor sees an fd in a request before the client's later close
 * of it. In-process calls are immediate: flush and deliver first to keep
 * that order.
 */
function orderedAfterWayland(k: KernelApi, before: () => void): KernelApi {
  return {
    open: (p) => (before(), k.open(p)),
    close: (fd) => (before(), k.close(fd)),
    dup: (fd) => (before(), k.dup(fd)),
    ioctl: (fd, r, a) => (before(), k.ioctl(fd, r, a)),
    poll: (fds, t) => (before(), k.poll(fds, t)),
    fstat: (fd) => (before(), k.fstat(fd)),
  };
}

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

export class Harness {
  readonly clock: ManualClock;
  readonly kernel: Kernel;
  readonly compositor: Compositor;
  private readonly sockets: MemorySocket[] = [];
  /** Sessions that closed their socket: their close event comes at the next settle, as ws's does. */
  private closing: ClientSession[] = [];
  private nextSessionId = 1;

  constructor(opts: Partial<Omit<CompositorOptions, 'kernel'>> & { kernel?: Omit<KernelOptions, 'clock'> } = {}) {
    this.clock = new ManualClock(0n);
    this.kernel = new Kernel({ ...opts.kernel, clock: this.clock });
    this.compositor = new Compositor({ mode: { refreshHz: 100 }, ...opts, kernel: this.kernel });
  }

  async connect(name: string): Promise<TestClient> {
    const [server, client] = createSocketPair();
    const session: ClientSession = new ClientSession({
      id: this.nextSessionId++,
      kernel: this.kernel,
      compositor: this.compositor,
      comm: name,
      sink: {
        send: (frame) => server.send(frame),
        close: () => {
          server.close();
          this.closing.push(session);
        },
      },
    });
    server.onFrame = (f) => session.receive(f);
    server.onClose = () => session.disconnected();
    const proc = session.process;
    const conn = new ClientConnection(client, {});
    client.onFrame = (f) => conn.onFrame(f);
    client.onClose = () => conn.onClose();
    this.sockets.push(server, client);
    const globals = new Map<string, { name: number; version: number }>();
    conn.getRegistry().setListener({
      global: (gname, iface, version) => globals.set(iface, { name: gname, version }),
    });
    const registry = conn.getRegistry();
    const env: ClientEnv = {
      wayland: conn,
      kernel: orderedAfterWayland(processKernel(proc), () => {
        conn.flush();
        server.deliver();
      }),
      bind<N extends InterfaceName>(spec: InterfaceSpec<N>, version?: number): Proxy<N> {
        const g = globals.get(spec.name);
        if (!g) throw new Error(`no ${spec.name} global`);
        return registry.send.bind(g.name, spec, version ?? Math.min(g.version, spec.version));
      },
      flush: () => conn.flush(),
      roundtrip: () => conn.roundtrip(),
    };
    conn.flush();
    await this.settle();
    return { name, proc, env, conn, globals };
  }

  /** A headless client of a kind, started. */
  async client(options: HeadlessOptions): Promise<HeadlessClient> {
    const tc = await this.connect(options.name);
    const hc = new HeadlessClient(tc.env, options);
    const started = hc.start();
    await this.settle();
    await started;
    return hc;
  }

  /** Deliver frames and let async code run until nothing moves. */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 3; ) {
      let moved = 0;
      for (const s of this.sockets) moved += s.deliver();
      for (const session of this.closing.splice(0)) {
        session.disconnected();
        moved++;
      }
      await nextTick();
      quiet = moved === 0 ? quiet + 1 : 0;
    }
  }

  /** Advance the clock by `ns` in `step` increments, settling in between. */
  async run(ns: bigint, step = 500_000n): Promise<void> {
    const end = this.clock.now() + ns;
    while (this.clock.now() < end) {
      const next = this.clock.now() + step;
      this.clock.advanceTo(next < end ? next : end);
      await this.settle();
    }
  }

  hazards(): number {
    return this.compositor.validator.hazards.length;
  }
}

/**
 * The client library: one connection to the handoff server is one process,
 * with a Wayland connection (typed proxies from the generated code) and
 * its kernel syscalls, over one WebSocket. Runs in the browser and in Node
 * (pass `socket: nodeSocket()` from client/node there).
 *
 *   const client = await connect('ws://127.0.0.1:8080/ws', { comm: 'demo' });
 *   const output = client.bind(wlOutputInterface, 4).setListener({ mode(...) {...} });
 *   await client.roundtrip();
 *   const tl = await client.kernel.open('/dev/sw_sync');
 *
 * fd arguments and kernel fds are this process's own numbers. Wayland
 * requests are batched until flush() or roundtrip(); every kernel call
 * flushes them first, so the server sees requests and syscalls in program
 * order (closing an fd right after sending it in a request is safe, as with
 * libwayland, which dups at marshal time).
 *
 * Errors: wl_display.error (or bad bytes from the server) rejects pending
 * roundtrips, emits 'error' with the object id, interface, code and
 * message, and the connection ends; a closed socket emits 'disconnect' and
 * rejects pending kernel calls with DisconnectedError.
 */
import { ClientConnection, type ConnectionError, type Proxy } from '../../shared/protocol/client';
import type { InterfaceName } from '../../shared/protocol/generated/index';
import type { InterfaceSpec } from '../../shared/protocol/spec';
import { Channel, unwrapFrame, wrapFrame } from '../../shared/protocol/frame-envelope';
import { KernelClient } from './kernel-client';
import { browserSocket, type ClientSocket, type SocketFactory } from './socket';

export type { ConnectionError } from '../../shared/protocol/client';

/** A global the compositor announced (wl_registry.global). */
export interface GlobalInfo {
  readonly name: number;
  readonly interface: string;
  readonly version: number;
}

export interface ClientEvents {
  /** The connection ended on an error: wl_display.error, or malformed input from the server. */
  error: (error: ConnectionError) => void;
  /** The socket closed. */
  disconnect: (code: number, reason: string) => void;
  global: (global: GlobalInfo) => void;
  globalRemove: (global: GlobalInfo) => void;
}

export interface ConnectOptions {
  /** How to open the WebSocket. Default: the global WebSocket (browsers, Node 22+). */
  socket?: SocketFactory;
  /** The process name (sw_sync timelines and traces show it). */
  comm?: string;
}

type Listeners = { [K in keyof ClientEvents]: Set<ClientEvents[K]> };

export class HandoffClient {
  readonly wayland: ClientConnection;
  readonly kernel: KernelClient;
  readonly registry: Proxy<'wl_registry'>;
  /** Globals announced and not removed, by name. */
  readonly globals = new Map<number, GlobalInfo>();
  /** Set once the connection ended on an error. */
  error: ConnectionError | null = null;
  private connected = true;
  private readonly socket: ClientSocket;
  private readonly listeners: Listeners = { error: new Set(), disconnect: new Set(), global: new Set(), globalRemove: new Set() };

  /** @internal Use connect(). */
  constructor(socket: ClientSocket) {
    this.socket = socket;
    this.wayland = new ClientConnection(
      { send: (frame) => socket.send(frame), close: () => socket.close() },
      // fds in events are already ours (the server installed them); one
      // that no listener takes is closed, as libwayland closes it.
      { fds: { close: (fd) => void this.kernel.close(fd).catch(() => {}) } },
    );
    this.wayland.onError = (e) => this.failed(e);
    this.kernel = new KernelClient((payload) => {
      this.wayland.flush();
      socket.send(wrapFrame(Channel.kernel, payload));
    });
    this.registry = this.wayland.getRegistry().setListener({
      global: (name, iface, version) => {
        const g: GlobalInfo = { name, interface: iface, version };
        this.globals.set(name, g);
        this.emit('global', g);
      },
      globalRemove: (name) => {
        const g = this.globals.get(name);
        this.globals.delete(name);
        if (g) this.emit('globalRemove', g);
      },
    });
  }

  /** Connected: the socket is open and no error ended it. */
  get isConnected(): boolean {
    return this.connected && this.error === null;
  }

  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    const set = this.listeners[event] as Set<ClientEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** The first global implementing `spec`, if announced. */
  findGlobal(spec: InterfaceSpec): GlobalInfo | undefined {
    for (const g of this.globals.values()) if (g.interface === spec.name) return g;
    return undefined;
  }

  /**
   * wl_registry.bind of the first global implementing `spec`, at `version`
   * (default: the highest both sides know). Throws if there is no such
   * global or it is older than `version`: a client bug, caught before the
   * server would post an error for it.
   */
  bind<N extends InterfaceName>(spec: InterfaceSpec<N>, version?: number, global?: GlobalInfo): Proxy<N> {
    const g = global ?? this.findGlobal(spec);
    if (g === undefined || g.interface !== spec.name) throw new Error(`no ${spec.name} global`);
    const v = version ?? Math.min(g.version, spec.version);
    if (!Number.isInteger(v) || v < 1 || v > g.version || v > spec.version) {
      throw new RangeError(`${spec.name} version ${v}: the global offers ${g.version}, this client knows ${spec.version}`);
    }
    return this.registry.send.bind(g.name, spec, v);
  }

  /** Sends the batched Wayland requests. */
  flush(): void {
    this.wayland.flush();
  }

  /** wl_display.sync: resolves once the server handled everything sent before. */
  roundtrip(): Promise<number> {
    return this.wayland.roundtrip();
  }

  /** Closes the connection (the process exits on the server). */
  close(): void {
    this.wayland.flush();
    this.socket.close(1000, 'client closed');
  }

  /** @internal A frame from the socket. */
  onFrame(frame: Uint8Array): void {
    if (this.error !== null) return;
    const env = unwrapFrame(frame);
    if (!env.ok) return this.badInput(`malformed frame: ${env.reason}`);
    if (env.channel === Channel.wayland) {
      this.wayland.onFrame(frame);
      return;
    }
    const bad = this.kernel.receive(env.payload);
    if (bad !== undefined) this.badInput(`kernel channel: ${bad}`);
  }

  /** @internal The socket closed. */
  onClose(code: number, reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.wayland.onClose();
    this.kernel.disconnect(reason || `closed (${code})`);
    this.emit('disconnect', code, reason);
  }

  private badInput(message: string): void {
    this.failed({ kind: 'input', objectId: 0, interface: null, code: 0, message });
  }

  /** The connection ended on an error; malformed input from the server is ours to hang up on. */
  private failed(e: ConnectionError): void {
    if (e.kind === 'closed' || this.error !== null) return;
    this.error = e;
    if (e.kind === 'input') this.socket.close(4002, 'malformed input from the server');
    this.emit('error', e);
  }

  private emit<K extends keyof ClientEvents>(event: K, ...args: Parameters<ClientEvents[K]>): void {
    for (const l of [...this.listeners[event]]) (l as (...a: Parameters<ClientEvents[K]>) => void)(...args);
  }
}

/**
 * Opens a connection, reads the registry, and resolves once the globals
 * are known (one roundtrip). Rejects if the socket fails to open (a refused
 * Origin is an HTTP 403 before the upgrade).
 */
export function connect(url: string, options: ConnectOptions = {}): Promise<HandoffClient> {
  const factory = options.socket ?? browserSocket;
  const target = options.comm === undefined ? url : `${url}${url.includes('?') ? '&' : '?'}comm=${encodeURIComponent(options.comm)}`;
  return new Promise((resolve, reject) => {
    let client: HandoffClient | null = null;
    let lastError = 'connection failed';
    const socket = factory(target, {
      open: () => {
        client = new HandoffClient(socket);
        const c = client;
        c.roundtrip().then(
          () => resolve(c),
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      },
      frame: (bytes) => client?.onFrame(bytes),
      // A close always follows; the message explains a failed open.
      error: (message) => {
        lastError = message;
      },
      close: (code, reason) => {
        if (client) client.onClose(code, reason);
        else reject(new Error(`${lastError} (close ${code}${reason ? `: ${reason}` : ''})`));
      },
    });
  });
}

/**
 * The client end of a Wayland connection, after libwayland's
 * wayland-client.c: a ClientConnection owns the object map and wl_display
 * (object 1); a Proxy is one object, with typed request senders
 * (proxy.send.<request>) and an optional typed listener for its events.
 *
 * Requests that create objects return the new proxy (wl_display.sync
 * returns the wl_callback); wl_registry.bind takes the interface
 * descriptor and version. Ids are allocated densely and reused only after
 * the server's wl_display.delete_id, as libwayland does; events to objects
 * the client already destroyed are decoded (to keep fds in step) and
 * dropped. The server is trusted less than our own code but more than a
 * client: malformed input sets `error` and stops the connection.
 */
import {
  OutgoingQueue,
  type ConnectionOptions,
  type FdHooks,
  type FrameSocket,
  type TraceMessage,
} from './connection';
import { interfaceByName, type InterfaceMap, type InterfaceName } from './generated/index';
import { wlDisplayInterface } from './generated/wayland';
import { isServerId, ObjectMap } from './object-map';
import type { InterfaceSpec, MessageSpec } from './spec';
import { closeFds, forEachMessage, marshalFd, marshalObject, receiveFrame, resolveObject, senderTable } from './message-io';
import { decodeMessage, encodeMessage, type FdQueue, type MessageHeader, type WireValue } from './wire';

export type RequestSenderOf<N extends InterfaceName> = InterfaceMap[N]['requestSender'];
export type ListenerOf<N extends InterfaceName> = InterfaceMap[N]['listener'];

/** Why the connection stopped: a wl_display.error from the server, or bad input from it. */
export interface ConnectionError {
  /** 'protocol' for wl_display.error; 'input' when the server's bytes were malformed; 'closed' for EOF. */
  readonly kind: 'protocol' | 'input' | 'closed';
  readonly objectId: number;
  /** Interface of objectId, when known. */
  readonly interface: string | null;
  readonly code: number;
  readonly message: string;
}

/** One client-side object (wl_proxy). */
export class Proxy<N extends InterfaceName = InterfaceName> {
  readonly connection: ClientConnection;
  readonly id: number;
  readonly version: number;
  readonly interface: InterfaceSpec<N>;
  /** proxy.send.<request>(...): typed request senders. */
  readonly send: RequestSenderOf<N>;
  /** Handlers for this object's events; missing ones are ignored. */
  listener: Partial<ListenerOf<N>> | null = null;
  private isDestroyed = false;
  /** @internal The server acknowledged the id with delete_id before we destroyed it. */
  idDeleted = false;

  /** @internal Created by ClientConnection. */
  constructor(connection: ClientConnection, id: number, spec: InterfaceSpec<N>, version: number) {
    this.connection = connection;
    this.id = id;
    this.interface = spec;
    this.version = version;
    this.send = senderTable<RequestSenderOf<N>>(spec.requests, (request, args) => connection.sendRequest(this, request, args));
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** Sets the event handlers (wl_proxy_add_listener); returns the proxy for chaining. */
  setListener(listener: Partial<ListenerOf<N>>): this {
    this.listener = listener;
    return this;
  }

  /**
   * Forgets the object on the client side only (wl_proxy_destroy), for
   * interfaces without a destructor request such as wl_registry. Use
   * proxy.send.destroy() where the interface has one.
   */
  destroy(): void {
    this.connection.destroyProxy(this);
  }

  /** @internal */
  markDestroyed(): void {
    this.isDestroyed = true;
  }
}

export type ClientConnectionOptions = ConnectionOptions & {
  /** A listener threw; without this hook the first such error is rethrown after the frame. */
  onListenerError?(error: unknown): void;
};

/** The client's end of a connection (wl_display on the client side). */
export class ClientConnection {
  readonly objects = new ObjectMap<Proxy>('client');
  /** Object 1. */
  readonly display: Proxy<'wl_display'>;
  /** Set once the connection stopped; nothing is dispatched after. */
  error: ConnectionError | null = null;
  /** Called once when error is set. */
  onError: ((error: ConnectionError) => void) | null = null;
  private readonly out: OutgoingQueue;
  private readonly socket: FrameSocket;
  private readonly fdHooks: FdHooks;
  private readonly trace: ((m: TraceMessage) => void) | undefined;
  private readonly onListenerError: ((error: unknown) => void) | undefined;
  private readonly pendingRoundtrips = new Set<(error: ConnectionError) => void>();

  constructor(socket: FrameSocket, options: ClientConnectionOptions = {}) {
    this.socket = socket;
    this.out = new OutgoingQueue(socket, options.maxFrameBytes);
    this.fdHooks = options.fds ?? {};
    this.trace = options.trace;
    this.onListenerError = options.onListenerError;
    const id = this.objects.insertNew(null);
    this.display = new Proxy(this, id, wlDisplayInterface, 1);
    this.objects.insertAt(id, this.display);
  }

  /** wl_display.get_registry. */
  getRegistry(): Proxy<'wl_registry'> {
    return this.display.send.getRegistry();
  }

  /**
   * wl_display.sync, flushed; resolves with the callback data once every
   * earlier request has been handled and its events dispatched.
   */
  roundtrip(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.error !== null) return reject(new Error(this.error.message));
      const fail = (e: ConnectionError): void => reject(new Error(e.message));
      this.pendingRoundtrips.add(fail);
      this.display.send.sync().setListener({
        done: (data) => {
          this.pendingRoundtrips.delete(fail);
          resolve(data);
        },
      });
      this.flush();
    });
  }

  flush(): void {
    if (this.error === null) this.out.flush();
  }

  /** The socket closed: pending roundtrips fail. */
  onClose(): void {
    this.stop({ kind: 'closed', objectId: 0, interface: null, code: 0, message: 'connection closed' });
  }

  /** Closes the socket from this side. */
  close(): void {
    this.socket.close();
    this.onClose();
  }

  private stop(error: ConnectionError): void {
    if (this.error !== null) return;
    this.error = error;
    this.out.discard();
    for (const reject of this.pendingRoundtrips) reject(error);
    this.pendingRoundtrips.clear();
    this.onError?.(error);
  }

  /** @internal The body of every proxy.send.<request>(...). */
  sendRequest(proxy: Proxy, spec: MessageSpec, args: readonly unknown[]): Proxy | undefined {
    if (proxy.destroyed) throw new Error(`${proxy.interface.name}#${proxy.id}.${spec.name} sent on a destroyed proxy`);
    if (spec.since > proxy.version) {
      throw new Error(`${proxy.interface.name}.${spec.name} needs version ${spec.since}, proxy has ${proxy.version}`);
    }
    let created: Proxy | undefined;
    let next = 0;
    const wire: WireValue[] = spec.args.map((arg) => {
      if (arg.type === 'new_id') {
        let target: InterfaceSpec<InterfaceName>;
        let version = proxy.version;
        if (arg.interface === undefined) {
          target = args[next++] as InterfaceSpec<InterfaceName>;
          version = args[next++] as number;
          if (typeof target !== 'object' || typeof target.name !== 'string' || !Number.isInteger(version) || version < 1) {
            throw new TypeError(`${spec.name}.${arg.name}: expected an interface descriptor and a version`);
          }
        } else {
          const known = interfaceByName(arg.interface);
          if (known === undefined) throw new Error(`no descriptor for ${arg.interface}`);
          target = known as InterfaceSpec<InterfaceName>;
        }
        const id = this.objects.insertNew(null);
        created = new Proxy(this, id, target, version);
        this.objects.insertAt(id, created);
        return arg.interface === undefined ? { interface: target.name, version, id } : id;
      }
      const value = args[next++];
      if (arg.type === 'object') return marshalObject(spec, arg, value, this.owns, 'proxy of this connection');
      if (arg.type === 'fd') {
        const fd = marshalFd(spec, arg, value, this.fdHooks);
        if (fd < 0) throw new Error(`${spec.name}.${arg.name}: fd ${value} could not be passed (${fd})`);
        return fd;
      }
      return value as WireValue; // encodeMessage checks the type
    });
    if (this.error === null) {
      const fds: number[] = [];
      const bytes = encodeMessage(proxy.id, spec, wire, fds);
      this.trace?.({ direction: 'out', objectId: proxy.id, interface: proxy.interface.name, message: spec.name, opcode: spec.opcode, args: wire });
      this.out.push(bytes, fds);
    }
    if (spec.destructor) this.destroyProxy(proxy);
    return created;
  }

  /** @internal wl_proxy_destroy: a client id waits for delete_id as a zombie; a server id is freed. */
  destroyProxy(proxy: Proxy): void {
    if (proxy.destroyed) return;
    proxy.markDestroyed();
    proxy.listener = null;
    if (proxy.idDeleted) this.objects.remove(proxy.id);
    // Otherwise the zombie stays in the map: events still in flight are
    // decoded against its interface (to consume their fds) and dropped.
  }

  /** Dispatches one frame of events. */
  onFrame(bytes: Uint8Array): void {
    if (this.error !== null) return;
    const listenerErrors: unknown[] = [];
    this.dispatchFrame(bytes, listenerErrors);
    const first = listenerErrors[0];
    if (first !== undefined) throw first;
  }

  private badInput(message: string): void {
    this.stop({ kind: 'input', objectId: 0, interface: null, code: 0, message });
  }

  private closeFds(fds: readonly number[]): void {
    closeFds(this.fdHooks, fds);
  }

  private readonly owns = (v: unknown): v is Proxy => v instanceof Proxy && v.connection === this;

  private dispatchFrame(bytes: Uint8Array, listenerErrors: unknown[]): void {
    const received = receiveFrame(bytes, this.fdHooks, (fd) => `frame carries fd ${fd}, which could not be received`);
    if (!received.ok) return this.badInput(received.reason);
    const { queue } = received;
    const bad = forEachMessage(received.body, () => this.error === null, (view, offset, header, sizeError) =>
      this.dispatchEvent(view, offset, header, sizeError, queue, listenerErrors),
    );
    if (bad !== null) this.badInput(bad);
    if (this.error === null && queue.head < queue.fds.length) this.badInput(`frame carried ${queue.fds.length - queue.head} unconsumed fds`);
    this.closeFds(queue.fds.slice(queue.head));
  }

  private dispatchEvent(
    view: DataView,
    offset: number,
    header: MessageHeader,
    sizeError: string | null,
    queue: FdQueue,
    listenerErrors: unknown[],
  ): void {
    const { objectId, opcode, size } = header;
    const proxy = this.objects.lookup(objectId);
    if (proxy === undefined) return this.badInput(`event for unknown object ${objectId}`);
    const spec = proxy.interface.events[opcode];
    if (spec === undefined) return this.badInput(`invalid event ${opcode} for ${proxy.interface.name}#${objectId}`);
    if (sizeError !== null) return this.badInput(sizeError);
    const decoded = decodeMessage(view, offset, size, spec, queue);
    if (!decoded.ok) {
      this.closeFds(decoded.fds);
      return this.badInput(`malformed event ${proxy.interface.name}#${objectId}.${decoded.reason}`);
    }
    if (proxy === this.display) return this.handleDisplayEvent(spec, decoded.args);
    if (proxy.destroyed) return this.closeFds(decoded.fds);
    const args: unknown[] = [];
    for (let i = 0; i < spec.args.length; i++) {
      const arg = spec.args[i];
      const value = decoded.args[i];
      if (arg === undefined) continue;
      if (arg.type === 'object') {
        const resolved = resolveObject(this.objects, arg, value as number);
        if (!resolved.ok) return this.badInput(`${spec.name}: ${resolved.reason}`);
        const target = resolved.target;
        if (target === null || target.destroyed) {
          // A null, or an object we already destroyed: libwayland passes NULL.
          // Where the XML forbids null, drop the event rather than lie to the listener.
          if (arg.nullable !== true) return this.closeFds(decoded.fds);
          args.push(null);
        } else {
          args.push(target);
        }
      } else if (arg.type === 'new_id') {
        const id = value as number;
        const target = interfaceByName(arg.interface ?? '');
        if (target === undefined) return this.badInput(`${spec.name}: no descriptor for ${arg.interface ?? '?'}`);
        const existing = this.objects.lookup(id);
        if (!isServerId(id) || (existing !== undefined && !existing.destroyed)) {
          return this.badInput(`${spec.name}: new id ${id} is not a free server id`);
        }
        if (existing === undefined && id > this.objects.nextPeerId()) {
          return this.badInput(`${spec.name}: new id ${id} skips ahead of ${this.objects.nextPeerId()}`);
        }
        const created = new Proxy(this, id, target as InterfaceSpec<InterfaceName>, proxy.version);
        this.objects.insertAt(id, created);
        args.push(created);
      } else {
        args.push(value);
      }
    }
    this.trace?.({ direction: 'in', objectId, interface: proxy.interface.name, message: spec.name, opcode, args: decoded.args });
    const listener = proxy.listener;
    const handler = listener === null ? undefined : (listener as Record<string, unknown>)[spec.method];
    // A destructor event ends the proxy before its handler runs, so the
    // handler sees it destroyed (wl_callback.done, fenced_release).
    if (spec.destructor) this.destroyProxy(proxy);
    if (typeof handler === 'function') {
      try {
        handler.apply(listener, args);
      } catch (error) {
        if (this.onListenerError !== undefined) this.onListenerError(error);
        else listenerErrors.push(error);
      }
    } else {
      // Nobody takes the fds of an unhandled event.
      this.closeFds(decoded.fds);
    }
  }

  private handleDisplayEvent(spec: MessageSpec, args: readonly WireValue[]): void {
    if (spec.name === 'error') {
      const [objectId, code, message] = args as [number, number, string];
      const iface = this.objects.lookup(objectId)?.interface.name ?? null;
      this.trace?.({ direction: 'in', objectId: 1, interface: 'wl_display', message: 'error', opcode: 0, args });
      return this.stop({ kind: 'protocol', objectId, interface: iface, code, message });
    }
    if (spec.name === 'delete_id') {
      const id = args[0] as number;
      this.trace?.({ direction: 'in', objectId: 1, interface: 'wl_display', message: 'delete_id', opcode: 1, args });
      const proxy = this.objects.lookup(id);
      if (proxy === undefined) return;
      if (proxy.destroyed) this.objects.remove(id);
      else proxy.idDeleted = true;
    }
  }
}

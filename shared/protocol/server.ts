/**
 * The server end of Wayland connections, after libwayland's
 * wayland-server.c: a Display holds the globals and the clients; a Client
 * is one connection with its object map; a Resource is one object of a
 * client, with an implementation object typed by the interface's
 * generated XxxRequests (so a missing request handler fails to compile).
 *
 * Everything a client sends is checked here, once: frame layout, header,
 * object, opcode, version, arguments (object types, nullability, new ids,
 * fds, strings). Any violation posts wl_display.error with the code
 * libwayland would use, flushes, and closes that client; the dispatch path
 * never throws on client input. Handlers see typed, trusted values.
 */
import {
  OutgoingQueue,
  type ConnectionOptions,
  type FdHooks,
  type FrameSocket,
  type TraceMessage,
} from './connection';
import { interfaceByName, type InterfaceMap, type InterfaceName } from './generated/index';
import {
  WlDisplayError,
  wlDisplayInterface,
  type WlDisplayRequests,
  type WlRegistryRequests,
  type WlRegistryResource,
} from './generated/wayland';
import { isServerId, ObjectMap } from './object-map';
import type { InterfaceSpec, MessageSpec } from './spec';
import { closeFds, forEachMessage, marshalFd, marshalObject, receiveFrame, resolveObject, senderTable } from './message-io';
import { decodeMessage, encodeMessage, type FdQueue, type MessageHeader, type UntypedNewIdValue, type WireValue } from './wire';

export type RequestsOf<N extends InterfaceName> = InterfaceMap[N]['requests'];
export type EventSenderOf<N extends InterfaceName> = InterfaceMap[N]['events'];

/** A new_id whose interface the XML leaves open; only wl_registry.bind has one. */
export type UntypedNewId = UntypedNewIdValue;

/** A protocol error: the first one ends the client. */
export interface ProtocolError {
  readonly objectId: number;
  readonly interface: string;
  readonly code: number;
  readonly message: string;
}

/** One object of a client (wl_resource). */
export class Resource<N extends InterfaceName = InterfaceName> {
  readonly client: Client;
  readonly id: number;
  readonly version: number;
  readonly interface: InterfaceSpec<N>;
  /** The handlers for this object's requests. */
  readonly implementation: RequestsOf<N>;
  /** resource.send.<event>(...): typed event senders. */
  readonly send: EventSenderOf<N>;
  private isDestroyed = false;
  private readonly destroyListeners: (() => void)[] = [];

  /** @internal Use NewId.create, Client.createResource or a global's bind. */
  constructor(client: Client, id: number, spec: InterfaceSpec<N>, version: number, implementation: RequestsOf<N>) {
    this.client = client;
    this.id = id;
    this.interface = spec;
    this.version = version;
    this.implementation = implementation;
    this.send = senderTable<EventSenderOf<N>>(spec.events, (event, args) => client.sendEvent(this, event, args));
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** Posts a protocol error on this object (wl_resource_post_error): the client is then disconnected. */
  postError(code: number, message: string): void {
    this.client.postError(this.id, this.interface.name, code, message);
  }

  /** Runs when the resource is destroyed, by request, by the server or at disconnect. */
  onDestroy(listener: () => void): void {
    this.destroyListeners.push(listener);
  }

  /**
   * Destroys the object (wl_resource_destroy). For a client-allocated id
   * this sends wl_display.delete_id so the client can reuse it.
   */
  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    for (const l of this.destroyListeners) l();
    this.client.forget(this);
  }

  /** @internal Teardown: listeners run (a throwing one is reported, not rethrown), nothing is sent. */
  destroyQuietly(report: (error: unknown) => void): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    for (const l of this.destroyListeners) {
      try {
        l();
      } catch (error) {
        report(error);
      }
    }
  }
}

/** An id the client chose for a new object; create() binds it to an implementation. */
export interface NewId<N extends InterfaceName> {
  readonly client: Client;
  readonly id: number;
  readonly version: number;
  readonly interface: InterfaceSpec<N>;
  /** Creates the resource; call exactly once. */
  create(implementation: RequestsOf<N>): Resource<N>;
}

export interface Global<N extends InterfaceName = InterfaceName> {
  readonly name: number;
  readonly interface: InterfaceSpec<N>;
  readonly version: number;
  /** Announces global_remove to every registry; later binds fail. */
  remove(): void;
}

interface GlobalEntry {
  readonly global: Global;
  readonly visible: (client: Client) => boolean;
  readonly bind: (client: Client, version: number, id: number) => void;
}

export interface DisplayOptions {
  /** A request handler threw: the client got an `implementation` error. Report the bug here. */
  onInternalError?(error: unknown, client: Client): void;
}

export type ClientOptions = ConnectionOptions;

/** The server: globals, serials and connected clients (wl_display). */
export class Display {
  readonly clients = new Set<Client>();
  private readonly globals = new Map<number, GlobalEntry>();
  private nextGlobalName = 1;
  private currentSerial = 0;
  /** @internal */
  readonly options: DisplayOptions;

  constructor(options: DisplayOptions = {}) {
    this.options = options;
  }

  /** wl_display_get_serial. */
  get serial(): number {
    return this.currentSerial;
  }

  /** wl_display_next_serial: a fresh serial for configure, ping and friends. */
  nextSerial(): number {
    this.currentSerial = (this.currentSerial + 1) >>> 0;
    return this.currentSerial;
  }

  /**
   * Advertises a global (wl_global_create). bind runs when a client binds
   * it, with the version the client asked for; it must call newId.create.
   */
  createGlobal<N extends InterfaceName>(
    spec: InterfaceSpec<N>,
    version: number,
    bind: (newId: NewId<N>) => void,
    visible: (client: Client) => boolean = () => true,
  ): Global<N> {
    if (!Number.isInteger(version) || version < 1 || version > spec.version) {
      throw new RangeError(`global ${spec.name}: version ${version} is outside 1..${spec.version}`);
    }
    const name = this.nextGlobalName++;
    const global: Global<N> = {
      name,
      interface: spec,
      version,
      remove: () => {
        if (!this.globals.delete(name)) return;
        for (const c of this.clients) if (visible(c)) c.announceGlobalRemove(name);
      },
    };
    this.globals.set(name, {
      global,
      visible,
      bind: (client, v, id) => bind(client.newIdFor(spec, v, id)),
    });
    for (const c of this.clients) if (visible(c)) c.announceGlobal(global);
    return global;
  }

  /** @internal */
  visibleGlobals(client: Client): Global[] {
    return [...this.globals.values()].filter((g) => g.visible(client)).map((g) => g.global);
  }

  /** @internal */
  globalEntry(name: number): GlobalEntry | undefined {
    return this.globals.get(name);
  }

  /** Accepts a connection (wl_client_create). Feed it with client.onFrame / onClose. */
  createClient(socket: FrameSocket, options: ClientOptions = {}): Client {
    const client = new Client(this, socket, options);
    this.clients.add(client);
    return client;
  }

  /** Flushes every client's batch (wl_display_flush_clients). */
  flushClients(): void {
    for (const c of this.clients) c.flush();
  }
}

/** One connected client (wl_client). */
export class Client {
  readonly display: Display;
  /** Objects by id: client ids 1.., server ids 0xff000000.. */
  readonly objects = new ObjectMap<Resource>('server');
  /** The first protocol error, once there is one. */
  error: ProtocolError | null = null;
  private readonly socket: FrameSocket;
  private readonly out: OutgoingQueue;
  private readonly fdHooks: FdHooks;
  private readonly trace: ((m: TraceMessage) => void) | undefined;
  private readonly displayResource: Resource<'wl_display'>;
  private readonly registries = new Set<Resource<'wl_registry'>>();
  private readonly destroyListeners: (() => void)[] = [];
  /** fds of the frame being dispatched; those past head are not yet claimed. */
  private incomingFds: FdQueue | null = null;
  private dispatching = false;
  private isDestroyed = false;

  /** @internal Use Display.createClient. */
  constructor(display: Display, socket: FrameSocket, options: ClientOptions) {
    this.display = display;
    this.socket = socket;
    this.out = new OutgoingQueue(socket, options.maxFrameBytes);
    this.fdHooks = options.fds ?? {};
    this.trace = options.trace;
    const reserved = this.objects.reserveNew(1);
    if (reserved !== null) throw new Error(reserved);
    this.displayResource = new Resource(this, 1, wlDisplayInterface, 1, this.displayImplementation());
    this.objects.insertAt(1, this.displayResource);
  }

  get destroyed(): boolean {
    return this.isDestroyed;
  }

  onDestroy(listener: () => void): void {
    this.destroyListeners.push(listener);
  }

  getResource(id: number): Resource | undefined {
    return this.objects.lookup(id);
  }

  /** Creates a server-allocated object, e.g. the wl_buffer of zwp_linux_buffer_params_v1.created. */
  createResource<N extends InterfaceName>(spec: InterfaceSpec<N>, version: number, implementation: RequestsOf<N>): Resource<N> {
    if (this.isDestroyed) throw new Error('createResource on a destroyed client');
    const id = this.objects.insertNew(null);
    const resource = new Resource(this, id, spec, version, implementation);
    this.objects.insertAt(id, resource);
    return resource;
  }

  /** @internal Builds the NewId handed to a request handler or a global's bind. */
  newIdFor<N extends InterfaceName>(spec: InterfaceSpec<N>, version: number, id: number): NewId<N> {
    let created = false;
    return {
      client: this,
      id,
      version,
      interface: spec,
      create: (implementation) => {
        if (created) throw new Error(`${spec.name}#${id} created twice`);
        created = true;
        const resource = new Resource(this, id, spec, version, implementation);
        if (!this.isDestroyed) this.objects.insertAt(id, resource);
        return resource;
      },
    };
  }

  /** Sends the batch as one frame (wl_client_flush). */
  flush(): void {
    if (!this.isDestroyed) this.out.flush();
  }

  /** The peer closed the socket: tear down without writing. */
  onClose(): void {
    this.teardown(false);
  }

  /** Disconnects the client (wl_client_destroy): objects destroyed, socket closed. */
  destroy(): void {
    this.teardown(true);
  }

  /**
   * @internal Posts wl_display.error about an object. Later events are
   * dropped (as libwayland does once client->error is set); the client is
   * flushed and closed after the current request, or now outside dispatch.
   */
  postError(objectId: number, iface: string, code: number, message: string): void {
    if (this.error !== null || this.isDestroyed) return;
    this.error = { objectId, interface: iface, code, message };
    const spec = wlDisplayInterface.events[0];
    const bytes = encodeMessage(1, spec, [objectId, code >>> 0, message], []);
    this.traceOut(1, wlDisplayInterface.name, spec, [objectId, code >>> 0, message]);
    this.out.push(bytes, []);
    if (!this.dispatching) this.endAfterError();
  }

  private endAfterError(): void {
    this.out.flush();
    this.teardown(true);
  }

  private fatal(code: number, message: string): void {
    this.postError(1, wlDisplayInterface.name, code, message);
  }

  private teardown(closeSocket: boolean): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    // Teardown runs on client input (a close, a protocol error): a throwing
    // listener is a compositor bug to report, not a reason to stop cleaning up.
    const report = (error: unknown): void => this.display.options.onInternalError?.(error, this);
    for (const l of this.destroyListeners) {
      try {
        l();
      } catch (error) {
        report(error);
      }
    }
    for (const [, resource] of this.objects.entries()) resource.destroyQuietly(report);
    this.registries.clear();
    this.closeUnclaimedFds();
    this.out.discard();
    this.display.clients.delete(this);
    if (closeSocket) this.socket.close();
  }

  private closeUnclaimedFds(): void {
    const queue = this.incomingFds;
    this.incomingFds = null;
    if (queue !== null) this.closeFds(queue.fds.slice(queue.head));
  }

  private closeFds(fds: readonly number[]): void {
    closeFds(this.fdHooks, fds);
  }

  /** @internal A resource was destroyed: free its id, and tell the client if it chose the id. */
  forget(resource: Resource): void {
    if (this.isDestroyed) return;
    if (resource.interface.name === 'wl_registry') this.registries.delete(resource as Resource<'wl_registry'>);
    this.objects.remove(resource.id);
    if (!isServerId(resource.id) && this.error === null) {
      // wl_display.delete_id, queued like any event.
      this.queue(this.displayResource, wlDisplayInterface.events[1], [resource.id]);
    }
  }

  /** @internal The body of every resource.send.<event>(...). */
  sendEvent(resource: Resource, spec: MessageSpec, args: readonly unknown[]): void {
    // A gone or failed client drops events silently, even to objects that
    // teardown already destroyed (destroy listeners often send events).
    if (this.isDestroyed || this.error !== null) return;
    if (resource.destroyed) throw new Error(`${resource.interface.name}#${resource.id}.${spec.name} sent on a destroyed object`);
    if (spec.since > resource.version) {
      throw new Error(`${resource.interface.name}.${spec.name} needs version ${spec.since}, object has ${resource.version}`);
    }
    let unpassable: string | undefined;
    const wire: WireValue[] = spec.args.map((arg, i) => {
      const value = args[i];
      if (arg.type === 'object' || arg.type === 'new_id') return marshalObject(spec, arg, value, this.owns, 'resource of this client');
      if (arg.type === 'fd') {
        const fd = marshalFd(spec, arg, value, this.fdHooks);
        // The client cannot take the fd (its table is full, say): that is the
        // client's state, not a compositor bug. libwayland destroys such a
        // client when marshalling fails; so do we, and the event is dropped.
        if (fd < 0) unpassable = `${spec.name}.${arg.name}: could not pass fd ${value} to the client (${fd})`;
        return fd < 0 ? 0 : fd;
      }
      return value as WireValue; // encodeMessage checks the type
    });
    if (unpassable !== undefined) {
      // fds of this event already installed in the client go with its process.
      this.postError(1, 'wl_display', WlDisplayError.implementation, unpassable);
      return;
    }
    this.queue(resource, spec, wire);
    if (spec.destructor) resource.destroy();
  }

  private queue(resource: Resource, spec: MessageSpec, wire: WireValue[]): void {
    const fds: number[] = [];
    const bytes = encodeMessage(resource.id, spec, wire, fds);
    this.traceOut(resource.id, resource.interface.name, spec, wire);
    this.out.push(bytes, fds);
  }

  private traceOut(objectId: number, iface: string, spec: MessageSpec, args: readonly WireValue[]): void {
    this.trace?.({ direction: 'out', objectId, interface: iface, message: spec.name, opcode: spec.opcode, args });
  }

  /** Handles one frame from the client: every message in it, in order. */
  onFrame(bytes: Uint8Array): void {
    if (this.isDestroyed || this.error !== null) return;
    this.dispatching = true;
    try {
      this.dispatchFrame(bytes);
    } finally {
      this.dispatching = false;
    }
    if (this.error !== null && !this.isDestroyed) this.endAfterError();
  }

  private readonly owns = (v: unknown): v is Resource => v instanceof Resource && v.client === this;

  private dispatchFrame(bytes: Uint8Array): void {
    const received = receiveFrame(bytes, this.fdHooks, (fd) => `frame carries fd ${fd}, which the sender does not have open`);
    if (!received.ok) return this.fatal(WlDisplayError.invalidMethod, received.reason);
    const { queue } = received;
    this.incomingFds = queue;
    try {
      const going = (): boolean => this.error === null && !this.isDestroyed;
      const bad = forEachMessage(received.body, going, (view, offset, header, sizeError) =>
        this.dispatchMessage(view, offset, header, sizeError, queue),
      );
      if (bad !== null) return this.fatal(WlDisplayError.invalidMethod, bad);
      if (going() && queue.head < queue.fds.length) {
        this.fatal(WlDisplayError.invalidMethod, `frame carried ${queue.fds.length - queue.head} fds that no message consumed`);
      }
    } finally {
      // fds before head went to handlers (or were closed when refused).
      this.closeUnclaimedFds();
    }
  }

  /** wl_client_connection_data's order: object, opcode, version, then the size and arguments. */
  private dispatchMessage(view: DataView, offset: number, header: MessageHeader, sizeError: string | null, queue: FdQueue): void {
    const { objectId, opcode, size } = header;
    const resource = this.objects.lookup(objectId);
    if (resource === undefined) return this.fatal(WlDisplayError.invalidObject, `invalid object ${objectId}`);
    const iface = resource.interface;
    const where = `${iface.name}#${objectId}`;
    const spec = iface.requests[opcode];
    if (spec === undefined) return this.fatal(WlDisplayError.invalidMethod, `invalid method ${opcode}, object ${where}`);
    if (spec.since > resource.version) {
      return this.fatal(WlDisplayError.invalidMethod, `invalid method ${opcode} (since ${resource.version} < ${spec.since}), object ${where}`);
    }
    if (sizeError !== null) return this.fatal(WlDisplayError.invalidMethod, sizeError);
    const decoded = decodeMessage(view, offset, size, spec, queue);
    const refuse = (reason: string): void => {
      this.closeFds(decoded.fds);
      this.fatal(WlDisplayError.invalidMethod, `invalid arguments for ${where}.${spec.name}: ${reason}`);
    };
    if (!decoded.ok) return refuse(decoded.reason.slice(spec.name.length + 2));
    const args: unknown[] = [];
    for (let i = 0; i < spec.args.length; i++) {
      const arg = spec.args[i];
      const value = decoded.args[i];
      if (arg === undefined) continue;
      if (arg.type === 'object') {
        const resolved = resolveObject(this.objects, arg, value as number);
        if (!resolved.ok) return refuse(resolved.reason);
        if (resolved.target === null && arg.nullable !== true) return refuse(`null object for ${arg.name}, which is not allow-null`);
        args.push(resolved.target);
      } else if (arg.type === 'new_id') {
        const untyped = arg.interface === undefined ? (value as UntypedNewIdValue) : null;
        const id = untyped !== null ? untyped.id : (value as number);
        if (id === 0) return refuse(`null new id for ${arg.name}`);
        const refused = this.objects.reserveNew(id);
        if (refused !== null) return refuse(`${refused} (${arg.name})`);
        if (untyped !== null) {
          args.push(untyped);
        } else {
          const target = interfaceByName(arg.interface ?? '');
          if (target === undefined) return refuse(`no descriptor for ${arg.interface ?? '?'}`);
          args.push(this.newIdFor(target as InterfaceSpec<InterfaceName>, resource.version, id));
        }
      } else {
        args.push(value);
      }
    }
    this.trace?.({ direction: 'in', objectId, interface: iface.name, message: spec.name, opcode, args: decoded.args });
    // From here the handler owns the fds of this message.
    const handler = (resource.implementation as unknown as Record<string, unknown>)[spec.method];
    try {
      if (typeof handler !== 'function') throw new Error(`${iface.name} implementation has no ${spec.method}`);
      handler.apply(resource.implementation, [resource, ...args]);
      if (spec.destructor && !resource.destroyed) resource.destroy();
    } catch (error) {
      this.fatal(WlDisplayError.implementation, `compositor failed handling ${where}.${spec.name}`);
      this.display.options.onInternalError?.(error, this);
    }
  }

  /** @internal */
  announceGlobal(global: Global): void {
    for (const r of this.registries) r.send.global(global.name, global.interface.name, global.version);
  }

  /** @internal */
  announceGlobalRemove(name: number): void {
    for (const r of this.registries) r.send.globalRemove(name);
  }

  /** wl_display's own requests, as display_sync / display_get_registry do. */
  private displayImplementation(): WlDisplayRequests {
    return {
      sync: (_resource, callback) => {
        const cb = callback.create({});
        cb.send.done(this.display.serial);
      },
      getRegistry: (_resource, registryId) => {
        const registry = registryId.create(this.registryImplementation());
        this.registries.add(registry);
        for (const g of this.display.visibleGlobals(this)) registry.send.global(g.name, g.interface.name, g.version);
      },
    };
  }

  /** registry_bind: the checks and error texts of libwayland. */
  private registryImplementation(): WlRegistryRequests {
    return {
      bind: (registry: WlRegistryResource, name, id) => {
        const entry = this.display.globalEntry(name);
        const fail = (message: string): void => registry.postError(WlDisplayError.invalidObject, message);
        if (entry === undefined || !entry.visible(this)) return fail(`invalid global ${id.interface} (${name})`);
        const g = entry.global;
        if (g.interface.name !== id.interface) {
          return fail(`invalid interface for global ${name}: have ${id.interface}, wanted ${g.interface.name}`);
        }
        if (id.version === 0) return fail(`invalid version for global ${id.interface} (${name}): 0 is not a valid version`);
        if (g.version < id.version) {
          return fail(`invalid version for global ${id.interface} (${name}): have ${g.version}, wanted ${id.version}`);
        }
        entry.bind(this, id.version, id.id);
      },
    };
  }
}

/**
 * Test rig: a Display with a few globals and clients connected over
 * in-memory socket pairs. pump() delivers frames both ways until quiet, so
 * each test decides exactly when bytes move.
 */
import { ClientConnection, type ClientConnectionOptions, type Proxy } from '../../shared/protocol/client';
import type { FdHooks } from '../../shared/protocol/connection';
import { createSocketPair, type MemorySocket } from '../memory-socket';
import {
  wlCompositorInterface,
  wlOutputInterface,
  wpFifoManagerV1Interface,
  wpLinuxDrmSyncobjManagerV1Interface,
  type WlCompositorRequests,
  type WlRegionRequests,
  type WlSurfaceRequests,
  type WpFifoManagerV1Requests,
  type WpLinuxDrmSyncobjManagerV1Requests,
} from '../../shared/protocol/generated/index';
import { Display, type Client } from '../../shared/protocol/server';
import { encodeFrame } from '../../shared/protocol/wire';
import { Channel } from '../../shared/protocol/frame-envelope';

export interface Calls {
  log: string[];
  fds: number[];
}

export function surfaceImpl(calls: Calls): WlSurfaceRequests {
  return {
    destroy: () => calls.log.push('surface.destroy'),
    attach: (_r, buffer, x, y) => calls.log.push(`attach ${buffer === null ? 'null' : buffer.id} ${x} ${y}`),
    damage: () => {},
    frame: (_r, cb) => {
      cb.create({});
    },
    setOpaqueRegion: (_r, region) => calls.log.push(`opaque ${region === null ? 'null' : region.id}`),
    setInputRegion: () => {},
    commit: () => calls.log.push('commit'),
    setBufferTransform: () => {},
    setBufferScale: () => {},
    damageBuffer: () => {},
    offset: (_r, x, y) => calls.log.push(`offset ${x} ${y}`),
  };
}

const regionImpl: WlRegionRequests = { destroy: () => {}, add: () => {}, subtract: () => {} };

export function makeDisplay(calls: Calls = { log: [], fds: [] }, onInternalError?: (e: unknown) => void): Display {
  const display = new Display(onInternalError === undefined ? {} : { onInternalError });
  const compositor: WlCompositorRequests = {
    createSurface: (_r, id) => {
      id.create(surfaceImpl(calls));
    },
    createRegion: (_r, id) => {
      id.create(regionImpl);
    },
  };
  display.createGlobal(wlCompositorInterface, 6, (id) => id.create(compositor));
  display.createGlobal(wlOutputInterface, 4, (id) => id.create({ release: () => {} }));
  const fifo: WpFifoManagerV1Requests = {
    destroy: () => {},
    getFifo: (_r, id, surface) => {
      calls.log.push(`get_fifo on ${surface.id}`);
      id.create({ setBarrier: () => {}, waitBarrier: () => {}, destroy: () => {} });
    },
  };
  display.createGlobal(wpFifoManagerV1Interface, 1, (id) => id.create(fifo));
  const syncobj: WpLinuxDrmSyncobjManagerV1Requests = {
    destroy: () => {},
    getSurface: (_r, id) => {
      id.create({ destroy: () => {}, setAcquirePoint: () => {}, setReleasePoint: () => {} });
    },
    importTimeline: (_r, id, fd) => {
      calls.fds.push(fd);
      id.create({ destroy: () => {} });
    },
  };
  display.createGlobal(wpLinuxDrmSyncobjManagerV1Interface, 1, (id) => id.create(syncobj));
  return display;
}

export interface Peer {
  conn: ClientConnection;
  /** The client's socket (raw bytes can be sent on it). */
  socket: MemorySocket;
  serverSocket: MemorySocket;
  server: Client;
  closedOnServer: boolean;
}

export interface Rig {
  display: Display;
  peers: Peer[];
  connect(options?: { serverFds?: FdHooks; client?: ClientConnectionOptions }): Peer;
  pump(): void;
}

export function makeRig(display: Display = makeDisplay()): Rig {
  const peers: Peer[] = [];
  const pump = (): void => {
    for (let round = 0; round < 100; round++) {
      let moved = 0;
      for (const p of peers) moved += p.serverSocket.deliver() + p.socket.deliver();
      display.flushClients();
      for (const p of peers) p.conn.flush();
      if (moved === 0 && peers.every((p) => p.serverSocket.inbox.length === 0 && p.socket.inbox.length === 0)) return;
    }
    throw new Error('pump did not settle');
  };
  const connect = (options: { serverFds?: FdHooks; client?: ClientConnectionOptions } = {}): Peer => {
    const [clientSocket, serverSocket] = createSocketPair();
    const server = display.createClient(serverSocket, options.serverFds === undefined ? {} : { fds: options.serverFds });
    const conn = new ClientConnection(clientSocket, options.client);
    const peer: Peer = { conn, socket: clientSocket, serverSocket, server, closedOnServer: false };
    serverSocket.onFrame = (f) => server.onFrame(f);
    serverSocket.onClose = () => {
      peer.closedOnServer = true;
      server.onClose();
    };
    clientSocket.onFrame = (f) => conn.onFrame(f);
    clientSocket.onClose = () => conn.onClose();
    peers.push(peer);
    return peer;
  };
  return { display, peers, connect, pump };
}

/** wl_display.sync round trip with the rig pumping. */
export async function roundtrip(rig: Rig, peer: Peer): Promise<number> {
  const done = peer.conn.roundtrip();
  rig.pump();
  return done;
}

/** Lists the registry and returns the global names by interface. */
export async function listGlobals(rig: Rig, peer: Peer): Promise<{ registry: Proxy<'wl_registry'>; names: Map<string, number> }> {
  const registry = peer.conn.getRegistry();
  const names = new Map<string, number>();
  registry.setListener({ global: (name, iface) => names.set(iface, name) });
  await roundtrip(rig, peer);
  return { registry, names };
}

/** Sends raw message bytes (and fds) on a client's socket, bypassing the encoder. */
export function sendRaw(peer: Peer, words: readonly number[] | Uint8Array, fds: number[] = []): void {
  const body = words instanceof Uint8Array ? words : le32(words);
  peer.socket.send(encodeFrame({ channel: Channel.wayland, fds, body }));
}

export function le32(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return out;
}

export function hex(bytes: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push([...bytes.subarray(i, i + 4)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  }
  return words.join(' ');
}

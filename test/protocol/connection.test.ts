import { describe, expect, it } from 'vitest';
import {
  wlBufferInterface,
  wlCompositorInterface,
  wlOutputInterface,
  wpLinuxDrmSyncobjManagerV1Interface,
  zwpLinuxBufferReleaseV1Interface,
  zwpLinuxDmabufV1Interface,
  type WlRegionRequests,
  type ZwpLinuxDmabufV1Requests,
} from '../../shared/protocol/generated/index';
import { SERVER_ID_START } from '../../shared/protocol/object-map';
import type { Resource } from '../../shared/protocol/server';
import { decodeFrame } from '../../shared/protocol/wire';
import { listGlobals, makeDisplay, makeRig, roundtrip, sendRaw, type Calls } from './helpers';

const msgWords = (id: number, opcode: number, ...args: number[]): number[] => [id, (((8 + 4 * args.length) << 16) | opcode) >>> 0, ...args];

async function withCompositor(calls?: Calls) {
  const rig = makeRig(makeDisplay(calls));
  const peer = rig.connect();
  const { registry, names } = await listGlobals(rig, peer);
  const compositor = registry.send.bind(names.get('wl_compositor') ?? 0, wlCompositorInterface, 6);
  return { rig, peer, registry, names, compositor };
}

describe('connection over an in-memory socket pair', () => {
  it('the registry lists every global with its version', async () => {
    const rig = makeRig();
    const peer = rig.connect();
    const registry = peer.conn.getRegistry();
    const seen: string[] = [];
    registry.setListener({ global: (name, iface, version) => seen.push(`${name}:${iface}:${version}`) });
    await roundtrip(rig, peer);
    expect(seen).toEqual(['1:wl_compositor:6', '2:wl_output:4', '3:wp_fifo_manager_v1:1', '4:wp_linux_drm_syncobj_manager_v1:1']);
  });

  it('roundtrip resolves after the requests before it were handled', async () => {
    const calls: Calls = { log: [], fds: [] };
    const { rig, peer, compositor } = await withCompositor(calls);
    const surface = compositor.send.createSurface();
    surface.send.commit();
    await roundtrip(rig, peer);
    expect(calls.log).toEqual(['commit']);
    expect(peer.conn.error).toBeNull();
  });

  it('bound objects get the version the client asked for, and new objects inherit it', async () => {
    const rig = makeRig();
    const peer = rig.connect();
    const { registry, names } = await listGlobals(rig, peer);
    const compositor = registry.send.bind(names.get('wl_compositor') ?? 0, wlCompositorInterface, 3);
    const surface = compositor.send.createSurface();
    await roundtrip(rig, peer);
    const onServer = peer.server.getResource(surface.id);
    expect(onServer?.version).toBe(3);
    expect(() => surface.send.offset(1, 1)).toThrow(/version 5/);
  });

  it('a global added later is announced, and its removal too', async () => {
    const rig = makeRig();
    const peer = rig.connect();
    const { registry } = await listGlobals(rig, peer);
    const events: string[] = [];
    registry.setListener({ global: (n, i) => events.push(`+${n} ${i}`), globalRemove: (n) => events.push(`-${n}`) });
    const g = rig.display.createGlobal(wlOutputInterface, 2, (id) => id.create({ release: () => {} }));
    await roundtrip(rig, peer);
    g.remove();
    await roundtrip(rig, peer);
    expect(events).toEqual(['+5 wl_output', '-5']);
  });

  it('destroying an object sends delete_id and the id is reused only after it', async () => {
    const { rig, peer, compositor } = await withCompositor();
    const a = compositor.send.createSurface();
    a.send.destroy();
    const b = compositor.send.createSurface();
    expect(b.id).toBe(a.id + 1); // no delete_id yet: a's id is a zombie
    await roundtrip(rig, peer);
    // delete_id(a) came, then the sync callback's; wl_map hands out the last freed first.
    const callbackId = a.id + 2;
    const d = compositor.send.createSurface();
    const c = compositor.send.createSurface();
    expect([d.id, c.id]).toEqual([callbackId, a.id]);
    await roundtrip(rig, peer);
    expect(peer.conn.error).toBeNull();
    expect(peer.server.getResource(c.id)?.interface.name).toBe('wl_surface');
  });

  it('a frame callback fires once and its proxy is then destroyed', async () => {
    const { rig, peer, compositor } = await withCompositor();
    const surface = compositor.send.createSurface();
    const cb = surface.send.frame();
    let server: Resource<'wl_callback'> | undefined;
    await roundtrip(rig, peer);
    const got: number[] = [];
    cb.setListener({ done: (t) => got.push(t) });
    server = peer.server.getResource(cb.id) as Resource<'wl_callback'> | undefined;
    server?.send.done(1234);
    await roundtrip(rig, peer);
    expect(got).toEqual([1234]);
    expect(cb.destroyed).toBe(true);
    expect(server?.destroyed).toBe(true);
  });

  it('nothing leaves before flush, and one flush is one frame', async () => {
    const { rig, peer, compositor } = await withCompositor();
    await roundtrip(rig, peer);
    compositor.send.createSurface();
    compositor.send.createRegion();
    expect(peer.serverSocket.inbox).toHaveLength(0);
    peer.conn.flush();
    expect(peer.serverSocket.inbox).toHaveLength(1);
    const frame = peer.serverSocket.inbox[0];
    const decoded = frame === undefined ? null : decodeFrame(frame);
    expect(decoded?.ok && decoded.frame.body.length).toBe(24);
  });

  it('a server-created object arrives as a new proxy with a server id', async () => {
    const rig = makeRig();
    const dmabuf: ZwpLinuxDmabufV1Requests = {
      destroy: () => {},
      createParams: (_r, id) => {
        id.create({
          destroy: () => {},
          add: () => {},
          create: (params) => {
            const buffer = params.client.createResource(wlBufferInterface, params.version, { destroy: () => {} });
            params.send.created(buffer);
          },
          createImmed: (_p, bufferId) => {
            bufferId.create({ destroy: () => {} });
          },
        });
      },
      getDefaultFeedback: () => {},
      getSurfaceFeedback: () => {},
    };
    rig.display.createGlobal(zwpLinuxDmabufV1Interface, 5, (id) => id.create(dmabuf));
    const peer = rig.connect();
    const { registry, names } = await listGlobals(rig, peer);
    const factory = registry.send.bind(names.get('zwp_linux_dmabuf_v1') ?? 0, zwpLinuxDmabufV1Interface, 5);
    const params = factory.send.createParams();
    const created: number[] = [];
    params.setListener({ created: (buffer) => created.push(buffer.id) });
    params.send.create(64, 64, 0x34325258, 0);
    await roundtrip(rig, peer);
    expect(created).toEqual([SERVER_ID_START]);
    const buffer = peer.conn.objects.lookup(SERVER_ID_START);
    expect(buffer?.interface.name).toBe('wl_buffer');
    expect(buffer?.version).toBe(5);
  });

  it('fds are translated by the hooks on the way in, and handlers get the local number', async () => {
    const calls: Calls = { log: [], fds: [] };
    const rig = makeRig(makeDisplay(calls));
    const peer = rig.connect({ serverFds: { receive: (fd) => fd + 100 } });
    const { registry, names } = await listGlobals(rig, peer);
    const mgr = registry.send.bind(names.get('wp_linux_drm_syncobj_manager_v1') ?? 0, wpLinuxDrmSyncobjManagerV1Interface, 1);
    mgr.send.importTimeline(7);
    mgr.send.importTimeline(3);
    await roundtrip(rig, peer);
    expect(calls.fds).toEqual([107, 103]);
    expect(peer.conn.error).toBeNull();
  });

  it('fds a handler took stay open; fds of a refused frame are closed', async () => {
    const calls: Calls = { log: [], fds: [] };
    const rig = makeRig(makeDisplay(calls));
    const closed: number[] = [];
    const peer = rig.connect({ serverFds: { close: (fd) => closed.push(fd) } });
    const { registry, names } = await listGlobals(rig, peer);
    const mgr = registry.send.bind(names.get('wp_linux_drm_syncobj_manager_v1') ?? 0, wpLinuxDrmSyncobjManagerV1Interface, 1);
    mgr.send.importTimeline(7);
    await roundtrip(rig, peer);
    expect(calls.fds).toEqual([7]);
    // One good import, then a message for an unknown object, with a spare fd behind it.
    sendRaw(peer, [...msgWords(mgr.id, 2, mgr.id + 2), ...msgWords(99, 0)], [8, 9]);
    rig.pump();
    expect(calls.fds).toEqual([7, 8]);
    expect(closed).toEqual([9]);
    expect(peer.conn.error?.message).toBe('invalid object 99');
  });

  it('an fd in an event passes through the send hook when queued and reaches the listener', async () => {
    const rig = makeRig();
    rig.display.createGlobal(zwpLinuxBufferReleaseV1Interface, 1, (id) => {
      const release = id.create({});
      release.send.fencedRelease(9);
    });
    const sent: number[] = [];
    const peer = rig.connect({ serverFds: { send: (fd) => (sent.push(fd), fd + 1000) } });
    const { registry, names } = await listGlobals(rig, peer);
    const release = registry.send.bind(names.get('zwp_linux_buffer_release_v1') ?? 0, zwpLinuxBufferReleaseV1Interface, 1);
    const got: number[] = [];
    release.setListener({ fencedRelease: (fd) => got.push(fd) });
    await roundtrip(rig, peer);
    expect(sent).toEqual([9]);
    expect(got).toEqual([1009]);
    expect(release.destroyed).toBe(true);
  });

  it('a handler that throws ends that client with an implementation error and reports it', async () => {
    const errors: unknown[] = [];
    const rig = makeRig(makeDisplay(undefined, (e) => errors.push(e)));
    const region: WlRegionRequests = {
      destroy: () => {},
      add: () => {
        throw new Error('boom');
      },
      subtract: () => {},
    };
    rig.display.createGlobal(wlCompositorInterface, 6, (id) =>
      id.create({ createSurface: () => {}, createRegion: (_r, rid) => void rid.create(region) }),
    );
    const peer = rig.connect();
    const { registry, names } = await listGlobals(rig, peer);
    const compositor = registry.send.bind(names.get('wl_compositor') ?? 0, wlCompositorInterface, 6);
    const regionProxy = compositor.send.createRegion();
    regionProxy.send.add(0, 0, 1, 1);
    await expect(roundtrip(rig, peer)).rejects.toThrow(/compositor failed handling wl_region#\d+\.add/);
    expect(peer.conn.error?.code).toBe(3);
    expect(errors).toHaveLength(1);
    expect(peer.server.destroyed).toBe(true);
  });

  it('resource.postError reports the interface code and object, then ends the client', async () => {
    const rig = makeRig();
    rig.display.createGlobal(wlCompositorInterface, 6, (id) =>
      id.create({
        createSurface: (_r, sid) =>
          void sid.create({
            destroy: () => {},
            attach: () => {},
            damage: () => {},
            frame: () => {},
            setOpaqueRegion: () => {},
            setInputRegion: () => {},
            commit: () => {},
            setBufferTransform: () => {},
            setBufferScale: (surface, scale) => {
              if (scale < 1) surface.postError(0, `buffer scale ${scale} is not positive`);
            },
            damageBuffer: () => {},
            offset: () => {},
          }),
        createRegion: () => {},
      }),
    );
    const peer = rig.connect();
    const { registry, names } = await listGlobals(rig, peer);
    const compositor = registry.send.bind(names.get('wl_compositor') ?? 0, wlCompositorInterface, 6);
    const surface = compositor.send.createSurface();
    surface.send.setBufferScale(0);
    surface.send.commit(); // after the error: never handled
    await expect(roundtrip(rig, peer)).rejects.toThrow(/buffer scale 0/);
    expect(peer.conn.error).toMatchObject({ kind: 'protocol', objectId: surface.id, interface: 'wl_surface', code: 0 });
    expect(peer.closedOnServer).toBe(false);
    expect(peer.socket.closed).toBe(true);
  });

  it('disconnecting destroys every resource of that client, in id order', async () => {
    const { rig, peer, compositor } = await withCompositor();
    const s = compositor.send.createSurface();
    const r = compositor.send.createRegion();
    await roundtrip(rig, peer);
    const order: number[] = [];
    for (const id of [r.id, s.id]) peer.server.getResource(id)?.onDestroy(() => order.push(id));
    peer.conn.close();
    rig.pump();
    expect(order).toEqual([s.id, r.id]);
    expect(rig.display.clients.size).toBe(0);
  });

  it('destroy listeners may send events or throw during disconnect; the throw is reported', async () => {
    const errors: unknown[] = [];
    const rig = makeRig(makeDisplay(undefined, (e) => errors.push(e)));
    const peer = rig.connect();
    const { registry, names } = await listGlobals(rig, peer);
    const compositor = registry.send.bind(names.get('wl_compositor') ?? 0, wlCompositorInterface, 6);
    const surface = compositor.send.createSurface();
    const output = registry.send.bind(names.get('wl_output') ?? 0, wlOutputInterface, 4);
    await roundtrip(rig, peer);
    const s = peer.server.getResource(surface.id) as Resource<'wl_surface'>;
    const o = peer.server.getResource(output.id) as Resource<'wl_output'>;
    o.onDestroy(() => s.send.leave(o)); // s is already gone by then (lower id)
    s.onDestroy(() => {
      throw new Error('listener bug');
    });
    peer.conn.close();
    expect(() => rig.pump()).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(o.destroyed).toBe(true);
  });
});

/**
 * A compositor for transport tests, through the real plug-in interface:
 * wl_compositor (surfaces that do nothing), zwp_linux_dmabuf_v1 (params
 * record the dma-buf fds of `add`), zwp_linux_explicit_synchronization_v1
 * (records acquire fences, keeps release objects so a test can answer
 * them). What it receives are the compositor process's own fds.
 */
import type { Kernel } from '../../shared/kernel/kernel';
import { Display, type Client, type Resource } from '../../shared/protocol/server';
import { wlCompositorInterface, type WlSurfaceRequests } from '../../shared/protocol/generated/wayland';
import { zwpLinuxDmabufV1Interface } from '../../shared/protocol/generated/linux-dmabuf-v1';
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import type { HostedClient, HostedCompositor } from '../../server/compositor/host';

export interface Received {
  client: Client;
  /** The compositor's fd. */
  fd: number;
}

export interface TestCompositor extends HostedCompositor {
  dmabufs: Received[];
  acquireFences: Received[];
  releases: Resource<'zwp_linux_buffer_release_v1'>[];
  connected: HostedClient[];
  /** At each disconnect hook: were the client's objects gone, had its process exited? */
  disconnected: { client: HostedClient; objectsGone: boolean; processExited: boolean }[];
  internalErrors: unknown[];
}

const noop = (): void => {};
const surfaceImpl: WlSurfaceRequests = {
  destroy: noop,
  attach: noop,
  damage: noop,
  frame: (_r, cb) => void cb.create({}),
  setOpaqueRegion: noop,
  setInputRegion: noop,
  commit: noop,
  setBufferTransform: noop,
  setBufferScale: noop,
  damageBuffer: noop,
  offset: noop,
};

export function createTestCompositor(kernel: Kernel): TestCompositor {
  const internalErrors: unknown[] = [];
  const display = new Display({ onInternalError: (err) => internalErrors.push(err) });
  const tc: TestCompositor = {
    process: kernel.spawn('compositor'),
    display,
    dmabufs: [],
    acquireFences: [],
    releases: [],
    connected: [],
    disconnected: [],
    internalErrors,
    clientConnected(client) {
      tc.connected.push(client);
      return {
        disconnected: () =>
          void tc.disconnected.push({ client, objectsGone: client.wayland.destroyed, processExited: client.process.isExited }),
      };
    },
  };
  display.createGlobal(wlCompositorInterface, 6, (id) => {
    id.create({
      createSurface: (_r, s) => void s.create(surfaceImpl),
      createRegion: (_r, region) => void region.create({ destroy: noop, add: noop, subtract: noop }),
    });
  });
  display.createGlobal(zwpLinuxDmabufV1Interface, 3, (id) => {
    id.create({
      destroy: noop,
      createParams: (_r, params) =>
        void params.create({
          destroy: noop,
          add: (res, fd) => void tc.dmabufs.push({ client: res.client, fd }),
          create: noop,
          createImmed: noop,
        }),
      getDefaultFeedback: noop,
      getSurfaceFeedback: noop,
    });
  });
  display.createGlobal(zwpLinuxExplicitSynchronizationV1Interface, 2, (id) => {
    id.create({
      destroy: noop,
      getSynchronization: (_r, sync) =>
        void sync.create({
          destroy: noop,
          setAcquireFence: (res, fd) => void tc.acquireFences.push({ client: res.client, fd }),
          getRelease: (_res, release) => void tc.releases.push(release.create({})),
        }),
    });
  });
  return tc;
}

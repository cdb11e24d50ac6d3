/**
 * fds through the compositor: client A sends a dma-buf (linux-dmabuf
 * params.add) and a sync_file (explicit-sync set_acquire_fence); the
 * compositor process receives its own fds for them and hands both to
 * client B in fenced_release events. Every process sees its own numbers,
 * and all of them name the same kernel objects.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HandoffClient } from '../../client/core/connection';
import type { PollFd } from '../../client/core/kernel-api';
import { Kernel } from '../../shared/kernel/kernel';
import { hostClock } from '../../server/host-clock';
import type { Process } from '../../shared/kernel/process';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_WRITE,
  DMA_HEAP_IOCTL_ALLOC,
  O_RDWR,
  POLLIN,
  SW_SYNC_IOC_CREATE_FENCE,
  SW_SYNC_IOC_INC,
  SYNC_IOC_FILE_INFO,
} from '../../shared/kernel/uapi';
import type { SyncFenceInfo } from '../../shared/kernel/uapi-structs';
import { wlCompositorInterface } from '../../shared/protocol/generated/wayland';
import { zwpLinuxBufferParamsV1Interface, zwpLinuxDmabufV1Interface } from '../../shared/protocol/generated/linux-dmabuf-v1';
import { zwpLinuxExplicitSynchronizationV1Interface } from '../../shared/protocol/generated/linux-explicit-synchronization-unstable-v1';
import { wlDisplayInterface, wlRegistryInterface, WlDisplayError } from '../../shared/protocol/generated/wayland';
import { encodeFrame, encodeMessage } from '../../shared/protocol/wire';
import { connectClient, findDisplayError, openRaw, startServer, until, type Running } from './helpers';
import { createTestCompositor, type TestCompositor } from './test-compositor';

let r: Running;
let tc: TestCompositor;
const clients: HandoffClient[] = [];

beforeEach(async () => {
  const kernel = new Kernel({ clock: hostClock() });
  tc = createTestCompositor(kernel);
  r = await startServer({ kernel, compositor: tc });
});

afterEach(async () => {
  for (const c of clients.splice(0)) if (c.isConnected) c.close();
  await r.app.close();
});

async function client(comm: string): Promise<HandoffClient> {
  const c = await connectClient(r, comm);
  clients.push(c);
  return c;
}

function processOf(comm: string): Process {
  const s = [...r.app.sessions].find((x) => x.comm === comm);
  if (!s) throw new Error(`no session ${comm}`);
  return s.process;
}

const fileInfo = (n: number) => ({ name: '', status: 0, flags: 0, num_fences: n, pad: 0, sync_fence_info: [] as SyncFenceInfo[] });

describe('fd passing through the compositor', () => {
  it('A, the compositor and B see their own fd numbers for the same dma-buf and sync_file', async () => {
    const a = await client('clientA');
    const b = await client('clientB');
    // B holds two fds already, so its numbering differs from A's.
    await b.kernel.open('/dev/sw_sync');
    await b.kernel.open('/dev/sw_sync');

    // A: a dma-buf, and a sync_file whose fence A's "GPU" writes it with.
    const heap = await a.kernel.open('/dev/dma_heap/system');
    const alloc = { len: 4096n, fd: 0, fd_flags: O_RDWR, heap_flags: 0n };
    expect(await a.kernel.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, alloc)).toBe(0);
    const tl = await a.kernel.open('/dev/sw_sync');
    const cf = { value: 1, name: 'render', fence: -1 };
    expect(await a.kernel.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf)).toBe(0);
    expect(await a.kernel.ioctl(alloc.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, { flags: DMA_BUF_SYNC_WRITE, fd: cf.fence })).toBe(0);
    expect([heap, alloc.fd, tl, cf.fence]).toEqual([0, 1, 2, 3]);

    // A sends both in real requests, then closes its sync_file at once
    // (safe: kernel calls flush the Wayland batch first, as libwayland dups at marshal).
    const surface = a.bind(wlCompositorInterface, 6).send.createSurface();
    const sync = a.bind(zwpLinuxExplicitSynchronizationV1Interface, 2).send.getSynchronization(surface);
    const params = a.bind(zwpLinuxDmabufV1Interface, 3).send.createParams();
    params.send.add(alloc.fd, 0, 0, 256, 0, 0);
    sync.send.setAcquireFence(cf.fence);
    expect(await a.kernel.close(cf.fence)).toBe(0);
    await a.roundtrip();

    const procA = processOf('clientA');
    const comp = tc.process;
    expect(tc.dmabufs).toHaveLength(1);
    expect(tc.acquireFences).toHaveLength(1);
    const cDmabuf = tc.dmabufs[0]?.fd ?? -1;
    const cFence = tc.acquireFences[0]?.fd ?? -1;
    expect([cDmabuf, cFence]).toEqual([0, 1]);
    expect(comp.fget(cDmabuf)).toBe(procA.fget(alloc.fd));
    expect(comp.fget(cFence)?.ops.name).toBe('sync_file');
    expect(procA.fget(cf.fence)).toBeUndefined();

    // B asks for two release objects; the compositor answers them with its fds.
    const bc = b.bind(wlCompositorInterface, 6);
    const bsync = b.bind(zwpLinuxExplicitSynchronizationV1Interface, 2);
    const got: number[] = [];
    for (let i = 0; i < 2; i++) {
      bsync.send.getSynchronization(bc.send.createSurface()).send.getRelease().setListener({ fencedRelease: (fd) => void got.push(fd) });
    }
    await b.roundtrip();
    expect(tc.releases).toHaveLength(2);
    tc.releases[0]?.send.fencedRelease(cFence);
    tc.releases[1]?.send.fencedRelease(cDmabuf);
    tc.display.flushClients();
    await b.roundtrip();
    const [bFence, bDmabuf] = got;
    expect(got).toEqual([2, 3]);
    const procB = processOf('clientB');
    expect(procB.fget(bFence ?? -1)).toBe(comp.fget(cFence));
    expect(procB.fget(bDmabuf ?? -1)).toBe(procA.fget(alloc.fd));

    // B sees A's fence: its timeline is named after A's process, still pending.
    const info = fileInfo(1);
    expect(await b.kernel.ioctl(bFence ?? -1, SYNC_IOC_FILE_INFO, info)).toBe(0);
    expect(info.sync_fence_info[0]).toMatchObject({ obj_name: 'clientA', driver_name: 'sw_sync', status: 0 });
    // ... and the same dma-buf: a reader must wait for A's write fence.
    const ex = { flags: DMA_BUF_SYNC_READ, fd: -1 };
    expect(await b.kernel.ioctl(bDmabuf ?? -1, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, ex)).toBe(0);
    const exInfo = fileInfo(1);
    await b.kernel.ioctl(ex.fd, SYNC_IOC_FILE_INFO, exInfo);
    expect(exInfo.sync_fence_info[0]).toMatchObject({ obj_name: 'clientA', status: 0 });

    // When A's timeline advances, B's poll on its own fd completes.
    const pfd: PollFd = { fd: bFence ?? -1, events: POLLIN, revents: 0 };
    const waiting = b.kernel.poll([pfd], -1);
    expect(await a.kernel.ioctl(tl, SW_SYNC_IOC_INC, 1)).toBe(0);
    expect(await waiting).toBe(1);
    expect(pfd.revents).toBe(POLLIN);

    // The compositor owns what it received and closes it.
    expect(comp.close(cFence)).toBe(0);
    expect(comp.close(cDmabuf)).toBe(0);
    expect(comp.fdCount).toBe(0);
  });

  it('a request whose fd is missing from the frame ends the sender only', async () => {
    const bystander = await client('bystander');
    const raw = await openRaw(r.wsUrl);
    const global = [...bystander.globals.values()].find((g) => g.interface === 'zwp_linux_dmabuf_v1');
    const fdsOut: number[] = [];
    const body = [
      encodeMessage(1, wlDisplayInterface.requests[1], [2], fdsOut),
      encodeMessage(2, wlRegistryInterface.requests[0], [global?.name ?? 0, { interface: 'zwp_linux_dmabuf_v1', version: 3, id: 3 }], fdsOut),
      encodeMessage(3, zwpLinuxDmabufV1Interface.requests[1], [4], fdsOut),
      encodeMessage(4, zwpLinuxBufferParamsV1Interface.requests[1], [0, 0, 0, 256, 0, 0], fdsOut),
    ];
    const bytes = new Uint8Array(body.reduce((n, m) => n + m.length, 0));
    body.reduce((at, m) => (bytes.set(m, at), at + m.length), 0);
    // fdsOut holds the 0 the add request would pass; the frame carries none.
    raw.ws.send(encodeFrame({ channel: 0, fds: [], body: bytes }));
    expect((await raw.closed).code).toBe(1002);
    const err = findDisplayError(raw.frames);
    expect(err?.code).toBe(WlDisplayError.invalidMethod);
    expect(err?.message).toMatch(/fd/);
    expect(tc.dmabufs).toHaveLength(0);
    await until(() => r.app.sessions.size === 1, 'the offender to be dropped');
    await bystander.roundtrip();
  });

  it('the compositor hears of connects and disconnects, after the objects are gone', async () => {
    const a = await client('clientA');
    expect(tc.connected.map((c) => c.comm)).toEqual(['clientA']);
    a.bind(wlCompositorInterface, 6).send.createSurface();
    await a.roundtrip();
    const procA = processOf('clientA');
    a.close();
    await until(() => tc.disconnected.length === 1, 'the disconnect hook');
    expect(tc.disconnected[0]).toMatchObject({ objectsGone: true, processExited: false });
    expect(procA.isExited).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { connect } from '../../client/core/connection';
import { Kernel } from '../../shared/kernel/kernel';
import { ManualClock } from '../../shared/kernel/clock';
import { wlOutputInterface, wlCompositorInterface, WlDisplayError } from '../../shared/protocol/generated/wayland';
import { SW_SYNC_IOC_CREATE_FENCE } from '../../shared/kernel/uapi';
import { createMinimalCompositor } from '../server/minimal-compositor';
import { memoryServer } from './memory-transport';

function setup() {
  const kernel = new Kernel({ clock: new ManualClock() });
  const compositor = createMinimalCompositor(kernel);
  const server = memoryServer(kernel, compositor);
  const open = (comm?: string) => connect('ws://memory/ws', { socket: server.factory, ...(comm ? { comm } : {}) });
  return { kernel, compositor, server, open };
}

describe('client library', () => {
  it('connect resolves with the globals known', async () => {
    const { open } = setup();
    const c = await open();
    expect([...c.globals.values()]).toEqual([{ name: 1, interface: 'wl_output', version: 4 }]);
    expect(c.findGlobal(wlOutputInterface)?.version).toBe(4);
    expect(c.isConnected).toBe(true);
  });

  it('the comm option names the process', async () => {
    const { open, server } = setup();
    await open('painter');
    expect(server.sessions[0]?.process.comm).toBe('painter');
  });

  it('bind gives a typed proxy whose listener hears the bind burst by the next roundtrip', async () => {
    const { open } = setup();
    const c = await open();
    const names: string[] = [];
    const out = c.bind(wlOutputInterface).setListener({ name: (n) => void names.push(n) });
    expect(out.version).toBe(4);
    await c.roundtrip();
    expect(names).toEqual(['HANDOFF-1']);
  });

  it('bind of an interface with no global throws', async () => {
    const { open } = setup();
    const c = await open();
    expect(() => c.bind(wlCompositorInterface)).toThrow(/no wl_compositor global/);
  });

  it('wl_display.error rejects the pending roundtrip and surfaces object, code and message', async () => {
    const { open } = setup();
    const c = await open();
    const errors: unknown[] = [];
    c.on('error', (e) => void errors.push(e));
    const disconnected = new Promise<number>((resolve) => c.on('disconnect', (code) => resolve(code)));
    // Bypass bind's checks: version 9 of a v4 global is the server's to refuse.
    c.registry.send.bind(1, wlOutputInterface, 9);
    await expect(c.roundtrip()).rejects.toThrow(/invalid version/);
    expect(errors).toEqual([
      { kind: 'protocol', objectId: c.registry.id, interface: 'wl_registry', code: WlDisplayError.invalidObject, message: expect.stringMatching(/have 4, wanted 9/) },
    ]);
    expect(c.error?.code).toBe(WlDisplayError.invalidObject);
    expect(await disconnected).toBe(1002);
    expect(c.isConnected).toBe(false);
  });

  it('a closed connection rejects pending and later kernel calls, and the process exits', async () => {
    const { open, server } = setup();
    const c = await open();
    await c.kernel.open('/dev/sw_sync');
    const proc = server.sessions[0]?.process;
    c.close();
    await expect(c.kernel.open('/dev/sw_sync')).rejects.toThrow(/disconnected/);
    await expect(c.roundtrip()).rejects.toThrow();
    expect(proc?.isExited).toBe(true);
  });

  it('kernel calls flush queued Wayland requests first, keeping program order', async () => {
    const { open, server } = setup();
    const c = await open();
    let served = 0;
    const session = server.sessions[0];
    const seen: string[] = [];
    const receive = session?.receive.bind(session);
    if (session && receive) {
      session.receive = (frame) => {
        seen.push(frame[0] === 0 ? 'wayland' : 'kernel');
        served++;
        receive(frame);
      };
    }
    c.bind(wlOutputInterface);
    const tl = await c.kernel.open('/dev/sw_sync');
    expect(seen).toEqual(['wayland', 'kernel']);
    const cf = { value: 1, name: 'x', fence: -1 };
    await c.kernel.ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, cf);
    expect(served).toBe(3);
    expect(cf.fence).toBe(1);
  });

  it('kernel events reach listeners', async () => {
    const { open, server } = setup();
    const c = await open();
    const got: unknown[] = [];
    c.kernel.onEvent((name, data) => void got.push([name, data]));
    server.sessions[0]?.kernelEvent('vgpu.job_runnable', { job: 7, seqno: 3n });
    await c.roundtrip();
    expect(got).toEqual([['vgpu.job_runnable', { job: 7, seqno: 3n }]]);
  });
});

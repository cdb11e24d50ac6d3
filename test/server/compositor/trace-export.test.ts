/**
 * The compositor's trace ring after a short session with clients of every
 * sync kind, exported as Chrome trace-event JSON (GET /trace.json): it
 * parses, has a process per kernel process (compositor and each client), a
 * GPU thread per ring, a track per buffer, and the compositor's syncobj and
 * submit ioctls as syscall events in its own process.
 */
import { describe, expect, it } from 'vitest';
import { Harness } from './harness';
import type { SyncKind } from '../../../client/node/headless-client';
import { chromeTraceJson, type ChromeTrace, type ChromeTraceEvent } from '../../../shared/trace/chrome-trace';
import { ringEvents } from '../../../shared/trace/ring';
import type { TraceEvent } from '../../../shared/trace/events';
import { ofType } from './explicit-helpers';

const MS = 1_000_000n;
const KINDS: readonly SyncKind[] = ['explicit', 'explicit-fd', 'implicit', 'bridged', 'naive'];

async function session(): Promise<{ h: Harness; events: TraceEvent[]; trace: ChromeTrace }> {
  const h = new Harness();
  for (const kind of KINDS) await h.client({ kind, name: `c-${kind}`, renderNs: 3n * MS });
  await h.run(100n * MS);
  const events = ringEvents(h.compositor.trace);
  const trace = JSON.parse(chromeTraceJson(events)) as ChromeTrace;
  return { h, events, trace };
}

function meta(trace: ChromeTrace, name: 'process_name' | 'thread_name'): ChromeTraceEvent[] {
  return trace.traceEvents.filter((e) => e.ph === 'M' && e.name === name);
}

const nameOf = (e: ChromeTraceEvent): string => String(e.args?.['name']);

/** pid of the process track with this exact name. */
function processPid(trace: ChromeTrace, name: string): number {
  const p = meta(trace, 'process_name').find((e) => nameOf(e) === name);
  if (!p) throw new Error(`no process "${name}" in ${meta(trace, 'process_name').map(nameOf).join(', ')}`);
  return p.pid;
}

function threadNames(trace: ChromeTrace, pid: number): string[] {
  return meta(trace, 'thread_name')
    .filter((e) => e.pid === pid)
    .map(nameOf);
}

describe('Chrome trace export of the compositor ring', () => {
  it('parses as JSON with well-formed events', async () => {
    const { trace } = await session();
    expect(trace.displayTimeUnit).toBe('ms');
    expect(trace.traceEvents.length).toBeGreaterThan(1000);
    for (const e of trace.traceEvents) {
      expect(Number.isFinite(e.ts) && e.ts >= 0).toBe(true);
      expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
      if (e.ph === 'X') expect(e.dur).toBeGreaterThanOrEqual(0);
    }
  });

  it('has a process for the compositor and for each client, with kernel and wayland threads', async () => {
    const { h, trace } = await session();
    const comp = processPid(trace, `compositor (pid ${h.compositor.proc.pid})`);
    expect(comp).toBe(h.compositor.proc.pid);
    expect(threadNames(trace, comp)).toContain('kernel');
    for (const info of h.compositor.clients.values()) {
      const pid = processPid(trace, `${info.name} (pid ${info.proc.pid})`);
      expect(threadNames(trace, pid).sort()).toEqual(['kernel', 'wayland']);
    }
    expect(h.compositor.clients.size).toBe(KINDS.length);
  });

  it('has a GPU thread per ring, the compositor ring with its composition jobs as spans', async () => {
    const { trace } = await session();
    const gpu = processPid(trace, 'GPU');
    const rings = threadNames(trace, gpu);
    expect(rings).toContain('ring compositor');
    for (const kind of KINDS) expect(rings).toContain(`ring render-c-${kind}`);
    const compositorTid = meta(trace, 'thread_name').find((e) => e.pid === gpu && nameOf(e) === 'ring compositor')!.tid;
    const compose = trace.traceEvents.filter((e) => e.ph === 'X' && e.pid === gpu && e.tid === compositorTid);
    expect(compose.length).toBeGreaterThan(5);
    for (const e of compose) expect(e.name).toMatch(/^compose \d+$/);
  });

  it('has a track per client buffer, with ownership states as spans', async () => {
    const { events, trace } = await session();
    const buffers = processPid(trace, 'buffers');
    const tracks = threadNames(trace, buffers);
    const allocated = ofType(events, 'dmabuf.alloc').map((e) => e.buf);
    expect(allocated).toHaveLength(3 * KINDS.length);
    for (const buf of allocated) expect(tracks.some((t) => t.startsWith(`dmabuf ${buf} `) || t === `dmabuf ${buf}`)).toBe(true);
    const states = new Set(trace.traceEvents.filter((e) => e.ph === 'X' && e.pid === buffers && e.cat === 'buffer').map((e) => e.name));
    for (const s of ['queued', 'latched', 'on-screen', 'released']) expect(states).toContain(s);
  });

  it("the syncobj path's ioctls are syscalls of the compositor's own process, in the ring and in the export", async () => {
    const { h, events, trace } = await session();
    const pid = h.compositor.proc.pid;
    const names = ['DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD', 'DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE', 'DRM_IOCTL_VGPU_SUBMIT'];
    const calls = ofType(events, 'syscall').filter((e) => e.pid === pid && e.call === 'ioctl');
    for (const what of names) expect(calls.filter((e) => e.what === what && e.result === 0).length).toBeGreaterThan(3);
    const kernelTid = meta(trace, 'thread_name').find((e) => e.pid === pid && nameOf(e) === 'kernel')!.tid;
    const instants = new Set(trace.traceEvents.filter((e) => e.ph === 'i' && e.pid === pid && e.tid === kernelTid).map((e) => e.name));
    for (const what of names) expect(instants).toContain(`ioctl ${what}`);
  });
});

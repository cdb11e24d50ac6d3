import { describe, expect, it } from 'vitest';
import { chromeTraceJson, toChromeTrace } from '../../shared/trace/chrome-trace';
import type { ChromeTraceEvent } from '../../shared/trace/chrome-trace';
import type { TraceEvent } from '../../shared/trace/events';
import { MS, T0, oneFrame } from './fixtures';

interface Parsed {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: string;
}

function parse(events: TraceEvent[]): Parsed {
  return JSON.parse(chromeTraceJson(events)) as Parsed;
}

const meta = (p: Parsed, name: string) => p.traceEvents.filter((e) => e.ph === 'M' && e.name === name);
const nameOf = (e: ChromeTraceEvent) => e.args?.['name'];

function processPid(p: Parsed, name: string): number {
  const m = meta(p, 'process_name').find((e) => nameOf(e) === name);
  if (!m) throw new Error(`no process ${name}`);
  return m.pid;
}

function threadOf(p: Parsed, pid: number, name: string): number {
  const m = meta(p, 'thread_name').find((e) => e.pid === pid && nameOf(e) === name);
  if (!m) throw new Error(`no thread ${name} in pid ${pid}`);
  return m.tid;
}

describe('chrome trace export', () => {
  it('is valid JSON in the object format with ms display unit', () => {
    const p = parse(oneFrame());
    expect(Array.isArray(p.traceEvents)).toBe(true);
    expect(p.displayTimeUnit).toBe('ms');
  });

  it('names every kernel process by its comm and pid', () => {
    const p = parse(oneFrame());
    expect(processPid(p, 'compositor (pid 1)')).toBe(1);
    expect(processPid(p, 'client-a (pid 2)')).toBe(2);
  });

  it('puts the GPU, buffers, fences and outputs in processes above every real pid', () => {
    const p = parse(oneFrame());
    for (const name of ['GPU', 'buffers', 'fences', 'outputs']) expect(processPid(p, name)).toBeGreaterThan(2);
  });

  it('has one thread per GPU ring', () => {
    const p = parse(oneFrame());
    const gpu = processPid(p, 'GPU');
    const rings = meta(p, 'thread_name').filter((e) => e.pid === gpu).map(nameOf);
    expect(rings.sort()).toEqual(['ring compose', 'ring gfx']);
  });

  it('has one thread per buffer, shared by compositor and kernel events', () => {
    const p = parse(oneFrame());
    const buffers = processPid(p, 'buffers');
    const threads = meta(p, 'thread_name').filter((e) => e.pid === buffers);
    expect(threads.map(nameOf)).toEqual(['dmabuf 7 (client 1 wl_buffer@5)']);
    const tid = threads[0]!.tid;
    const names = p.traceEvents.filter((e) => e.pid === buffers && e.tid === tid && e.ph !== 'M').map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['dmabuf.alloc', 'hazard write-during-read', 'latch commit 1', 'latched']));
  });

  it('tids are unique across the whole trace', () => {
    const p = parse(oneFrame());
    const tids = meta(p, 'thread_name').map((e) => e.tid);
    expect(new Set(tids).size).toBe(tids.length);
  });

  it('a job is a complete event on its ring from start to done', () => {
    const p = parse(oneFrame());
    const gfx = threadOf(p, processPid(p, 'GPU'), 'ring gfx');
    const job = p.traceEvents.find((e) => e.ph === 'X' && e.tid === gfx);
    expect(job).toMatchObject({ name: 'draw a', ts: 3000, dur: 2000, cat: 'job' });
    expect(job?.args).toMatchObject({ job: 30, fence: 20, pid: 2 });
  });

  it('timestamps are µs from the earliest event', () => {
    const p = parse(oneFrame());
    const missed = p.traceEvents.find((e) => e.name === 'missed 2');
    expect(missed?.ts).toBe(32000);
    expect(Math.min(...p.traceEvents.filter((e) => e.ph !== 'M').map((e) => e.ts))).toBe(0);
  });

  it('buffer states are consecutive spans, the last one open to the end of the trace', () => {
    const p = parse(oneFrame());
    const buffers = processPid(p, 'buffers');
    const spans = p.traceEvents
      .filter((e) => e.pid === buffers && e.ph === 'X')
      .map((e) => [e.name, e.ts, e.dur] as const)
      .sort((a, b) => a[1] - b[1]);
    expect(spans).toEqual([
      ['client-owned', 2000, 1000],
      ['queued', 3000, 0],
      ['waiting-on-fence', 3000, 2000],
      ['latched', 5000, 11000],
      ['on-screen', 16000, 16000],
    ]);
  });

  it('fence signals are instants on their timeline with bigint args as strings', () => {
    const p = parse(oneFrame());
    const tid = threadOf(p, processPid(p, 'fences'), 'vgpu:gfx (ctx 3)');
    const sig = p.traceEvents.find((e) => e.tid === tid && e.ph === 'i');
    expect(sig).toMatchObject({ name: 'signal 1', s: 't', ts: 5000, args: { fence: 20, error: 0 } });
  });

  it('syscalls and protocol messages land on the client process', () => {
    const p = parse(oneFrame());
    const onClient = p.traceEvents.filter((e) => e.pid === 2 && e.ph === 'i').map((e) => e.name);
    expect(onClient).toEqual(expect.arrayContaining(['open /dev/dri/card0', '→ wl_surface.commit', 'presented', 'connect']));
  });

  it('a flow joins the acquire fence signal to the latch it unblocked', () => {
    const p = parse(oneFrame());
    const s = p.traceEvents.filter((e) => e.ph === 's');
    const f = p.traceEvents.filter((e) => e.ph === 'f');
    expect(s).toHaveLength(1);
    expect(f).toHaveLength(1);
    expect(s[0]!.id).toBe(f[0]!.id);
    expect(s[0]!.pid).toBe(processPid(p, 'fences'));
    expect(f[0]!.pid).toBe(processPid(p, 'buffers'));
  });

  it('a job still running at the end spans to the last event and says so', () => {
    const evs: TraceEvent[] = [
      { type: 'job.start', t: T0, job: 1, pid: 1, ring: 'gfx', label: 'long', fence: 2 },
      { type: 'output.vblank', t: T0 + 4n * MS, output: 'o', seq: 1, timestamp: T0 + 4n * MS, flip: false },
    ];
    const job = toChromeTrace(evs).traceEvents.find((e) => e.ph === 'X');
    expect(job).toMatchObject({ name: 'long', ts: 0, dur: 4000, args: { unfinished: true } });
  });

  it('a client without a kernel process gets a process of its own', () => {
    const evs: TraceEvent[] = [
      { type: 'client.connect', t: T0, client: 9, name: 'naive' },
      { type: 'protocol', t: T0, client: 9, dir: 'event', iface: 'wl_buffer', object: 4, message: 'release', args: '' },
    ];
    const p = parse(evs);
    const pid = processPid(p, 'naive (client 9)');
    expect(p.traceEvents.filter((e) => e.pid === pid && e.ph === 'i').map((e) => e.name)).toEqual(['connect', '← wl_buffer.release']);
  });

  it('an empty trace is still a valid trace', () => {
    expect(parse([])).toEqual({ traceEvents: [], displayTimeUnit: 'ms' });
  });
});

import { describe, expect, it } from 'vitest';
import { clientFrameFigures, createFrameStats, frameFigures, recordFrameEvent, type FrameStats } from '../../shared/trace/frame-stats';
import type { TraceEvent } from '../../shared/trace/events';

const MS = 1_000_000n;
const PERIOD = 16n * MS;

function feed(stats: FrameStats, events: TraceEvent[]): void {
  for (const ev of events) recordFrameEvent(stats, ev);
}

const commit = (t: bigint, client = 1): TraceEvent => ({
  type: 'protocol',
  t,
  client,
  dir: 'request',
  iface: 'wl_surface',
  object: 3,
  message: 'commit',
  args: '',
});

const presented = (t: bigint, latency: bigint, client = 1): TraceEvent => ({
  type: 'surface.presentation',
  t,
  client,
  surface: 3,
  result: 'presented',
  commit: 1,
  output: 'virtual-1',
  seq: 1,
  latency,
  refresh: PERIOD,
});

describe('frame stats from trace events', () => {
  it('counts commits, presented, discarded and missed per client', () => {
    const s = createFrameStats();
    feed(s, [
      { type: 'client.connect', t: 0n, client: 1, pid: 7, name: 'a' },
      { type: 'client.connect', t: 0n, client: 2, pid: 8, name: 'b' },
      commit(1n),
      commit(2n),
      commit(3n, 2),
      { type: 'protocol', t: 3n, client: 1, dir: 'event', iface: 'wl_callback', object: 9, message: 'done', args: '' },
      presented(20n * MS, 10n * MS),
      { type: 'surface.presentation', t: 20n * MS, client: 1, surface: 3, result: 'discarded' },
      { type: 'output.missed', t: 36n * MS, output: 'virtual-1', seq: 2, reason: 'late', surfaces: [{ client: 2, surface: 3 }, { client: 2, surface: 4 }] },
      { type: 'output.missed', t: 52n * MS, output: 'virtual-1', seq: 3, reason: 'compositor bug' },
    ]);
    expect(clientFrameFigures(s, 1)).toMatchObject({ name: 'a', pid: 7, connected: true, committed: 2, presented: 1, discarded: 1, missed: 0 });
    expect(clientFrameFigures(s, 2)).toMatchObject({ name: 'b', committed: 1, presented: 0, discarded: 0, missed: 2 });
    expect(frameFigures(s).map((f) => f.client)).toEqual([1, 2]);
  });

  it('commit → present latency percentiles by nearest rank, in ms and in vblanks of the refresh', () => {
    const s = createFrameStats();
    // 10 frames: 1..10 ms, then one of 40 ms (3 vblanks of 16 ms).
    for (let i = 1n; i <= 10n; i++) feed(s, [presented(i * PERIOD, i * MS)]);
    feed(s, [presented(11n * PERIOD, 40n * MS)]);
    const f = clientFrameFigures(s, 1)!;
    expect(f.latencyMs).toEqual({ p50: 6, p99: 40 });
    expect(f.latencyVblanks).toEqual({ p50: 1, p99: 3 });
  });

  it('fps counts the presented frames of the last window of trace time', () => {
    const s = createFrameStats({ fpsWindowNs: 1_000_000_000n });
    // 60 frames a second for two seconds, then nothing.
    for (let i = 1n; i <= 120n; i++) feed(s, [presented((i * 1_000_000_000n) / 60n, 5n * MS)]);
    expect(clientFrameFigures(s, 1)!.fps).toBe(60);
    expect(clientFrameFigures(s, 1, 2_500_000_000n)!.fps).toBe(30);
    expect(clientFrameFigures(s, 1, 3_000_000_000n)!.fps).toBe(0);
    expect(clientFrameFigures(s, 1)!.presented).toBe(120);
  });

  it('keeps only the last `samples` latencies per client (bounded memory)', () => {
    const s = createFrameStats({ samples: 4 });
    for (let i = 1n; i <= 14n; i++) feed(s, [presented(i * PERIOD, i * MS)]);
    const f = clientFrameFigures(s, 1)!;
    // Samples 11..14 ms are left: the median (nearest rank) is 12.
    expect(f.latencyMs).toEqual({ p50: 12, p99: 14 });
    expect(s.clients.get(1)!.latencyNs).toHaveLength(4);
    expect(f.presented).toBe(14);
  });

  it('forgets the oldest disconnected clients past keepGone; connected ones stay', () => {
    const s = createFrameStats({ keepGone: 2 });
    for (let c = 1; c <= 4; c++) feed(s, [{ type: 'client.connect', t: 0n, client: c, name: `c${c}` }]);
    for (let c = 1; c <= 3; c++) feed(s, [{ type: 'client.disconnect', t: 1n, client: c }]);
    expect(frameFigures(s).map((f) => [f.client, f.connected])).toEqual([
      [2, false],
      [3, false],
      [4, true],
    ]);
  });

  it('events of a client whose connect it never saw still count (a late subscriber)', () => {
    const s = createFrameStats();
    feed(s, [commit(1n, 5), presented(PERIOD, MS, 5)]);
    expect(clientFrameFigures(s, 5)).toMatchObject({ name: '', committed: 1, presented: 1 });
    expect(clientFrameFigures(s, 6)).toBeUndefined();
  });
});

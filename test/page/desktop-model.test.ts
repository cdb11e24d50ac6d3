import { describe, expect, it } from 'vitest';
import { applyTraceEvent, createDesktopModel, isWaitingOnFence } from '../../client/page/desktop-model';
import type { TraceEvent } from '../../shared/trace/events';
import { ringValues } from '../../client/page/frame-timing';

const MS = 1_000_000n;

function feed(events: TraceEvent[]) {
  const m = createDesktopModel();
  for (const ev of events) applyTraceEvent(m, ev);
  return m;
}

const connect: TraceEvent = { type: 'client.connect', t: 0n, client: 1, pid: 7, name: 'clock' };
const title: TraceEvent = {
  type: 'protocol',
  t: 1n,
  client: 1,
  dir: 'request',
  iface: 'xdg_toplevel',
  object: 9,
  message: 'set_title',
  args: '"clock (explicit)"',
};

describe('desktop model from the trace', () => {
  it('names a client and takes its title from xdg_toplevel.set_title', () => {
    const m = feed([connect, title]);
    expect(m.clients.get(1)).toMatchObject({ name: 'clock', pid: 7, title: 'clock (explicit)' });
  });

  it('maps a composition buffer id to the window that attached it', () => {
    const m = feed([connect, { type: 'buffer.state', t: 2n, client: 1, surface: 3, buffer: 12, buf: 40, state: 'queued' }]);
    expect(m.byBuf.get(40)?.key).toBe('1/3');
  });

  it('marks a window waiting on a fence until that buffer moves on', () => {
    const m = feed([connect, { type: 'buffer.state', t: 2n, client: 1, surface: 3, buffer: 12, buf: 40, state: 'waiting-on-fence' }]);
    const w = m.windows.get('1/3')!;
    expect(isWaitingOnFence(w)).toBe(true);
    applyTraceEvent(m, { type: 'buffer.state', t: 3n, client: 1, surface: 3, buffer: 12, buf: 40, state: 'queued' });
    expect(isWaitingOnFence(w)).toBe(false);
  });

  it('commit→present latency comes from the latch (commit time) and the presentation', () => {
    const m = feed([
      connect,
      { type: 'output.vblank', t: 0n, output: 'o', seq: 1, timestamp: 0n, flip: false },
      { type: 'output.vblank', t: 20n * MS, output: 'o', seq: 2, timestamp: 20n * MS, flip: false },
      { type: 'surface.latch', t: 30n * MS, client: 1, surface: 3, buffer: 12, commit: 5, latency: 4n * MS },
      { type: 'surface.presentation', t: 40n * MS, client: 1, surface: 3, result: 'presented', commit: 5 },
    ]);
    expect(m.periodMs).toBe(20);
    const w = m.windows.get('1/3')!;
    expect(ringValues(w.timing.latencyMs)).toEqual([14]);
    expect(ringValues(w.timing.latencyVblanks)).toEqual([1]);
    expect(w.commitTimes.size).toBe(0);
  });

  it('a flip after a composition job records latch→flip as repaint time', () => {
    const m = feed([
      { type: 'job.queued', t: 10n * MS, job: 1, pid: 1, ring: 'compositor', label: 'compose 1', fence: 1 },
      { type: 'job.done', t: 12n * MS, job: 1, pid: 1, ring: 'compositor', label: 'compose 1', fence: 1 },
      { type: 'output.vblank', t: 16n * MS, output: 'o', seq: 1, timestamp: 16n * MS, flip: true },
    ]);
    expect(ringValues(m.compositor.repaintMs)).toEqual([6]);
    expect(m.compositionsDone).toBe(1);
    expect(m.compositor.flips).toBe(1);
  });

  it('a disconnect removes the client, its windows and their buffer ids', () => {
    const m = feed([connect, { type: 'buffer.state', t: 2n, client: 1, surface: 3, buffer: 12, buf: 40, state: 'queued' }]);
    applyTraceEvent(m, { type: 'client.disconnect', t: 3n, client: 1 });
    expect(m.clients.size).toBe(0);
    expect(m.windows.size).toBe(0);
    expect(m.byBuf.size).toBe(0);
  });
});

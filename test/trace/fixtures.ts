/**
 * Hand-built trace events for the trace tests: a tiny scene with one client
 * process, one GPU ring, one buffer and one output.
 */
import type { TraceEvent } from '../../shared/trace/events';

export const MS = 1_000_000n;
export const T0 = 1_000_000_000n;

/** One frame: the client renders into dma-buf 7, commits, the compositor latches and flips. */
export function oneFrame(): TraceEvent[] {
  return [
    { type: 'process.spawn', t: T0, pid: 1, comm: 'compositor' },
    { type: 'process.spawn', t: T0, pid: 2, comm: 'client-a' },
    { type: 'client.connect', t: T0 + 1n * MS, client: 1, pid: 2, name: 'explicit' },
    { type: 'syscall', t: T0 + 1n * MS, pid: 2, call: 'open', fd: 3, what: '/dev/dri/card0', result: 3 },
    { type: 'dmabuf.alloc', t: T0 + 2n * MS, pid: 2, buf: 7, size: 4096n, pages: [1, 2] },
    { type: 'buffer.state', t: T0 + 2n * MS, client: 1, buffer: 5, buf: 7, state: 'client-owned' },
    { type: 'fence.init', t: T0 + 2n * MS, fence: 20, context: 3n, seqno: 1n, driver: 'vgpu', timeline: 'gfx' },
    { type: 'job.queued', t: T0 + 2n * MS, job: 30, pid: 2, ring: 'gfx', label: 'draw a', fence: 20 },
    { type: 'job.runnable', t: T0 + 2n * MS, job: 30, pid: 2, ring: 'gfx', label: 'draw a', fence: 20 },
    { type: 'job.start', t: T0 + 3n * MS, job: 30, pid: 2, ring: 'gfx', label: 'draw a', fence: 20 },
    {
      type: 'protocol',
      t: T0 + 3n * MS,
      client: 1,
      dir: 'request',
      iface: 'wl_surface',
      object: 3,
      message: 'commit',
      args: '',
    },
    { type: 'buffer.state', t: T0 + 3n * MS, client: 1, surface: 3, buffer: 5, buf: 7, state: 'queued' },
    { type: 'buffer.state', t: T0 + 3n * MS, client: 1, surface: 3, buffer: 5, buf: 7, state: 'waiting-on-fence' },
    { type: 'job.done', t: T0 + 5n * MS, job: 30, pid: 2, ring: 'gfx', label: 'draw a', fence: 20 },
    { type: 'fence.signaled', t: T0 + 5n * MS, fence: 20, error: 0 },
    { type: 'buffer.state', t: T0 + 5n * MS, client: 1, surface: 3, buffer: 5, buf: 7, state: 'latched' },
    {
      type: 'surface.latch',
      t: T0 + 5n * MS,
      client: 1,
      surface: 3,
      buffer: 5,
      buf: 7,
      commit: 1,
      latency: 2n * MS,
      fence: 20,
    },
    { type: 'job.queued', t: T0 + 5n * MS, job: 31, pid: 1, ring: 'compose', label: 'compose', fence: 21 },
    { type: 'job.start', t: T0 + 6n * MS, job: 31, pid: 1, ring: 'compose', label: 'compose', fence: 21 },
    { type: 'job.done', t: T0 + 7n * MS, job: 31, pid: 1, ring: 'compose', label: 'compose', fence: 21 },
    { type: 'output.vblank', t: T0 + 16n * MS, output: 'virtual-0', seq: 1, timestamp: T0 + 16n * MS, flip: true },
    { type: 'buffer.state', t: T0 + 16n * MS, client: 1, surface: 3, buffer: 5, buf: 7, state: 'on-screen' },
    { type: 'surface.presentation', t: T0 + 16n * MS, client: 1, surface: 3, result: 'presented', seq: 1 },
    {
      type: 'hazard',
      t: T0 + 17n * MS,
      kind: 'write-during-read',
      job: 32,
      label: 'draw a',
      buf: 7,
      other: 'compose',
      explanation: 'client drew into the buffer on screen',
    },
    { type: 'output.missed', t: T0 + 32n * MS, output: 'virtual-0', seq: 2, reason: 'composition late' },
  ];
}

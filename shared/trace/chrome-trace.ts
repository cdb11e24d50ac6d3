/**
 * Export trace events as Chrome trace-event JSON (the "JSON Object Format",
 * { traceEvents, displayTimeUnit }), which Perfetto and chrome://tracing open.
 *
 * Layout: each kernel process (and each client without one) is a process
 * with a "kernel" thread (syscalls, syncobj updates) and a "wayland" thread
 * (protocol messages, connect, presentation feedback). Synthetic processes,
 * numbered above the highest real pid, hold the rest: "GPU" with one thread
 * per ring (jobs as complete 'X' events from job.start to job.done, and their
 * dependency wait as an async span), "fences" with one thread per fence
 * timeline (signals as instants), "buffers" with one thread per buffer
 * (ownership states as consecutive spans, dma-buf/resv events, hazards and
 * latches as instants), "outputs" with one thread per output (vblanks,
 * missed frames) and "kernel" for anything else.
 *
 * A flow arrow ('s' → 'f') joins the signal of a latch's acquire fence to
 * that latch. Timestamps are µs (fractional, so ns survive) from the earliest
 * event; bigint fields in args are decimal strings.
 */
import type { TraceEvent } from './events';
import { category } from './events';
import { jsonSafe } from './encode';
import type { JsonObject } from './encode';

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M' | 'b' | 'e' | 's' | 'f';
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  /** Instant scope: thread. */
  s?: 't';
  id?: number;
  args?: JsonObject;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ms';
}

interface Track {
  pid: number;
  tid: number;
  name: string;
  sort: number;
}

interface Proc {
  pid: number;
  name: string;
  sort: number;
  threads: Map<string, Track>;
}

interface JobState {
  queued?: bigint;
  runnable?: bigint;
  start?: bigint;
  ring: string;
}

interface BufferSpan {
  track: Track;
  state: string;
  since: bigint;
  args: JsonObject;
}

const OMIT = ['type', 't'] as const;

function maxRealPid(events: readonly TraceEvent[]): number {
  let max = 0;
  for (const ev of events) {
    if ('pid' in ev && typeof ev.pid === 'number' && ev.pid > max) max = ev.pid;
  }
  return max;
}

/** Build the Chrome trace object for `events` (any order; usually ring order). */
export function toChromeTrace(events: readonly TraceEvent[]): ChromeTrace {
  const out: ChromeTraceEvent[] = [];
  if (events.length === 0) return { traceEvents: out, displayTimeUnit: 'ms' };

  let t0 = events[0]!.t;
  let tEnd = t0;
  // Fences whose signal a latch waited on: their signals start a flow.
  const flowFences = new Set<number>();
  // Known up front so a client's track does not depend on event order.
  const clientPid = new Map<number, number>();
  const procNames = new Map<number, string>();
  const clientNames = new Map<number, string>();
  for (const ev of events) {
    if (ev.t < t0) t0 = ev.t;
    if (ev.t > tEnd) tEnd = ev.t;
    if (ev.type === 'surface.latch' && ev.fence !== undefined) flowFences.add(ev.fence);
    else if (ev.type === 'process.spawn') procNames.set(ev.pid, `${ev.comm} (pid ${ev.pid})`);
    else if (ev.type === 'client.connect') {
      if (ev.pid !== undefined) clientPid.set(ev.client, ev.pid);
      if (ev.name !== undefined) clientNames.set(ev.client, ev.name);
    }
  }
  const us = (t: bigint): number => Number(t - t0) / 1000;

  // Synthetic processes sit above every real pid so they never collide.
  const base = maxRealPid(events) + 1;
  const SYN = { outputs: base, gpu: base + 1, fences: base + 2, buffers: base + 3, kernel: base + 4 };
  let nextSyntheticPid = base + 5;
  let nextTid = 1;
  const procs = new Map<number, Proc>();

  function proc(pid: number, name: string, sort: number): Proc {
    let p = procs.get(pid);
    if (!p) {
      p = { pid, name, sort, threads: new Map() };
      procs.set(pid, p);
    }
    return p;
  }
  function thread(p: Proc, key: string, name: string, sort = p.threads.size): Track {
    let tr = p.threads.get(key);
    if (!tr) {
      tr = { pid: p.pid, tid: nextTid++, name, sort };
      p.threads.set(key, tr);
    }
    return tr;
  }
  const syn = (pid: number, name: string, sort: number, key: string): Track => thread(proc(pid, name, sort), key, key);
  const processTrack = (pid: number, which: 'kernel' | 'wayland'): Track =>
    thread(proc(pid, `pid ${pid}`, 100 + pid), which, which, which === 'kernel' ? 0 : 1);
  function clientTrack(client: number): Track {
    let pid = clientPid.get(client);
    if (pid === undefined) {
      pid = nextSyntheticPid++;
      clientPid.set(client, pid);
      const name = clientNames.get(client);
      procNames.set(pid, name !== undefined ? `${name} (client ${client})` : `client ${client}`);
    }
    return processTrack(pid, 'wayland');
  }
  const ringTrack = (ring: string): Track => syn(SYN.gpu, 'GPU', 1, `ring ${ring}`);
  const outputTrack = (output: string): Track => syn(SYN.outputs, 'outputs', 0, `output ${output}`);
  const kernelTrack = (): Track => syn(SYN.kernel, 'kernel', 4, 'kernel');

  const fenceTimeline = new Map<number, string>();
  const fenceSeqno = new Map<number, bigint>();
  const fenceTrack = (fence: number): Track =>
    syn(SYN.fences, 'fences', 2, fenceTimeline.get(fence) ?? 'unknown timeline');

  // A buffer's track is keyed by its kernel dma-buf id when known, so the
  // compositor's ownership states and the kernel's resv/hazard events meet.
  function bufferTrack(buf: number | undefined, client: number, buffer: number): Track {
    const key = buf !== undefined ? `dmabuf ${buf}` : `client ${client} wl_buffer@${buffer}`;
    const p = proc(SYN.buffers, 'buffers', 3);
    const existing = p.threads.get(key);
    const tr = existing ?? thread(p, key, key);
    if (buf !== undefined && client >= 0 && tr.name === key) tr.name = `${key} (client ${client} wl_buffer@${buffer})`;
    return tr;
  }
  const kernelBufferTrack = (buf: number): Track => bufferTrack(buf, -1, -1);

  function instant(tr: Track, name: string, ev: TraceEvent): void {
    out.push({ name, ph: 'i', s: 't', ts: us(ev.t), pid: tr.pid, tid: tr.tid, cat: category(ev), args: jsonSafe(ev, false, OMIT) });
  }
  function span(tr: Track, name: string, cat: string, from: bigint, to: bigint, args: JsonObject): void {
    out.push({ name, ph: 'X', ts: us(from), dur: Number(to - from) / 1000, pid: tr.pid, tid: tr.tid, cat, args });
  }

  const jobs = new Map<number, JobState>();
  const jobArgs = new Map<number, JsonObject>();
  const bufferSpans = new Map<Track, BufferSpan>();
  let nextFlowId = 1;
  const flowIds = new Map<number, number>();

  /** queued → runnable (or start): the time a job waited on its fences. */
  function emitWait(job: number, j: JobState, label: string, end: bigint): void {
    const until = j.runnable ?? j.start ?? end;
    if (j.queued === undefined) return;
    const tr = ringTrack(j.ring);
    out.push({ name: 'dependency wait', ph: 'b', id: job, ts: us(j.queued), pid: tr.pid, tid: tr.tid, cat: 'job-wait', args: { label } });
    out.push({ name: 'dependency wait', ph: 'e', id: job, ts: us(until), pid: tr.pid, tid: tr.tid, cat: 'job-wait' });
  }

  for (const ev of events) {
    const unknownEv: TraceEvent = ev;
    switch (ev.type) {
      case 'process.spawn':
        instant(processTrack(ev.pid, 'kernel'), `spawn ${ev.comm}`, ev);
        break;
      case 'process.exit':
        instant(processTrack(ev.pid, 'kernel'), 'exit', ev);
        break;
      case 'syscall':
        instant(processTrack(ev.pid, 'kernel'), ev.what ? `${ev.call} ${ev.what}` : ev.call, ev);
        break;
      case 'syncobj.replace':
      case 'syncobj.point':
        instant(processTrack(ev.pid, 'kernel'), ev.type, ev);
        break;
      case 'fence.init':
        // Keyed by context: timeline names are not unique (every sw_sync timeline may be "tl").
        fenceTimeline.set(ev.fence, `${ev.driver}:${ev.timeline} (ctx ${ev.context})`);
        fenceSeqno.set(ev.fence, ev.seqno);
        break;
      case 'fence.signaled': {
        const tr = fenceTrack(ev.fence);
        const seqno = fenceSeqno.get(ev.fence);
        instant(tr, seqno !== undefined ? `signal ${seqno}` : `signal fence ${ev.fence}`, ev);
        if (flowFences.has(ev.fence) && !flowIds.has(ev.fence)) {
          const id = nextFlowId++;
          flowIds.set(ev.fence, id);
          // Right after its instant, so it binds to that slice.
          out.push({ name: 'unblocks', ph: 's', id, ts: us(ev.t), pid: tr.pid, tid: tr.tid, cat: 'flow' });
        }
        break;
      }
      case 'resv.add':
        instant(kernelBufferTrack(ev.buf), `resv.add ${ev.usage}`, ev);
        break;
      case 'dmabuf.alloc':
      case 'dmabuf.release':
      case 'dmabuf.export':
      case 'dmabuf.import':
        instant(kernelBufferTrack(ev.buf), ev.type, ev);
        break;
      case 'pages.alloc':
      case 'pages.free':
        instant(ev.buf !== undefined ? kernelBufferTrack(ev.buf) : kernelTrack(), ev.type, ev);
        break;
      case 'job.queued':
      case 'job.runnable':
      case 'job.start': {
        const j = jobs.get(ev.job) ?? { ring: ev.ring };
        if (ev.type === 'job.queued') j.queued = ev.t;
        else if (ev.type === 'job.runnable') j.runnable = ev.t;
        else j.start = ev.t;
        jobs.set(ev.job, j);
        jobArgs.set(ev.job, jsonSafe(ev, false, OMIT));
        break;
      }
      case 'job.done': {
        const j = jobs.get(ev.job);
        const tr = ringTrack(ev.ring);
        const args = jsonSafe(ev, false, OMIT);
        if (j?.start !== undefined) span(tr, ev.label, 'job', j.start, ev.t, args);
        else instant(tr, `${ev.label} done`, ev);
        if (j) emitWait(ev.job, j, ev.label, ev.t);
        jobs.delete(ev.job);
        jobArgs.delete(ev.job);
        break;
      }
      case 'hazard':
        instant(kernelBufferTrack(ev.buf), `hazard ${ev.kind}`, ev);
        break;
      case 'client.connect':
        instant(clientTrack(ev.client), 'connect', ev);
        break;
      case 'client.disconnect':
        instant(clientTrack(ev.client), 'disconnect', ev);
        break;
      case 'protocol':
        instant(clientTrack(ev.client), `${ev.dir === 'request' ? '→' : '←'} ${ev.iface}.${ev.message}`, ev);
        break;
      case 'buffer.state': {
        const tr = bufferTrack(ev.buf, ev.client, ev.buffer);
        const open = bufferSpans.get(tr);
        if (open) span(tr, open.state, 'buffer', open.since, ev.t, open.args);
        bufferSpans.set(tr, { track: tr, state: ev.state, since: ev.t, args: jsonSafe(ev, false, OMIT) });
        break;
      }
      case 'surface.latch': {
        const tr = bufferTrack(ev.buf, ev.client, ev.buffer);
        const id = ev.fence !== undefined ? flowIds.get(ev.fence) : undefined;
        // Before the latch instant: an 'f' binds to the next slice on its track.
        if (id !== undefined) out.push({ name: 'unblocks', ph: 'f', id, ts: us(ev.t), pid: tr.pid, tid: tr.tid, cat: 'flow' });
        instant(tr, `latch commit ${ev.commit}`, ev);
        break;
      }
      case 'output.vblank':
        instant(outputTrack(ev.output), ev.flip ? `flip ${ev.seq}` : `vblank ${ev.seq}`, ev);
        break;
      case 'output.missed':
        instant(outputTrack(ev.output), `missed ${ev.seq}`, ev);
        break;
      case 'surface.presentation':
        instant(clientTrack(ev.client), ev.result, ev);
        break;
      default:
        // Kernel events added after this exporter was written.
        instant(kernelTrack(), unknownEv.type, unknownEv);
    }
  }

  // Whatever is still open at the end of the trace runs to its last event.
  for (const [job, j] of jobs) {
    const args: JsonObject = { ...(jobArgs.get(job) ?? {}), unfinished: true };
    const label = typeof args['label'] === 'string' ? args['label'] : `job ${job}`;
    if (j.start !== undefined) span(ringTrack(j.ring), label, 'job', j.start, tEnd, args);
    emitWait(job, j, label, tEnd);
  }
  for (const open of bufferSpans.values()) {
    span(open.track, open.state, 'buffer', open.since, tEnd, { ...open.args, open: true });
  }

  const meta: ChromeTraceEvent[] = [];
  for (const p of procs.values()) {
    const name = procNames.get(p.pid) ?? p.name;
    meta.push({ name: 'process_name', ph: 'M', ts: 0, pid: p.pid, tid: 0, args: { name } });
    meta.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid: p.pid, tid: 0, args: { sort_index: p.sort } });
    for (const tr of p.threads.values()) {
      meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: p.pid, tid: tr.tid, args: { name: tr.name } });
      meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: p.pid, tid: tr.tid, args: { sort_index: tr.sort } });
    }
  }
  return { traceEvents: meta.concat(out), displayTimeUnit: 'ms' };
}

/** The export as a JSON string (what GET /trace.json serves). */
export function chromeTraceJson(events: readonly TraceEvent[]): string {
  return JSON.stringify(toChromeTrace(events));
}

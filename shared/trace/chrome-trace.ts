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
 *
 * In four steps: scanEvents (time span, latched fences, names), Tracks (the
 * processes and threads, made on first use), Converter (each event to
 * trace events; what is still open at the end runs to the last event), and
 * Tracks.metadata (names and sort orders, first in the output).
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

/** The kernel model's job events (one variant with four types). */
type JobEvent = Extract<TraceEvent, { type: 'job.queued' | 'job.runnable' | 'job.start' | 'job.done' }>;

/** What one pass over the events knows before any is converted. */
interface Scan {
  t0: bigint;
  tEnd: bigint;
  /** Fences whose signal a latch waited on: their signals start a flow. */
  flowFences: Set<number>;
  /** Known up front so a client's track does not depend on event order. */
  clientPid: Map<number, number>;
  procNames: Map<number, string>;
  clientNames: Map<number, string>;
  /** Synthetic processes sit above every real pid so they never collide. */
  syntheticBase: number;
}

/** Step 1: the time span, the latched fences, and the names of processes and clients. */
function scanEvents(events: readonly TraceEvent[], first: TraceEvent): Scan {
  const scan: Scan = {
    t0: first.t,
    tEnd: first.t,
    flowFences: new Set(),
    clientPid: new Map(),
    procNames: new Map(),
    clientNames: new Map(),
    syntheticBase: 1,
  };
  let maxPid = 0;
  for (const ev of events) {
    if (ev.t < scan.t0) scan.t0 = ev.t;
    if (ev.t > scan.tEnd) scan.tEnd = ev.t;
    if ('pid' in ev && typeof ev.pid === 'number' && ev.pid > maxPid) maxPid = ev.pid;
    if (ev.type === 'surface.latch' && ev.fence !== undefined) scan.flowFences.add(ev.fence);
    else if (ev.type === 'process.spawn') scan.procNames.set(ev.pid, `${ev.comm} (pid ${ev.pid})`);
    else if (ev.type === 'client.connect') {
      if (ev.pid !== undefined) scan.clientPid.set(ev.client, ev.pid);
      if (ev.name !== undefined) scan.clientNames.set(ev.client, ev.name);
    }
  }
  scan.syntheticBase = maxPid + 1;
  return scan;
}

/**
 * Step 2: the processes and threads of the trace, created on first use (so
 * tids follow the order tracks are first needed).
 */
class Tracks {
  readonly procs = new Map<number, Proc>();
  private readonly syn: { outputs: number; gpu: number; fences: number; buffers: number; kernel: number };
  private nextSyntheticPid: number;
  private nextTid = 1;
  /** Timeline name by fence id, from fence.init (keyed by context: timeline names are not unique). */
  readonly fenceTimeline = new Map<number, string>();

  constructor(private readonly scan: Scan) {
    const base = scan.syntheticBase;
    this.syn = { outputs: base, gpu: base + 1, fences: base + 2, buffers: base + 3, kernel: base + 4 };
    this.nextSyntheticPid = base + 5;
  }

  private proc(pid: number, name: string, sort: number): Proc {
    let p = this.procs.get(pid);
    if (!p) {
      p = { pid, name, sort, threads: new Map() };
      this.procs.set(pid, p);
    }
    return p;
  }

  private thread(p: Proc, key: string, name: string, sort = p.threads.size): Track {
    let tr = p.threads.get(key);
    if (!tr) {
      tr = { pid: p.pid, tid: this.nextTid++, name, sort };
      p.threads.set(key, tr);
    }
    return tr;
  }

  private synthetic(pid: number, name: string, sort: number, key: string): Track {
    return this.thread(this.proc(pid, name, sort), key, key);
  }

  process(pid: number, which: 'kernel' | 'wayland'): Track {
    return this.thread(this.proc(pid, `pid ${pid}`, 100 + pid), which, which, which === 'kernel' ? 0 : 1);
  }

  client(client: number): Track {
    let pid = this.scan.clientPid.get(client);
    if (pid === undefined) {
      pid = this.nextSyntheticPid++;
      this.scan.clientPid.set(client, pid);
      const name = this.scan.clientNames.get(client);
      this.scan.procNames.set(pid, name !== undefined ? `${name} (client ${client})` : `client ${client}`);
    }
    return this.process(pid, 'wayland');
  }

  ring(ring: string): Track {
    return this.synthetic(this.syn.gpu, 'GPU', 1, `ring ${ring}`);
  }

  output(output: string): Track {
    return this.synthetic(this.syn.outputs, 'outputs', 0, `output ${output}`);
  }

  kernel(): Track {
    return this.synthetic(this.syn.kernel, 'kernel', 4, 'kernel');
  }

  fence(fence: number): Track {
    return this.synthetic(this.syn.fences, 'fences', 2, this.fenceTimeline.get(fence) ?? 'unknown timeline');
  }

  /**
   * A buffer's track is keyed by its kernel dma-buf id when known, so the
   * compositor's ownership states and the kernel's resv/hazard events meet.
   */
  buffer(buf: number | undefined, client: number, buffer: number): Track {
    const key = buf !== undefined ? `dmabuf ${buf}` : `client ${client} wl_buffer@${buffer}`;
    const p = this.proc(this.syn.buffers, 'buffers', 3);
    const existing = p.threads.get(key);
    const tr = existing ?? this.thread(p, key, key);
    if (buf !== undefined && client >= 0 && tr.name === key) tr.name = `${key} (client ${client} wl_buffer@${buffer})`;
    return tr;
  }

  kernelBuffer(buf: number): Track {
    return this.buffer(buf, -1, -1);
  }

  /** Step 4: the process and thread names and sort orders. */
  metadata(): ChromeTraceEvent[] {
    const meta: ChromeTraceEvent[] = [];
    for (const p of this.procs.values()) {
      const name = this.scan.procNames.get(p.pid) ?? p.name;
      meta.push({ name: 'process_name', ph: 'M', ts: 0, pid: p.pid, tid: 0, args: { name } });
      meta.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid: p.pid, tid: 0, args: { sort_index: p.sort } });
      for (const tr of p.threads.values()) {
        meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid: p.pid, tid: tr.tid, args: { name: tr.name } });
        meta.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid: p.pid, tid: tr.tid, args: { sort_index: tr.sort } });
      }
    }
    return meta;
  }
}

/** Step 3: each event becomes instants, spans, async spans and flow arrows on its track. */
class Converter {
  readonly out: ChromeTraceEvent[] = [];
  private readonly fenceSeqno = new Map<number, bigint>();
  private readonly jobs = new Map<number, JobState>();
  private readonly jobArgs = new Map<number, JsonObject>();
  private readonly bufferSpans = new Map<Track, BufferSpan>();
  private readonly flowIds = new Map<number, number>();
  private nextFlowId = 1;

  constructor(
    private readonly scan: Scan,
    private readonly tracks: Tracks,
  ) {}

  private us(t: bigint): number {
    return Number(t - this.scan.t0) / 1000;
  }

  private instant(tr: Track, name: string, ev: TraceEvent): void {
    this.out.push({ name, ph: 'i', s: 't', ts: this.us(ev.t), pid: tr.pid, tid: tr.tid, cat: category(ev), args: jsonSafe(ev, false, OMIT) });
  }

  private span(tr: Track, name: string, cat: string, from: bigint, to: bigint, args: JsonObject): void {
    this.out.push({ name, ph: 'X', ts: this.us(from), dur: Number(to - from) / 1000, pid: tr.pid, tid: tr.tid, cat, args });
  }

  /** queued → runnable (or start): the time a job waited on its fences. */
  private emitWait(job: number, j: JobState, label: string, end: bigint): void {
    const until = j.runnable ?? j.start ?? end;
    if (j.queued === undefined) return;
    const tr = this.tracks.ring(j.ring);
    this.out.push({ name: 'dependency wait', ph: 'b', id: job, ts: this.us(j.queued), pid: tr.pid, tid: tr.tid, cat: 'job-wait', args: { label } });
    this.out.push({ name: 'dependency wait', ph: 'e', id: job, ts: this.us(until), pid: tr.pid, tid: tr.tid, cat: 'job-wait' });
  }

  private fenceSignaled(ev: Extract<TraceEvent, { type: 'fence.signaled' }>): void {
    const tr = this.tracks.fence(ev.fence);
    const seqno = this.fenceSeqno.get(ev.fence);
    this.instant(tr, seqno !== undefined ? `signal ${seqno}` : `signal fence ${ev.fence}`, ev);
    if (this.scan.flowFences.has(ev.fence) && !this.flowIds.has(ev.fence)) {
      const id = this.nextFlowId++;
      this.flowIds.set(ev.fence, id);
      // Right after its instant, so it binds to that slice.
      this.out.push({ name: 'unblocks', ph: 's', id, ts: this.us(ev.t), pid: tr.pid, tid: tr.tid, cat: 'flow' });
    }
  }

  private jobProgress(ev: JobEvent): void {
    const j = this.jobs.get(ev.job) ?? { ring: ev.ring };
    if (ev.type === 'job.queued') j.queued = ev.t;
    else if (ev.type === 'job.runnable') j.runnable = ev.t;
    else j.start = ev.t;
    this.jobs.set(ev.job, j);
    this.jobArgs.set(ev.job, jsonSafe(ev, false, OMIT));
  }

  private jobDone(ev: JobEvent): void {
    const j = this.jobs.get(ev.job);
    const tr = this.tracks.ring(ev.ring);
    const args = jsonSafe(ev, false, OMIT);
    if (j?.start !== undefined) this.span(tr, ev.label, 'job', j.start, ev.t, args);
    else this.instant(tr, `${ev.label} done`, ev);
    if (j) this.emitWait(ev.job, j, ev.label, ev.t);
    this.jobs.delete(ev.job);
    this.jobArgs.delete(ev.job);
  }

  private bufferState(ev: Extract<TraceEvent, { type: 'buffer.state' }>): void {
    const tr = this.tracks.buffer(ev.buf, ev.client, ev.buffer);
    const open = this.bufferSpans.get(tr);
    if (open) this.span(tr, open.state, 'buffer', open.since, ev.t, open.args);
    this.bufferSpans.set(tr, { track: tr, state: ev.state, since: ev.t, args: jsonSafe(ev, false, OMIT) });
  }

  private surfaceLatch(ev: Extract<TraceEvent, { type: 'surface.latch' }>): void {
    const tr = this.tracks.buffer(ev.buf, ev.client, ev.buffer);
    const id = ev.fence !== undefined ? this.flowIds.get(ev.fence) : undefined;
    // Before the latch instant: an 'f' binds to the next slice on its track.
    if (id !== undefined) this.out.push({ name: 'unblocks', ph: 'f', id, ts: this.us(ev.t), pid: tr.pid, tid: tr.tid, cat: 'flow' });
    this.instant(tr, `latch commit ${ev.commit}`, ev);
  }

  add(ev: TraceEvent): void {
    const unknownEv: TraceEvent = ev;
    const t = this.tracks;
    switch (ev.type) {
      case 'process.spawn':
        return this.instant(t.process(ev.pid, 'kernel'), `spawn ${ev.comm}`, ev);
      case 'process.exit':
        return this.instant(t.process(ev.pid, 'kernel'), 'exit', ev);
      case 'syscall':
        return this.instant(t.process(ev.pid, 'kernel'), ev.what ? `${ev.call} ${ev.what}` : ev.call, ev);
      case 'syncobj.replace':
      case 'syncobj.point':
        return this.instant(t.process(ev.pid, 'kernel'), ev.type, ev);
      case 'fence.init':
        t.fenceTimeline.set(ev.fence, `${ev.driver}:${ev.timeline} (ctx ${ev.context})`);
        this.fenceSeqno.set(ev.fence, ev.seqno);
        return;
      case 'fence.signaled':
        return this.fenceSignaled(ev);
      case 'resv.add':
        return this.instant(t.kernelBuffer(ev.buf), `resv.add ${ev.usage}`, ev);
      case 'dmabuf.alloc':
      case 'dmabuf.release':
      case 'dmabuf.export':
      case 'dmabuf.import':
        return this.instant(t.kernelBuffer(ev.buf), ev.type, ev);
      case 'pages.alloc':
      case 'pages.free':
        return this.instant(ev.buf !== undefined ? t.kernelBuffer(ev.buf) : t.kernel(), ev.type, ev);
      case 'job.queued':
      case 'job.runnable':
      case 'job.start':
        return this.jobProgress(ev);
      case 'job.done':
        return this.jobDone(ev);
      case 'hazard':
        return this.instant(t.kernelBuffer(ev.buf), `hazard ${ev.kind}`, ev);
      case 'client.connect':
        return this.instant(t.client(ev.client), 'connect', ev);
      case 'client.disconnect':
        return this.instant(t.client(ev.client), 'disconnect', ev);
      case 'protocol':
        return this.instant(t.client(ev.client), `${ev.dir === 'request' ? '→' : '←'} ${ev.iface}.${ev.message}`, ev);
      case 'buffer.state':
        return this.bufferState(ev);
      case 'surface.latch':
        return this.surfaceLatch(ev);
      case 'output.vblank':
        return this.instant(t.output(ev.output), ev.flip ? `flip ${ev.seq}` : `vblank ${ev.seq}`, ev);
      case 'output.missed':
        return this.instant(t.output(ev.output), `missed ${ev.seq}`, ev);
      case 'surface.presentation':
        return this.instant(t.client(ev.client), ev.result, ev);
      default:
        // Kernel events added after this exporter was written.
        return this.instant(t.kernel(), unknownEv.type, unknownEv);
    }
  }

  /** Whatever is still open at the end of the trace runs to its last event. */
  closeOpen(): void {
    const end = this.scan.tEnd;
    for (const [job, j] of this.jobs) {
      const args: JsonObject = { ...(this.jobArgs.get(job) ?? {}), unfinished: true };
      const label = typeof args['label'] === 'string' ? args['label'] : `job ${job}`;
      if (j.start !== undefined) this.span(this.tracks.ring(j.ring), label, 'job', j.start, end, args);
      this.emitWait(job, j, label, end);
    }
    for (const open of this.bufferSpans.values()) {
      this.span(open.track, open.state, 'buffer', open.since, end, { ...open.args, open: true });
    }
  }
}

/** Build the Chrome trace object for `events` (any order; usually ring order). */
export function toChromeTrace(events: readonly TraceEvent[]): ChromeTrace {
  const first = events[0];
  if (first === undefined) return { traceEvents: [], displayTimeUnit: 'ms' };
  const scan = scanEvents(events, first);
  const tracks = new Tracks(scan);
  const converter = new Converter(scan, tracks);
  for (const ev of events) converter.add(ev);
  converter.closeOpen();
  return { traceEvents: tracks.metadata().concat(converter.out), displayTimeUnit: 'ms' };
}

/** The export as a JSON string (what GET /trace.json serves). */
export function chromeTraceJson(events: readonly TraceEvent[]): string {
  return JSON.stringify(toChromeTrace(events));
}

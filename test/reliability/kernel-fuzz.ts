/**
 * The kernel-channel fuzzer: several processes send random syscalls as
 * kernel-channel JSON (the bytes a remote client would send) to their
 * KernelChannelServer, over one in-process Kernel on a manual clock.
 *
 * Calls are mostly well-formed (known requests, structs from the uapi
 * schemas, the process's own fds and handles, other processes' fd
 * numbers) with every field liable to be the wrong type, out of range, a
 * huge bigint, a nested array or missing. Between calls the clock moves
 * and sw_sync timelines advance, so waits and polls complete, time out or
 * stay pending.
 *
 * Pass: every reply is an integer result (>= 0, or -errno in 1..133) or
 * the envelope is refused as a protocol error; no call throws or rejects
 * (an internal error); after each step the invariants of invariants.ts
 * hold; once every process has exited and the GPU drained, no fd, page or
 * process is left.
 */
import { Kernel, KernelChannelServer, ManualClock, errno, uapi, uapiStructs, vgpuDrm, type Process } from './deps';
import { KernelWatch, snapshot } from './invariants';
import { rng, type Rng } from './rng';

export interface KernelFuzzOptions {
  seed: number;
  /** Calls to send in all. */
  calls: number;
  processes?: number;
  /**
   * Also send inputs of findings not fixed yet (docs/reliability.md,
   * TODO(after merge)): poll timeouts that JSON turns into Infinity.
   */
  knownFindings?: boolean;
}

export interface KernelFuzzResult {
  seed: number;
  calls: number;
  /** Calls answered with a result >= 0, with -errno, refused as malformed envelopes. */
  ok: number;
  errnos: number;
  protocolErrors: number;
  /** Calls still pending at the end (ended by process exit). */
  pendingAtEnd: number;
  internalErrors: string[];
  invariantViolations: string[];
  leaked: { fds: number; pages: number; processes: number };
}

type FieldKind = string;
type Schema = Readonly<Record<string, FieldKind>>;

const S = uapiStructs;
const IOCTLS: readonly { request: number; schema: Schema; extra?: 'submit' }[] = [
  { request: uapi.DMA_BUF_IOCTL_SYNC, schema: S.dma_buf_sync },
  { request: uapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, schema: S.dma_buf_export_sync_file },
  { request: uapi.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, schema: S.dma_buf_import_sync_file },
  { request: uapi.DMA_HEAP_IOCTL_ALLOC, schema: S.dma_heap_allocation_data },
  { request: uapi.SYNC_IOC_MERGE, schema: S.sync_merge_data },
  { request: uapi.SYNC_IOC_FILE_INFO, schema: S.sync_file_info },
  { request: uapi.SYNC_IOC_SET_DEADLINE, schema: { deadline_ns: 'u64', pad: 'u64' } },
  { request: uapi.SW_SYNC_IOC_CREATE_FENCE, schema: S.sw_sync_create_fence_data },
  { request: uapi.DRM_IOCTL_SYNCOBJ_CREATE, schema: S.drm_syncobj_create },
  { request: uapi.DRM_IOCTL_SYNCOBJ_DESTROY, schema: S.drm_syncobj_destroy },
  { request: uapi.DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, schema: S.drm_syncobj_handle },
  { request: uapi.DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, schema: S.drm_syncobj_handle },
  { request: uapi.DRM_IOCTL_SYNCOBJ_WAIT, schema: S.drm_syncobj_wait },
  { request: uapi.DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, schema: S.drm_syncobj_timeline_wait },
  { request: uapi.DRM_IOCTL_SYNCOBJ_RESET, schema: S.drm_syncobj_array },
  { request: uapi.DRM_IOCTL_SYNCOBJ_SIGNAL, schema: S.drm_syncobj_array },
  { request: uapi.DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, schema: S.drm_syncobj_timeline_array },
  { request: uapi.DRM_IOCTL_SYNCOBJ_QUERY, schema: S.drm_syncobj_timeline_array },
  { request: uapi.DRM_IOCTL_SYNCOBJ_TRANSFER, schema: S.drm_syncobj_transfer },
  { request: vgpuDrm.DRM_IOCTL_VGPU_SUBMIT, schema: vgpuDrm.drm_vgpu_submit, extra: 'submit' },
  { request: vgpuDrm.DRM_IOCTL_VGPU_RING_NEW, schema: vgpuDrm.drm_vgpu_ring_new },
  { request: vgpuDrm.DRM_IOCTL_VGPU_RING_QUERY, schema: vgpuDrm.drm_vgpu_ring_query },
  { request: vgpuDrm.DRM_IOCTL_VGPU_RING_CLOSE, schema: vgpuDrm.drm_vgpu_ring_close },
];
const PATHS = ['/dev/sw_sync', '/dev/dri/card0', '/dev/dma_heap/system', '/dev/sw_sync', '/dev/dri/card0', '/dev/nope', '', '/dev/../dev/sw_sync'];

/** What a process knows it holds: fds by kind, syncobj handles per drm fd. */
interface Actor {
  proc: Process;
  server: KernelChannelServer;
  fds: number[];
  handles: { fd: number; handle: number }[];
  point: bigint;
  nextId: number;
}

/** A JSON fragment (text, so the fuzzer can write what JSON.stringify never would). */
type Json = string;
const big = (v: bigint): Json => `{"$bigint":"${v}"}`;

class CallGen {
  constructor(
    private readonly r: Rng,
    private readonly knownFindings: boolean,
  ) {}

  /** A hostile value of any type. */
  junk(depth = 0): Json {
    const r = this.r;
    switch (r.int(depth > 2 ? 8 : 11)) {
      case 0: return 'null';
      case 1: return r.pick(['-1', '0', '4294967296', '-2147483649', '9007199254740993', '1.5', '-0', '1e300']);
      case 2: return JSON.stringify(r.pick(['', 'x', '\u0000', '😀', 'a'.repeat(300)]));
      case 3: return r.pick(['true', 'false']);
      case 4: return big(r.pick([-1n, 0n, 1n << 64n, (1n << 63n) - 1n, -(1n << 63n), 10n ** 39n]));
      case 5: return '{"$bigint":"12x"}';
      case 6: return '{"$bigint":"1","x":1}';
      case 7: return '{"__proto__":{"polluted":1}}';
      case 8: return `[${Array.from({ length: r.int(4) }, () => this.junk(depth + 1)).join(',')}]`;
      case 9: return `{"a":${this.junk(depth + 1)}}`;
      default: return `[[[[[[[[[[${this.junk(depth + 1)}]]]]]]]]]]`;
    }
  }

  fd(a: Actor, others: readonly Actor[]): Json {
    const r = this.r;
    if (a.fds.length > 0 && r.chance(0.75)) return String(r.pick(a.fds));
    if (r.chance(0.5)) {
      const o = r.pick(others);
      if (o.fds.length > 0) return String(r.pick(o.fds)); // another process's number: means nothing here
    }
    return r.chance(0.7) ? String(r.int(40) - 2) : this.junk();
  }

  handle(a: Actor): number {
    return a.handles.length > 0 && this.r.chance(0.8) ? this.r.pick(a.handles).handle : this.r.int(20);
  }

  field(kind: FieldKind, name: string, a: Actor, others: readonly Actor[]): Json {
    const r = this.r;
    if (r.chance(0.06)) return this.junk();
    const n = (): number => (r.chance(0.8) ? r.int(4) : r.pick([0xffff_ffff, 0x8000_0000, 255]));
    switch (kind) {
      case 'u32':
      case 's32':
        if (name.includes('fd') || name === 'fence') return r.chance(0.5) ? this.fd(a, others) : '-1';
        if (name.includes('handle')) return String(this.handle(a));
        if (name === 'value') return String(r.int(5));
        return String(n());
      case 'u64':
      case 's64':
        if (name.includes('point')) return big(r.chance(0.8) ? (a.point += BigInt(r.int(3))) : BigInt(r.int(10)));
        if (name === 'len') return big(r.pick([4096n, 8192n, 0n, 1n, 1n << 40n]));
        if (name.includes('timeout')) return big(r.pick([0n, 1_000_000n, -1n, (1n << 63n) - 1n, 5_000_000n]));
        if (name === 'duration_ns') return big(r.pick([0n, 1_000_000n, 50_000_000n, 10_000_000_000n]));
        return big(BigInt(n()));
      case 'name':
        return JSON.stringify(r.pick(['t', 'render', '', 'n'.repeat(40)]));
      case 'u32[]':
        return `[${Array.from({ length: r.int(4) }, () => String(this.handle(a))).join(',')}]`;
      case 'u64[]':
      case 'u64[]?':
        if (kind === 'u64[]?' && r.chance(0.3)) return 'null';
        return `[${Array.from({ length: r.int(4) }, () => big(a.point + BigInt(r.int(3)))).join(',')}]`;
      default:
        return `[${Array.from({ length: r.int(3) }, () => '{}').join(',')}]`;
    }
  }

  struct(schema: Schema, extra: 'submit' | undefined, a: Actor, others: readonly Actor[]): Json {
    const r = this.r;
    const parts: string[] = [];
    for (const [name, kind] of Object.entries(schema)) {
      if (r.chance(0.03)) continue; // a missing field
      parts.push(`"${name}":${this.field(kind, name, a, others)}`);
    }
    if (extra === 'submit') {
      const nb = r.int(3);
      parts.push(`"flags":${r.pick([0, vgpuDrm.VGPU_SUBMIT_NO_IMPLICIT, vgpuDrm.VGPU_SUBMIT_FENCE_FD_OUT, vgpuDrm.VGPU_SUBMIT_FLAGS, 7])}`);
      parts.push(`"bos":[${Array.from({ length: nb }, () => `{"fd":${this.fd(a, others)},"flags":${r.int(4)}}`).join(',')}]`);
      parts.push(`"in_syncobjs":${r.chance(0.5) ? 'null' : `[{"handle":${this.handle(a)},"flags":0,"point":${big(a.point)}}]`}`);
      parts.push(`"out_syncobjs":[{"handle":${this.handle(a)},"flags":${r.int(2)},"point":${big(++a.point)}}]`);
    }
    return `{${parts.join(',')}}`;
  }

  /** One call as JSON text, or a broken envelope. */
  call(a: Actor, others: readonly Actor[]): Json {
    const r = this.r;
    const id = a.nextId++;
    if (r.chance(0.02)) {
      return r.pick(['', '{', '[]', '{"type":"call"}', `{"type":"result","id":${id}}`, `{"type":"call","id":-1,"call":"open"}`, '\u00ff']);
    }
    const head = `"type":"call","id":${id}`;
    switch (r.int(10)) {
      case 0:
        return `{${head},"call":"open","path":${r.chance(0.9) ? JSON.stringify(r.pick(PATHS)) : this.junk()}}`;
      case 1:
        return `{${head},"call":"close","fd":${this.fd(a, others)}}`;
      case 2:
        return `{${head},"call":"dup","fd":${this.fd(a, others)}}`;
      case 3: {
        const entries = Array.from({ length: r.int(4) }, () => `{"fd":${this.fd(a, others)},"events":${r.pick([1, 4, 0, 0xffff, -1])}}`);
        const timeouts = ['0', '0', '1', '5', '-1', '16.5', '1e20', '-1e20'];
        if (this.knownFindings) timeouts.push('1e400', '-1e400');
        return `{${head},"call":"poll","fds":[${entries.join(',')}],"timeout":${r.pick(timeouts)}}`;
      }
      case 4:
        return `{${head},"call":${r.pick(['"mmap"', '"ioctl "', '1', 'null'])}}`;
      default: {
        const io = r.pick(IOCTLS);
        const request = r.chance(0.95) ? String(io.request) : r.pick(['0', '-1', '4294967296', '"x"', String(io.request ^ 0x100)]);
        const arg = r.chance(0.95) ? this.struct(io.schema, io.extra, a, others) : this.junk();
        return `{${head},"call":"ioctl","fd":${this.fd(a, others)},"request":${request},"arg":${arg}}`;
      }
    }
  }
}

const MAX_ERRNO = 133;

export async function runKernelFuzz(options: KernelFuzzOptions): Promise<KernelFuzzResult> {
  const r = rng(options.seed);
  const gen = new CallGen(r, options.knownFindings ?? false);
  const clock = new ManualClock();
  const kernel = new Kernel({ clock, limits: { maxFds: 64, pages: 4096 }, vgpu: { jobTimeoutNs: 500_000_000n } });
  const watch = new KernelWatch(kernel);
  const result: KernelFuzzResult = {
    seed: options.seed,
    calls: 0,
    ok: 0,
    errnos: 0,
    protocolErrors: 0,
    pendingAtEnd: 0,
    internalErrors: [],
    invariantViolations: [],
    leaked: { fds: 0, pages: 0, processes: 0 },
  };
  const start = snapshot(kernel);
  const actors: Actor[] = [];
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  const reply = (a: Actor, payload: Uint8Array): void => {
    const m = JSON.parse(dec.decode(payload)) as { type: string; result?: unknown; arg?: Record<string, unknown> };
    if (m.type !== 'result') return;
    const res = m.result;
    if (typeof res !== 'number' || !Number.isInteger(res) || res < -MAX_ERRNO) {
      result.internalErrors.push(`pid ${a.proc.pid}: result ${JSON.stringify(res)} is neither >= 0 nor -errno`);
      return;
    }
    if (res < 0) result.errnos++;
    else result.ok++;
    // Learn new fds and handles from the answers, as a client would.
    const arg = m.arg;
    const learn = (v: unknown): void => {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 64 && !a.fds.includes(v)) a.fds.push(v);
    };
    if (res >= 0 && arg === undefined && res < 64) learn(res); // open, dup
    if (arg) {
      for (const k of ['fd', 'fence', 'fence_fd']) if (k in arg && res >= 0) learn(arg[k]);
      if (typeof arg.handle === 'number' && res === 0 && 'flags' in arg && !('fd' in arg)) {
        const drm = a.fds[a.fds.length - 1] ?? 0;
        a.handles.push({ fd: drm, handle: arg.handle });
      }
    }
  };

  const spawn = (i: number): Actor => {
    const proc = kernel.spawn(`fuzz${i}`);
    const a: Actor = {
      proc,
      fds: [],
      handles: [],
      point: 0n,
      nextId: 1,
      server: undefined as unknown as KernelChannelServer,
    };
    a.server = new KernelChannelServer(
      proc,
      (payload) => reply(a, payload),
      (err) => result.internalErrors.push(`pid ${proc.pid} rejected: ${err instanceof Error ? err.message : String(err)}`),
    );
    return a;
  };
  for (let i = 0; i < (options.processes ?? 3); i++) actors.push(spawn(i));

  for (let step = 0; step < options.calls; step++) {
    const a = r.pick(actors);
    const text = gen.call(a, actors);
    result.calls++;
    try {
      const bad = a.server.receive(enc.encode(text));
      if (bad !== undefined) result.protocolErrors++;
    } catch (err) {
      result.internalErrors.push(`call ${text.slice(0, 200)} threw: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Let promises settle, move time, advance a timeline now and then.
    await Promise.resolve();
    if (r.chance(0.3)) clock.advance(BigInt(r.pick([0, 1, 5, 20, 600])) * 1_000_000n);
    if (r.chance(0.1)) {
      const fd = a.fds.length > 0 ? r.pick(a.fds) : -1;
      if (fd >= 0) a.proc.ioctl(fd, uapi.SW_SYNC_IOC_INC, 1);
    }
    // A process exits and a new one takes its place.
    if (r.chance(0.005)) {
      const i = actors.indexOf(a);
      a.server.close();
      result.pendingAtEnd += a.server.pendingCalls;
      a.proc.exit();
      actors[i] = spawn(100 + step);
    }
    for (const x of actors) watch.checkQueries(x.proc, x.handles);
    const bad = watch.check();
    if (bad.length > 0) {
      result.invariantViolations.push(...bad.map((b) => `step ${step} after ${text.slice(0, 160)}: ${b}`));
      break;
    }
    if (result.internalErrors.length > 0) break;
  }

  for (const a of actors) {
    result.pendingAtEnd += a.server.pendingCalls;
    a.server.close();
    a.proc.exit();
  }
  // Drain the GPU and every timer: jobs finish or time out, buffers go.
  for (let i = 0; i < 20; i++) {
    clock.advance(1_000_000_000n);
    await Promise.resolve();
  }
  await new Promise((res) => setTimeout(res, 0));
  result.invariantViolations.push(...watch.check());
  watch.unsubscribe();
  const end = snapshot(kernel);
  result.leaked = {
    fds: end.fds - start.fds,
    pages: end.pagesInUse - start.pagesInUse,
    processes: end.processes - start.processes,
  };
  void errno;
  return result;
}

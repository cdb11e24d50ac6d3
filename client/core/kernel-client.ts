/**
 * The client side of the kernel channel: a remote process's syscalls as
 * async functions with the names and structs of KERNEL-API.md.
 *
 *   const fd = await client.kernel.open('/dev/sw_sync');
 *   const cf = { value: 1, name: 'frame', fence: -1 };
 *   await client.kernel.ioctl(fd, SW_SYNC_IOC_CREATE_FENCE, cf); // cf.fence filled
 *
 * The struct goes to the server as JSON; the server answers with the struct
 * after the kernel wrote it, and its fields are copied back into the
 * caller's object (arrays filled in place), so code reads as it would
 * in-process. fds are this process's own numbers; they mean nothing to any
 * other process.
 */
import type { KernelCall, KernelResult, KernelValue } from '../../shared/protocol/kernel-channel';
import { decodeKernelReply, decodeKernelStat, encodeKernelMessage } from '../../shared/protocol/kernel-channel-codec';
import type { KernelApi, KernelStat, PollFd } from './kernel-api';

/** The argument of an ioctl: a uapi struct, a plain __u32, or nothing. */
export type IoctlArg = object | number | bigint | undefined;

export type KernelEventListener = (name: string, data: KernelValue) => void;

/** Thrown into pending calls when the connection (the process) is gone. */
export class DisconnectedError extends Error {
  constructor(reason: string) {
    super(`disconnected: ${reason}`);
    this.name = 'DisconnectedError';
  }
}

interface Pending {
  resolve(r: KernelResult): void;
  reject(e: Error): void;
}

/** Distributive Omit, so each call variant keeps its own fields. */
type CallBody = (KernelCall extends infer C ? (C extends KernelCall ? Omit<C, 'type' | 'id'> : never) : never);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * copy_to_user, client side: write the server's struct back into the
 * caller's. Only fields the caller's struct already has are written (a
 * kernel writes only fields of its struct; a stray key is never installed,
 * "__proto__" included); arrays are filled in place, like a user buffer.
 */
export function copyOut(target: object, source: KernelValue | undefined): void {
  if (!isRecord(source)) return;
  const t = target as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (key === '__proto__' || !Object.prototype.hasOwnProperty.call(t, key)) continue;
    const value = source[key];
    const current = t[key];
    if (Array.isArray(current) && Array.isArray(value)) {
      current.length = 0;
      current.push(...value);
    } else {
      t[key] = value;
    }
  }
}

export class KernelClient implements KernelApi {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<KernelEventListener>();
  private closedReason: string | undefined;

  /** `send` carries one kernel payload to the server (the caller wraps it in a frame). */
  constructor(private readonly send: (payload: Uint8Array) => void) {}

  open(path: string): Promise<number> {
    return this.call({ call: 'open', path }).then((r) => r.result);
  }

  close(fd: number): Promise<number> {
    return this.call({ call: 'close', fd }).then((r) => r.result);
  }

  dup(fd: number): Promise<number> {
    return this.call({ call: 'dup', fd }).then((r) => r.result);
  }

  /**
   * ioctl(2): resolves with the result (>= 0 or -errno) once the kernel has
   * answered — for a blocking request, once it completes. Output fields are
   * written into `arg`.
   */
  async ioctl(fd: number, request: number, arg?: IoctlArg): Promise<number> {
    // JSON.stringify (with the bigint replacer) walks any plain object; the
    // kernel's struct check on the server judges its shape.
    const body: CallBody = arg === undefined ? { call: 'ioctl', fd, request } : { call: 'ioctl', fd, request, arg: arg as KernelValue };
    const r = await this.call(body);
    if (typeof arg === 'object' && arg !== null) copyOut(arg, r.arg);
    return r.result;
  }

  /** poll(2): how many entries have non-zero revents (written into each), 0 on timeout. */
  async poll(fds: PollFd[], timeoutMs: number): Promise<number> {
    const r = await this.call({ call: 'poll', fds: fds.map((p) => ({ fd: p.fd, events: p.events })), timeout: timeoutMs });
    if (r.revents) fds.forEach((p, i) => (p.revents = r.revents?.[i] ?? 0));
    return r.result;
  }

  /**
   * fstat(2): the file's identity and size (for a dma-buf, st_ino is the
   * buffer's id), or -errno. The server answers with the struct as the
   * result's `arg`, 64-bit st_size as a bigint.
   */
  async fstat(fd: number): Promise<KernelStat | number> {
    const r = await this.call({ call: 'fstat', fd });
    if (r.result < 0) return r.result;
    const st = decodeKernelStat(r.arg);
    if (st === null) throw new Error(`fstat(${fd}): the kernel answered ${r.result} without a stat struct`);
    return st;
  }

  /** Listen for asynchronous kernel events (vgpu "job runnable"). Returns a remover. */
  onEvent(listener: KernelEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls sent and not yet answered. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** A kernel payload from the server. Returns an error string if it is malformed. */
  receive(payload: Uint8Array): string | undefined {
    const d = decodeKernelReply(payload);
    if (!d.ok) return d.reason;
    const msg = d.msg;
    if (msg.type === 'event') {
      for (const l of [...this.listeners]) l(msg.name, msg.data);
      return undefined;
    }
    const p = this.pending.get(msg.id);
    if (!p) return `kernel result for unknown call ${msg.id}`;
    this.pending.delete(msg.id);
    p.resolve(msg);
    return undefined;
  }

  /** The connection is gone: every pending and later call rejects. */
  disconnect(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const err = new DisconnectedError(reason);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call(body: CallBody): Promise<KernelResult> {
    if (this.closedReason !== undefined) return Promise.reject(new DisconnectedError(this.closedReason));
    const id = this.nextId++;
    const msg = { type: 'call', id, ...body } as KernelCall;
    return new Promise<KernelResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(encodeKernelMessage(msg));
    });
  }
}

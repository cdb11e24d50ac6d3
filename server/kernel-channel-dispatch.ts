/**
 * The server's end of the kernel channel: each decoded call becomes a call
 * on the client's Process, and its return value (or, for a blocking call,
 * its later completion) goes back as a result. The contract is
 * shared/protocol/kernel-channel.ts, the encoding kernel-channel-codec.ts.
 *
 * The argument checks mirror the syscall entry points: an fd that is not
 * an integer cannot name an open file (-EBADF would need an int; the value
 * never reaches the kernel, so -EINVAL), a struct that cannot be read is
 * -EFAULT (the kernel's own struct check), an unknown syscall is -ENOSYS.
 */
import { EAGAIN, EFAULT, EINVAL, ENAMETOOLONG, ENOSYS } from '../shared/kernel/errno';
import type { PollFd, Process } from '../shared/kernel/process';
import {
  MAX_PENDING_CALLS,
  PATH_MAX,
  type KernelResult,
  type KernelStat,
  type KernelValue,
} from '../shared/protocol/kernel-channel';
import { decodeKernelCall, encodeKernelMessage, FAULT, type Decoded, type IncomingCall } from '../shared/protocol/kernel-channel-codec';

/** The process as the dispatcher calls it. */
export type ChannelProcess = Process;

/** What serveKernelCall hands back: the result now, or once the kernel finishes. */
export type ServedCall = KernelResult | Promise<KernelResult>;

type Args = IncomingCall['args'];

function isInt(v: Decoded | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function isU32(v: Decoded | undefined): v is number {
  return isInt(v) && v >= 0 && v <= 0xffff_ffff;
}

const answer = (id: number, result: number): KernelResult => ({ type: 'result', id, result });

function serveOpen(proc: ChannelProcess, id: number, args: Args): ServedCall {
  const path = args.path;
  if (path === FAULT || typeof path !== 'string') return answer(id, -EFAULT);
  if (path.length >= PATH_MAX) return answer(id, -ENAMETOOLONG);
  return answer(id, proc.open(path));
}

function serveFdCall(proc: ChannelProcess, id: number, call: 'close' | 'dup', args: Args): ServedCall {
  const fd = args.fd;
  if (!isInt(fd)) return answer(id, -EINVAL);
  return answer(id, call === 'close' ? proc.close(fd) : proc.dup(fd));
}

function serveFstat(proc: ChannelProcess, id: number, args: Args): ServedCall {
  const fd = args.fd;
  if (!isInt(fd)) return answer(id, -EINVAL);
  const st = proc.fstat(fd);
  if (typeof st === 'number') return answer(id, st);
  return { type: 'result', id, result: 0, arg: { st_dev: st.st_dev, st_ino: st.st_ino, st_mode: st.st_mode, st_size: st.st_size } };
}

function serveIoctl(proc: ChannelProcess, id: number, args: Args): ServedCall {
  const { fd, request } = args;
  if (!isInt(fd)) return answer(id, -EINVAL);
  if (!isU32(request)) return answer(id, -EINVAL);
  const arg = args.arg;
  if (arg === FAULT) return answer(id, -EFAULT);
  // The struct is handed to the kernel as is; the kernel's own schema
  // check (structIoctl) turns wrong field types into -EFAULT.
  const finish = (result: number): KernelResult =>
    typeof arg === 'object' && arg !== null ? { type: 'result', id, result, arg } : answer(id, result);
  const r = proc.ioctl(fd, request, arg);
  return typeof r === 'number' ? finish(r) : r.then(finish);
}

function servePoll(proc: ChannelProcess, id: number, args: Args): ServedCall {
  const { fds, timeout } = args;
  if (fds === FAULT || !Array.isArray(fds)) return answer(id, -EFAULT);
  // fs/select.c: nfds above RLIMIT_NOFILE is -EINVAL.
  if (fds.length > proc.kernel.maxFds) return answer(id, -EINVAL);
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) return answer(id, -EINVAL);
  const pfds: PollFd[] = [];
  for (const e of fds) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return answer(id, -EFAULT);
    const { fd, events } = e;
    if (!isInt(fd) || !isInt(events)) return answer(id, -EFAULT);
    pfds.push({ fd, events: events & 0xffff, revents: 0 });
  }
  return proc.poll(pfds, timeout).then((n) => ({ type: 'result', id, result: n, revents: pfds.map((p) => p.revents) }));
}

/** Run one decoded call as `proc`. */
export function serveKernelCall(proc: ChannelProcess, msg: IncomingCall): ServedCall {
  const { id, args } = msg;
  switch (msg.call) {
    case 'open':
      return serveOpen(proc, id, args);
    case 'close':
    case 'dup':
      return serveFdCall(proc, id, msg.call, args);
    case 'fstat':
      return serveFstat(proc, id, args);
    case 'ioctl':
      return serveIoctl(proc, id, args);
    case 'poll':
      return servePoll(proc, id, args);
    default:
      return answer(id, -ENOSYS);
  }
}

/**
 * Serves one process's kernel frames, counting calls still waiting so a
 * client cannot queue unbounded work (beyond MAX_PENDING_CALLS: -EAGAIN).
 */
export class KernelChannelServer {
  private pending = 0;
  private closed = false;

  /**
   * `send` carries a payload to the client; `onError` hears of a kernel
   * call that threw (a broken invariant: the transport ends that client).
   */
  constructor(
    private readonly proc: ChannelProcess,
    private readonly send: (payload: Uint8Array) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Calls waiting for the kernel. */
  get pendingCalls(): number {
    return this.pending;
  }

  /**
   * Handle one frame payload. Returns an error string if the envelope is
   * malformed (the transport ends the client). A kernel call that throws
   * synchronously propagates to the caller.
   */
  receive(payload: Uint8Array): string | undefined {
    const d = decodeKernelCall(payload);
    if (!d.ok) return d.reason;
    if (this.pending >= MAX_PENDING_CALLS) {
      this.reply(answer(d.msg.id, -EAGAIN));
      return undefined;
    }
    const served = serveKernelCall(this.proc, d.msg);
    if (!(served instanceof Promise)) {
      this.reply(served);
      return undefined;
    }
    this.pending++;
    served.then(
      (r) => {
        this.pending--;
        this.reply(r);
      },
      (err: unknown) => {
        this.pending--;
        if (!this.closed) this.onError(err);
      },
    );
    return undefined;
  }

  /** An asynchronous notification to the client. */
  event(name: string, data: KernelValue): void {
    if (!this.closed) this.send(encodeKernelMessage({ type: 'event', name, data }));
  }

  /** Stop sending (the connection is gone); late completions are dropped. */
  close(): void {
    this.closed = true;
  }

  private reply(r: KernelResult): void {
    if (!this.closed) this.send(encodeKernelMessage(r));
  }
}

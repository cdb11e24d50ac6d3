/**
 * A process: an fd table plus the syscalls of KERNEL-API.md (open, close,
 * dup, ioctl, poll, fstat, exit). fds are the lowest free small integers, as
 * Linux's alloc_fd gives them; each refers to a shared open file.
 */
import { EBADF, EINVAL, EMFILE, ENOENT, ENOTTY } from './errno';
import { ANON_INODE_DEV, ANON_INODE_MODE, DEVNODE_MODE, DEVTMPFS_DEV, fput, getFile, type KFile, type PollTable } from './file';
import { POLLNVAL, requestName } from './uapi';
import type { Kernel } from './kernel';

export interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

/**
 * struct stat, the part fstat(2) fills that tells files apart: userspace
 * knows two fds for the same dma-buf by (st_dev, st_ino). A dma-buf's
 * st_ino is its id (the `buf` of kernel and trace events), st_size its size.
 */
export interface KernelStat {
  st_dev: number;
  st_ino: number;
  st_mode: number;
  st_size: bigint;
}

/** Inode numbers of files without an inode of their own, given on first fstat from the kernel's ids (never a dma-buf's). */
const anonInodes = new WeakMap<KFile, number>();

export class Process {
  readonly pid: number;
  readonly comm: string;
  readonly kernel: Kernel;
  private fds: (KFile | undefined)[] = [];
  /**
   * files->next_fd: every fd below it is in use, so the search for the
   * lowest free fd starts here, as alloc_fd's does, not at 0 (a process
   * holding thousands of fds would otherwise pay for each new one).
   */
  private nextFd = 0;
  private open_count = 0;
  private exited = false;

  constructor(kernel: Kernel, pid: number, comm: string) {
    this.kernel = kernel;
    this.pid = pid;
    this.comm = comm;
  }

  get isExited(): boolean {
    return this.exited;
  }

  /** RLIMIT_NOFILE of this process: the kernel's default until setrlimit. */
  private rlimitNofile: number | undefined;

  get maxFds(): number {
    return this.rlimitNofile ?? this.kernel.maxFds;
  }

  /**
   * setrlimit(RLIMIT_NOFILE): fds at or past `n` give -EMFILE. Servers that
   * hold fds for many clients raise it (compositors do). -EINVAL for a
   * limit below 1.
   */
  setMaxFds(n: number): number {
    if (!Number.isInteger(n) || n < 1) return -EINVAL;
    this.rlimitNofile = n;
    return 0;
  }

  /** Number of open fds. */
  get fdCount(): number {
    return this.open_count;
  }

  open(path: string): number {
    const opener = this.kernel.deviceOpener(path);
    let fd: number;
    if (!opener) fd = -ENOENT;
    else {
      const file = opener(this);
      fd = typeof file === 'number' ? file : this.installFile(file);
    }
    this.trace('open', fd, path, fd);
    return fd;
  }

  close(fd: number): number {
    const file = this.fget(fd);
    let r = -EBADF;
    if (file) {
      this.fds[fd] = undefined;
      if (fd < this.nextFd) this.nextFd = fd; // __put_unused_fd
      this.open_count--;
      fput(file);
      r = 0;
    }
    this.trace('close', fd, undefined, r);
    return r;
  }

  dup(fd: number): number {
    const file = this.fget(fd);
    const r = file ? this.installFile(getFile(file)) : -EBADF;
    this.trace('dup', fd, undefined, r);
    return r;
  }

  /**
   * ioctl(2). Unknown request: -ENOTTY (drivers may answer otherwise: DRM
   * says -EINVAL). Blocking requests return a Promise of the result.
   */
  ioctl(fd: number, request: number, arg?: unknown): number | Promise<number> {
    const file = this.fget(fd);
    let r: number | Promise<number>;
    if (!file) r = -EBADF;
    else if (!file.ops.ioctl) r = -ENOTTY;
    else r = file.ops.ioctl(file, this, request >>> 0, arg);
    if (this.kernel.core.tracing) {
      if (typeof r === 'number') this.trace('ioctl', fd, requestName(request), r);
      else void r.then((v) => this.trace('ioctl', fd, requestName(request), v));
    }
    return r;
  }

  /**
   * poll(2): resolves with the number of entries whose revents is non-zero,
   * 0 on timeout. timeoutMs 0 polls once; negative waits forever.
   */
  poll(fds: PollFd[], timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      const cancels: (() => void)[] = [];
      let done = false;
      const finish = (n: number): void => {
        if (done) return;
        done = true;
        for (const c of cancels.splice(0)) c();
        this.trace('poll', fds[0]?.fd ?? -1, undefined, n);
        resolve(n);
      };
      const scan = (pt: PollTable | null): number => {
        let n = 0;
        for (const p of fds) {
          const file = this.fget(p.fd);
          if (!file) p.revents = POLLNVAL;
          else if (!file.ops.poll) p.revents = p.events & 0x5; // DEFAULT_POLLMASK ∩ events
          else p.revents = file.ops.poll(file, p.events, pt);
          if (p.revents) n++;
        }
        return n;
      };
      const pt: PollTable = {
        wake: () => {
          if (done) return;
          // Re-arm from scratch like do_poll's next pass.
          for (const c of cancels.splice(0)) c();
          const n = scan(pt);
          if (n > 0) finish(n);
          else if (deadlineCancel) cancels.push(deadlineCancel);
        },
        onCancel: (c) => {
          cancels.push(c);
        },
      };
      let deadlineCancel: (() => void) | undefined;
      const n = scan(timeoutMs === 0 ? null : pt);
      if (n > 0 || timeoutMs === 0) return finish(n);
      if (timeoutMs > 0) {
        const clock = this.kernel.clock;
        deadlineCancel = clock.setTimer(clock.now() + BigInt(Math.round(timeoutMs * 1e6)), () => {
          deadlineCancel = undefined;
          finish(0);
        });
        cancels.push(deadlineCancel);
      }
    });
  }

  /**
   * One-shot readiness watch, the way an event loop uses epoll_ctl(ADD) with
   * EPOLLONESHOT: `callback(revents)` runs once when any of `events` is
   * ready on `fd` (at once if it already is). Unlike poll(), it can be
   * cancelled, and it costs no Promise: compositors keep thousands of these.
   * The file is held while watched, as epoll holds its files.
   */
  watch(fd: number, events: number, callback: (revents: number) => void): () => void {
    const file = this.fget(fd);
    if (!file) {
      callback(POLLNVAL);
      return () => {};
    }
    if (!file.ops.poll) {
      callback(events & 0x5);
      return () => {};
    }
    const held = getFile(file);
    const cancels: (() => void)[] = [];
    let done = false;
    const finish = (revents: number): void => {
      done = true;
      for (const c of cancels.splice(0)) c();
      fput(held);
      callback(revents);
    };
    const pt: PollTable = {
      wake: () => {
        if (done) return;
        for (const c of cancels.splice(0)) c();
        const r = held.ops.poll!(held, events, pt);
        if (r) finish(r);
      },
      onCancel: (c) => {
        cancels.push(c);
      },
    };
    const r = file.ops.poll(held, events, pt);
    if (r) finish(r);
    return () => {
      if (done) return;
      done = true;
      for (const c of cancels.splice(0)) c();
      fput(held);
    };
  }

  /**
   * fstat(2): the inode behind `fd` (-EBADF if none). Files without an
   * inode of their own (sync_file, device nodes, syncobj fds) get an
   * inode number of their own, the same through every fd of that file.
   */
  fstat(fd: number): KernelStat | number {
    const file = this.fget(fd);
    const r = file ? (file.ops.getattr?.(file) ?? this.anonStat(file)) : -EBADF;
    this.trace('fstat', fd, undefined, typeof r === 'number' ? r : 0);
    return r;
  }

  private anonStat(file: KFile): KernelStat {
    let ino = anonInodes.get(file);
    if (ino === undefined) anonInodes.set(file, (ino = this.kernel.core.allocId()));
    return file.ops.devnode
      ? { st_dev: DEVTMPFS_DEV, st_ino: ino, st_mode: DEVNODE_MODE, st_size: 0n }
      : { st_dev: ANON_INODE_DEV, st_ino: ino, st_mode: ANON_INODE_MODE, st_size: 0n };
  }

  /** Process exit: every fd closed, lowest first. */
  exit(): void {
    if (this.exited) return;
    this.exited = true;
    for (let fd = 0; fd < this.fds.length; fd++) if (this.fds[fd]) this.close(fd);
    this.kernel.onExit(this);
  }

  // ---- kernel-internal helpers (not syscalls) ----

  /** fget: the open file behind `fd`, if any. */
  fget(fd: number): KFile | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.fds[fd] : undefined;
  }

  /**
   * fd_install of a file reference the caller owns. On -EMFILE the
   * reference is dropped here, so callers never leak it.
   */
  installFile(file: KFile): number {
    const max = this.maxFds;
    let fd = this.nextFd;
    while (fd < this.fds.length && this.fds[fd]) fd++;
    if (fd >= max || this.exited) {
      fput(file);
      return -EMFILE;
    }
    this.fds[fd] = file;
    this.nextFd = fd + 1;
    this.open_count++;
    return fd;
  }

  /**
   * SCM_RIGHTS: install into this process the file that `from` has at
   * `fd`. Returns this process's new fd, -EBADF or -EMFILE.
   */
  receiveFd(from: Process, fd: number): number {
    const file = from.fget(fd);
    const r = file ? this.installFile(getFile(file)) : -EBADF;
    this.trace('receive_fd', fd, from.comm, r);
    return r;
  }

  private trace(call: 'open' | 'close' | 'dup' | 'ioctl' | 'poll' | 'fstat' | 'receive_fd', fd: number, what: string | undefined, result: number): void {
    const core = this.kernel.core;
    if (!core.tracing) return;
    core.emit(
      what === undefined
        ? { type: 'syscall', t: core.now(), pid: this.pid, call, fd, result }
        : { type: 'syscall', t: core.now(), pid: this.pid, call, fd, what, result },
    );
  }
}

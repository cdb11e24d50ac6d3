/**
 * The kernel channel's contract: how a remote process makes its syscalls.
 *
 * A client's process lives in the server's Kernel; the client only holds fd
 * numbers. Its open/close/dup/fstat/ioctl/poll travel as small JSON
 * messages on the same WebSocket as its Wayland messages, in frames whose
 * channel word says "kernel" (frame-envelope.ts). This file is the contract
 * only: one discriminated union per direction and the limits both ends
 * hold to. The lossless JSON encoding is kernel-channel-codec.ts; the
 * server's dispatcher, which calls the kernel, is
 * server/kernel-channel-dispatch.ts; the client's end is client/kernel-client.ts.
 */

/** A JSON value, with bigint for 64-bit fields. */
export type KernelValue = null | boolean | number | string | bigint | KernelValue[] | { [key: string]: KernelValue };

/** client → server: one syscall. `id` is the caller's, echoed in the result. */
export type KernelCall =
  | { type: 'call'; id: number; call: 'open'; path: string }
  | { type: 'call'; id: number; call: 'close'; fd: number }
  | { type: 'call'; id: number; call: 'dup'; fd: number }
  | { type: 'call'; id: number; call: 'fstat'; fd: number }
  | { type: 'call'; id: number; call: 'ioctl'; fd: number; request: number; arg?: KernelValue }
  | { type: 'call'; id: number; call: 'poll'; fds: { fd: number; events: number }[]; timeout: number };

export type KernelCallName = KernelCall['call'];

/**
 * server → client: the syscall's return value (>= 0 or -errno). For ioctl with
 * a struct argument, `arg` is the struct after the call (its output fields
 * written); for fstat, `arg` is the KernelStat (result 0); for poll,
 * `revents` has one entry per polled fd.
 */
export interface KernelResult {
  type: 'result';
  id: number;
  result: number;
  arg?: KernelValue;
  revents?: number[];
}

/**
 * server → client: an asynchronous notification not tied to a call (vgpu
 * "job runnable"). Not the kernel model's trace events (shared/kernel/events.ts).
 */
export interface KernelNotification {
  type: 'event';
  name: string;
  data: KernelValue;
}

export type KernelMessage = KernelCall | KernelResult | KernelNotification;

/**
 * struct stat as fstat answers it: the kernel model's own type (st_ino of a
 * dma-buf is its id, the number trace events call `buf`).
 */
export type { KernelStat } from '../kernel/process';

// ---- limits ----

/** Deepest nesting a decoded value may have; deeper is -EFAULT (uapi structs are 3 deep at most). */
export const MAX_VALUE_DEPTH = 8;
/** Longest array in a decoded value; longer is -EFAULT (the frame cap bounds it anyway). */
export const MAX_ARRAY_LENGTH = 65_536;
/** PATH_MAX, including the NUL. */
export const PATH_MAX = 4096;
/** Calls one process may have waiting at once (pending polls and waits); beyond: -EAGAIN. */
export const MAX_PENDING_CALLS = 4096;

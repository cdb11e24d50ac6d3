/**
 * What the client library needs from a process and its connection: the
 * syscalls (KernelApi) and, for a window, the Wayland connection and a way
 * to bind globals (ClientEnv). HandoffClient (connection.ts, over a
 * WebSocket) fits both as it is; tests build one around an in-memory socket
 * pair and an in-process Process (client/node/process-kernel.ts), so the
 * same client code runs against both.
 */
import type { ClientConnection, Proxy } from '../../shared/protocol/client';
import type { InterfaceSpec } from '../../shared/protocol/spec';
import type { InterfaceName } from '../../shared/protocol/generated/index';
import type { KernelStat, PollFd } from '../../shared/kernel/process';

// One poll(2) entry and one fstat(2) answer are the same structs on both
// sides of the channel: the kernel model's types, not second ones of the
// same names. For a dma-buf, `st_ino` is its identity (the number trace
// events call `buf`) and `st_size` its size.
export type { KernelStat, PollFd } from '../../shared/kernel/process';

/** The syscalls of KERNEL-API.md, awaitable (remote calls are async). Each answers >= 0 or -errno. */
export interface KernelApi {
  open(path: string): Promise<number>;
  close(fd: number): Promise<number>;
  dup(fd: number): Promise<number>;
  ioctl(fd: number, request: number, arg?: object | number): Promise<number>;
  poll(fds: PollFd[], timeoutMs: number): Promise<number>;
  /** fstat(2): the file's identity and size, or -errno (-EBADF for a bad fd). */
  fstat(fd: number): Promise<KernelStat | number>;
}

export interface ClientEnv {
  readonly wayland: ClientConnection;
  readonly kernel: KernelApi;
  bind<N extends InterfaceName>(spec: InterfaceSpec<N>, version?: number): Proxy<N>;
  flush(): void;
  roundtrip(): Promise<number>;
}

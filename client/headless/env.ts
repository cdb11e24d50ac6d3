/**
 * What a headless client needs from its connection: the Wayland
 * connection, a way to bind globals, and the kernel calls of its process.
 * HandoffClient (client/client.ts, over a WebSocket) fits as it is; tests
 * build one around an in-memory socket pair and an in-process Process
 * (inProcessEnv), so the same client code runs against both.
 */
import type { ClientConnection, Proxy } from '../../shared/protocol/client';
import type { InterfaceSpec } from '../../shared/protocol/spec';
import type { InterfaceName } from '../../shared/protocol/generated/index';
import type { Process, PollFd } from '../../shared/kernel/process';

/** The syscalls of KERNEL-API.md, awaitable (remote calls are async). */
export interface KernelApi {
  open(path: string): Promise<number>;
  close(fd: number): Promise<number>;
  dup(fd: number): Promise<number>;
  ioctl(fd: number, request: number, arg?: object | number): Promise<number>;
  poll(fds: PollFd[], timeoutMs: number): Promise<number>;
}

export interface ClientEnv {
  readonly wayland: ClientConnection;
  readonly kernel: KernelApi;
  bind<N extends InterfaceName>(spec: InterfaceSpec<N>, version?: number): Proxy<N>;
  flush(): void;
  roundtrip(): Promise<number>;
}

/** A Process's syscalls as a KernelApi (the in-process test path). */
export function processKernel(proc: Process): KernelApi {
  return {
    open: async (path) => proc.open(path),
    close: async (fd) => proc.close(fd),
    dup: async (fd) => proc.dup(fd),
    ioctl: async (fd, request, arg) => proc.ioctl(fd, request, arg),
    poll: (fds, timeoutMs) => proc.poll(fds, timeoutMs),
  };
}

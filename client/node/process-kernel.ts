/**
 * A Process's syscalls as a KernelApi: the in-process path, where a client
 * runs in the same program as the kernel model (the compositor tests'
 * harness, fixtures). The calls answer exactly what the Process answers;
 * they are only made awaitable, as the remote ones are.
 */
import type { Process } from '../../shared/kernel/process';
import type { KernelApi } from '../core/kernel-api';

export function processKernel(proc: Process): KernelApi {
  return {
    open: async (path) => proc.open(path),
    close: async (fd) => proc.close(fd),
    dup: async (fd) => proc.dup(fd),
    ioctl: async (fd, request, arg) => proc.ioctl(fd, request, arg),
    poll: (fds, timeoutMs) => proc.poll(fds, timeoutMs),
    fstat: async (fd) => proc.fstat(fd),
  };
}

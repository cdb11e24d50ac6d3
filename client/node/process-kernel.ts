/**
 * A Process's syscalls as a KernelApi: the in-process path, where a client
 * runs in the same program as the kernel model (the compositor tests'
 * harness, fixtures). The calls answer exactly what the Process answers;
 * they are only made awaitable, as the remote ones are.
 */
import { ENOSYS } from '../../shared/kernel/errno';
import type { Process } from '../../shared/kernel/process';
import type { KernelApi, KernelStat } from '../core/kernel-api';

/**
 * Process.fstat arrives with UAPI-PLAN §1 (the kernel side). Until it is in
 * the model, fstat answers -ENOSYS, as a kernel without the syscall would;
 * once it is, this probe finds it and the type's optional member can go.
 */
type ProcessWithFstat = Process & { fstat?: (fd: number) => KernelStat | number };

export function processKernel(proc: Process): KernelApi {
  const p: ProcessWithFstat = proc;
  return {
    open: async (path) => proc.open(path),
    close: async (fd) => proc.close(fd),
    dup: async (fd) => proc.dup(fd),
    ioctl: async (fd, request, arg) => proc.ioctl(fd, request, arg),
    poll: (fds, timeoutMs) => proc.poll(fds, timeoutMs),
    fstat: async (fd) => (typeof p.fstat === 'function' ? p.fstat(fd) : -ENOSYS),
  };
}

/**
 * Linux errno values (asm-generic/errno-base.h, errno.h) as positive numbers.
 * Kernel calls return them negated, exactly as syscalls do before libc.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ENOSPC = 28;
export const ERANGE = 34;
export const EDEADLK = 35;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ENODATA = 61;
export const ETIME = 62;
export const EPROTO = 71;
export const EOPNOTSUPP = 95;
export const ETIMEDOUT = 110;
export const ECANCELED = 125;
/** Kernel-internal: a wait interrupted by a signal; libc restarts the call. */
export const ERESTARTSYS = 512;
/** Largest errno a fence error may carry (include/linux/err.h). */
export const MAX_ERRNO = 4095;

const NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [EINTR]: 'EINTR', [EIO]: 'EIO', [E2BIG]: 'E2BIG',
  [EBADF]: 'EBADF', [EAGAIN]: 'EAGAIN', [ENOMEM]: 'ENOMEM', [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST', [ENODEV]: 'ENODEV', [EINVAL]: 'EINVAL',
  [ENFILE]: 'ENFILE', [EMFILE]: 'EMFILE', [ENOTTY]: 'ENOTTY', [ENOSPC]: 'ENOSPC',
  [ERANGE]: 'ERANGE', [EDEADLK]: 'EDEADLK', [ENAMETOOLONG]: 'ENAMETOOLONG', [ENOSYS]: 'ENOSYS', [ENODATA]: 'ENODATA',
  [ETIME]: 'ETIME', [EPROTO]: 'EPROTO', [EOPNOTSUPP]: 'EOPNOTSUPP',
  [ETIMEDOUT]: 'ETIMEDOUT', [ECANCELED]: 'ECANCELED', [ERESTARTSYS]: 'ERESTARTSYS',
};

/** 'EINVAL' for 22 or -22; the number itself for an unknown value. */
export function errnoName(e: number): string {
  return NAMES[Math.abs(e)] ?? String(e);
}

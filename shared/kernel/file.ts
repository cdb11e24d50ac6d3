/**
 * Open files (struct file): what an fd points at. A file has ops (the
 * file_operations of its driver), private data, and a reference count shared
 * by every fd, in any process, that refers to it (dup, fd passing). The last
 * fput releases it, as in fs/file_table.c.
 *
 * Also here: typed ioctl descriptors, so each driver declares a request once
 * with its struct schema and gets a validated argument; and what fstat
 * reports of a file's inode.
 */
import { EFAULT } from './errno';
import { S_IFCHR, S_IFREG } from './uapi';
import { checkStruct, type StructOf, type StructSchema } from './uapi-structs';
import type { KernelStat, Process } from './process';

/**
 * The poll_table handed to a file's poll: the file calls `wake` when its
 * readiness may have changed and registers how to undo its hooks.
 */
export interface PollTable {
  wake(): void;
  onCancel(cancel: () => void): void;
}

export interface FileOps {
  /** Short kind name for traces: 'sync_file', 'dmabuf', 'sw_sync', 'drm', 'dma_heap', 'syncobj'. */
  readonly name: string;
  ioctl?(file: KFile, proc: Process, request: number, arg: unknown): number | Promise<number>;
  /** The ready subset of `events` (POLLIN/POLLOUT/...); arm `pt` if given. */
  poll?(file: KFile, events: number, pt: PollTable | null): number;
  /** Called once, when the last reference is dropped. */
  release?(file: KFile): void;
  /**
   * The inode's attributes, for files that have an inode of their own
   * (the dma-buf filesystem's). Without it, fstat reports an anonymous
   * inode, or a device node's if `devnode` is set.
   */
  getattr?(file: KFile): KernelStat;
  /** Opened through a /dev path (a character device node). */
  readonly devnode?: boolean;
}

export interface KFile {
  readonly ops: FileOps;
  readonly priv: unknown;
  readonly id: number;
  refs: number;
}

/**
 * st_dev of the model's filesystems (only equality means anything): the
 * anonymous inodes' (sync_file, syncobj fds), the dma-buf filesystem's,
 * and devtmpfs (/dev nodes).
 */
export const ANON_INODE_DEV = 1;
export const DMABUF_FS_DEV = 2;
export const DEVTMPFS_DEV = 3;

let nextFileId = 1;

/** alloc_file: a new file holding one reference (the caller's). */
export function allocFile(ops: FileOps, priv: unknown): KFile {
  return { ops, priv, id: nextFileId++, refs: 1 };
}

/** get_file */
export function getFile(file: KFile): KFile {
  file.refs++;
  return file;
}

/** fput: drop a reference; the last one releases the file. */
export function fput(file: KFile): void {
  if (file.refs <= 0) throw new Error(`fput on released file ${file.ops.name}#${file.id}`);
  file.refs--;
  if (file.refs === 0) file.ops.release?.(file);
}

/** The private data of `file` if it is a file of kind `ops` (f_op == &xxx_fops). */
export function filePriv<T>(file: KFile | undefined, ops: FileOps): T | undefined {
  return file && file.ops === ops ? (file.priv as T) : undefined;
}

/** alloc_anon_inode's mode: S_IRUSR | S_IWUSR on a regular-file inode. */
export const ANON_INODE_MODE = S_IFREG | 0o600;
/** A device node's mode (crw-rw-rw-, as udev leaves render nodes). */
export const DEVNODE_MODE = S_IFCHR | 0o666;

/** One ioctl request of a driver, with its argument check built in. */
export interface IoctlDesc<C> {
  readonly request: number;
  invoke(ctx: C, proc: Process, arg: unknown): number | Promise<number>;
}

/** An ioctl whose argument is a struct: a malformed one fails -EFAULT. */
export function structIoctl<C, S extends StructSchema>(
  request: number,
  schema: S,
  handler: (ctx: C, proc: Process, arg: StructOf<S>) => number | Promise<number>,
): IoctlDesc<C> {
  return {
    request,
    invoke: (ctx, proc, arg) => (checkStruct(schema, arg) ? handler(ctx, proc, arg) : -EFAULT),
  };
}

/** An ioctl whose argument is a plain __u32 (SW_SYNC_IOC_INC). */
export function u32Ioctl<C>(
  request: number,
  handler: (ctx: C, proc: Process, value: number) => number | Promise<number>,
): IoctlDesc<C> {
  return {
    request,
    invoke: (ctx, proc, arg) =>
      typeof arg === 'number' && Number.isInteger(arg) && arg >= 0 && arg <= 0xffff_ffff
        ? handler(ctx, proc, arg)
        : -EFAULT,
  };
}

export function ioctlTable<C>(descs: readonly IoctlDesc<C>[]): ReadonlyMap<number, IoctlDesc<C>> {
  return new Map(descs.map((d) => [d.request >>> 0, d]));
}

/**
 * A driver's fops->unlocked_ioctl built from its table: the handler of the
 * request, on the file's private data (a `C`), or `unknownRequest` for a
 * request not in the table: -ENOTTY, as vfs_ioctl; drm_ioctl says -EINVAL.
 */
export function ioctlDispatch<C>(descs: readonly IoctlDesc<C>[], unknownRequest: number): NonNullable<FileOps['ioctl']> {
  const table = ioctlTable(descs);
  return (file, proc, request, arg) => {
    const desc = table.get(request);
    return desc ? desc.invoke(file.priv as C, proc, arg) : unknownRequest;
  };
}

/**
 * sync_file: a file descriptor wrapping exactly one dma_fence, the way
 * fences cross process and API boundaries (drivers/dma-buf/sync_file.c,
 * include/uapi/linux/sync_file.h).
 *
 * The fence may be a container (an array from a merge, a chain node); the
 * sync_file itself is immutable. Userspace can merge two sync_files into a
 * new one (SYNC_IOC_MERGE, the lossy dma_fence_unwrap_merge), ask what is
 * inside (SYNC_IOC_FILE_INFO) and poll it: POLLIN once the fence has
 * signaled, error or not.
 */
import * as dmaFence from './dma-fence';
import type { DmaFence, DmaFenceCb } from './dma-fence';
import { merge, unwrap } from './dma-fence-unwrap';
import { EINVAL, EMFILE, ENOENT, ENOTTY } from './errno';
import { allocFile, filePriv, ioctlDispatch, structIoctl, type FileOps, type IoctlDesc, type KFile, type PollTable } from './file';
import type { Process } from './process';
import { POLLIN, SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, SYNC_IOC_SET_DEADLINE } from './uapi';
import { sync_file_info, sync_merge_data, truncateName, type SyncFenceInfo } from './uapi-structs';

export interface SyncFile {
  readonly fence: DmaFence;
  /** The name given at SYNC_IOC_MERGE; null: computed from the fence. */
  userName: string | null;
  /** POLL_ENABLED: the one fence callback that wakes pollers is armed (or was). */
  pollEnabled: boolean;
  /** sync_file->cb */
  readonly cb: DmaFenceCb;
  /** sync_file->wq: the wake functions of the polls waiting on this file. */
  readonly wq: Set<() => void>;
}

/**
 * get_unused_fd_flags() succeeds: the process has a free fd below its
 * limit. Ioctls that create an fd check this first, as Linux reserves the
 * fd before doing any work, so -EMFILE comes before other errors and with
 * no side effect.
 */
export function fdAvailable(proc: Process): boolean {
  return !proc.isExited && proc.fdCount < proc.kernel.maxFds;
}

/** sync_file_create: a new sync_file file holding `fence` (one reference, the caller's). */
export function syncFileCreate(fence: DmaFence, userName: string | null = null): KFile {
  const wq = new Set<() => void>();
  const sf: SyncFile = {
    fence,
    userName,
    pollEnabled: false,
    // fence_check_cb_func: wake every poller; each re-polls.
    cb: { func: () => wakeAll(wq) },
    wq,
  };
  return allocFile(syncFileFops, sf);
}

/** The SyncFile behind a file, if it is one (sync_file_fdget). */
export function syncFileFromFile(file: KFile | undefined): SyncFile | undefined {
  return filePriv<SyncFile>(file, syncFileFops);
}

/** sync_file_get_fence: the fence of a sync_file, or undefined if `file` is not one. */
export function syncFileGetFence(file: KFile | undefined): DmaFence | undefined {
  return syncFileFromFile(file)?.fence;
}

/** sync_file_create + fd_install: a new fd in `proc`, or -EMFILE. */
export function installSyncFile(proc: Process, fence: DmaFence, userName: string | null = null): number {
  if (!fdAvailable(proc)) return -EMFILE;
  return proc.installFile(syncFileCreate(fence, userName));
}

/**
 * sync_file_get_name: the merge-time name, else
 * "<driver>-<timeline><context>-<seqno>" (snprintf "%s-%s%llu-%lld").
 */
export function syncFileGetName(sf: SyncFile): string {
  if (sf.userName) return truncateName(sf.userName);
  const f = sf.fence;
  return truncateName(
    `${dmaFence.driverName(f)}-${dmaFence.timelineName(f)}${f.context}-${BigInt.asIntN(64, f.seqno)}`,
  );
}

function wakeAll(wq: Set<() => void>): void {
  // Copy first: a woken poll re-polls and may re-register.
  for (const wake of [...wq]) wake();
}

/**
 * sync_file_poll: register the poller, arm the single fence callback on
 * first use (this enables signaling), and report POLLIN iff the fence has
 * signaled, with or without an error: an error never means POLLERR.
 */
function syncFilePoll(sf: SyncFile, events: number, pt: PollTable | null): number {
  if (pt) {
    const wake = (): void => pt.wake();
    sf.wq.add(wake);
    pt.onCancel(() => sf.wq.delete(wake));
  }
  if (!sf.pollEnabled) {
    sf.pollEnabled = true;
    // A callback refused because the fence has signaled needs no wake-up
    // here: the check below reports POLLIN to this very poll.
    dmaFence.addCallback(sf.fence, sf.cb);
  }
  return dmaFence.isSignaled(sf.fence) ? events & POLLIN : 0;
}

/** sync_fill_fence_info: one entry of FILE_INFO; returns the entry's status. */
function fillFenceInfo(fence: DmaFence): SyncFenceInfo {
  const status = dmaFence.getStatus(fence);
  return {
    obj_name: truncateName(dmaFence.timelineName(fence)),
    driver_name: truncateName(dmaFence.driverName(fence)),
    status,
    flags: 0,
    timestamp_ns: fence.signaled ? fence.timestamp : 0n,
  };
}

/** struct sync_set_deadline */
const sync_set_deadline = { deadline_ns: 'u64', pad: 'u64' } as const;

const SYNC_FILE_IOCTLS: readonly IoctlDesc<SyncFile>[] = [
  /**
   * SYNC_IOC_MERGE: a new sync_file with dma_fence_unwrap_merge(a, b). The
   * fd is reserved first (-EMFILE), then flags/pad (-EINVAL), then fd2 must
   * be a sync_file (-ENOENT, not -EBADF or -EINVAL). The name is cut to 31
   * bytes; an empty name means "compute it from the fence".
   */
  structIoctl(SYNC_IOC_MERGE, sync_merge_data, (sf, proc, data) => {
    if (!fdAvailable(proc)) return -EMFILE;
    if (data.flags !== 0 || data.pad !== 0) return -EINVAL;
    const other = syncFileFromFile(proc.fget(data.fd2));
    if (!other) return -ENOENT;
    const fence = merge(sf.fence.core, [sf.fence, other.fence]);
    const name = truncateName(data.name);
    const fd = installSyncFile(proc, fence, name === '' ? null : name);
    if (fd < 0) return fd;
    data.fence = fd;
    return 0;
  }),
  /**
   * SYNC_IOC_FILE_INFO. N = the number of fences after unwrapping. With
   * num_fences 0 the caller only learns N and the whole fence's status.
   * Otherwise num_fences < N is -EINVAL (no truncation) and N entries are
   * written; the status is then folded over the entries: the first entry
   * that is pending (0) or failed (<0) decides, else 1.
   */
  structIoctl(SYNC_IOC_FILE_INFO, sync_file_info, (sf, _proc, info) => {
    if (info.flags !== 0 || info.pad !== 0) return -EINVAL;
    const fences = unwrap(sf.fence);
    const n = fences.length;
    if (info.num_fences === 0) {
      info.status = dmaFence.getStatus(sf.fence);
    } else {
      if (info.num_fences < n) return -EINVAL;
      let status = 1;
      const out = info.sync_fence_info;
      fences.forEach((f, i) => {
        const entry = fillFenceInfo(f);
        status = status <= 0 ? status : entry.status;
        out[i] = entry;
      });
      info.status = status;
    }
    info.name = syncFileGetName(sf);
    info.num_fences = n;
    return 0;
  }),
  /**
   * SYNC_IOC_SET_DEADLINE: a hint for the fence's driver (dma_fence_set_deadline);
   * no model driver boosts clocks, so only the pad check has an effect.
   */
  structIoctl(SYNC_IOC_SET_DEADLINE, sync_set_deadline, (_sf, _proc, arg) => (arg.pad !== 0n ? -EINVAL : 0)),
];

export const syncFileFops: FileOps = {
  name: 'sync_file',
  ioctl: ioctlDispatch(SYNC_FILE_IOCTLS, -ENOTTY),
  poll(file, events, pt) {
    return syncFilePoll(file.priv as SyncFile, events, pt);
  },
  release(file) {
    const sf = file.priv as SyncFile;
    if (sf.pollEnabled) dmaFence.removeCallback(sf.fence, sf.cb);
  },
};

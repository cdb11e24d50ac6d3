/**
 * uapi request numbers, flags and poll bits under their Linux names, with the
 * values Linux has on x86-64. Request numbers are built with the _IOC macros
 * of asm-generic/ioctl.h so that each one visibly follows from its struct size.
 */

const IOC_WRITE = 1;
const IOC_READ = 2;

function ioc(dir: number, type: string, nr: number, size: number): number {
  // dir<<30 | size<<16 | type<<8 | nr, kept unsigned.
  return ((dir << 30) | (size << 16) | (type.charCodeAt(0) << 8) | nr) >>> 0;
}
const IOW = (type: string, nr: number, size: number): number => ioc(IOC_WRITE, type, nr, size);
const IOWR = (type: string, nr: number, size: number): number => ioc(IOC_READ | IOC_WRITE, type, nr, size);

// include/uapi/linux/dma-buf.h
export const DMA_BUF_SYNC_READ = 1 << 0;
export const DMA_BUF_SYNC_WRITE = 2 << 0;
export const DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
export const DMA_BUF_SYNC_START = 0 << 2;
export const DMA_BUF_SYNC_END = 1 << 2;
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;
/** struct dma_buf_sync { __u64 flags; } */
export const DMA_BUF_IOCTL_SYNC = IOW('b', 0, 8);
/** struct dma_buf_export_sync_file { __u32 flags; __s32 fd; } */
export const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = IOWR('b', 2, 8);
/** struct dma_buf_import_sync_file { __u32 flags; __s32 fd; } */
export const DMA_BUF_IOCTL_IMPORT_SYNC_FILE = IOW('b', 3, 8);

// include/uapi/linux/stat.h: the st_mode file types fstat reports
export const S_IFMT = 0o170000;
export const S_IFCHR = 0o020000;
export const S_IFREG = 0o100000;

// include/uapi/linux/dma-heap.h: struct dma_heap_allocation_data { u64 len; u32 fd; u32 fd_flags; u64 heap_flags; }
export const DMA_HEAP_IOCTL_ALLOC = IOWR('H', 0, 24);
export const O_CLOEXEC = 0o2000000;
export const O_RDWR = 0o2;
export const DMA_HEAP_VALID_FD_FLAGS = O_CLOEXEC | O_RDWR | 0o3; // O_ACCMODE | O_CLOEXEC
export const DMA_HEAP_VALID_HEAP_FLAGS = 0n;

// include/uapi/linux/sync_file.h
/** struct sync_merge_data { char name[32]; __s32 fd2; __s32 fence; __u32 flags; __u32 pad; } */
export const SYNC_IOC_MERGE = IOWR('>', 3, 48);
/** struct sync_file_info { char name[32]; __s32 status; __u32 flags; __u32 num_fences; __u32 pad; __u64 sync_fence_info; } */
export const SYNC_IOC_FILE_INFO = IOWR('>', 4, 56);
/** struct sync_set_deadline { __u64 deadline_ns; __u64 pad; } (Linux 6.3+) */
export const SYNC_IOC_SET_DEADLINE = IOW('>', 5, 16);

// drivers/dma-buf/sw_sync.c
/** struct sw_sync_create_fence_data { __u32 value; char name[32]; __s32 fence; } */
export const SW_SYNC_IOC_CREATE_FENCE = IOWR('W', 0, 40);
export const SW_SYNC_IOC_INC = IOW('W', 1, 4);

// include/uapi/drm/drm.h
const DRM_IOWR = (nr: number, size: number): number => IOWR('d', nr, size);
/** struct drm_syncobj_create { __u32 handle; __u32 flags; } */
export const DRM_IOCTL_SYNCOBJ_CREATE = DRM_IOWR(0xbf, 8);
/** struct drm_syncobj_destroy { __u32 handle; __u32 pad; } */
export const DRM_IOCTL_SYNCOBJ_DESTROY = DRM_IOWR(0xc0, 8);
/** struct drm_syncobj_handle { __u32 handle; __u32 flags; __s32 fd; __u32 pad; __u64 point; } */
export const DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD = DRM_IOWR(0xc1, 24);
export const DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE = DRM_IOWR(0xc2, 24);
/** struct drm_syncobj_wait { __u64 handles; __s64 timeout_nsec; __u32 count_handles; __u32 flags; __u32 first_signaled; __u32 pad; __u64 deadline_nsec; } */
export const DRM_IOCTL_SYNCOBJ_WAIT = DRM_IOWR(0xc3, 40);
/** struct drm_syncobj_array { __u64 handles; __u32 count_handles; __u32 pad; } */
export const DRM_IOCTL_SYNCOBJ_RESET = DRM_IOWR(0xc4, 16);
export const DRM_IOCTL_SYNCOBJ_SIGNAL = DRM_IOWR(0xc5, 16);
/** struct drm_syncobj_timeline_wait { __u64 handles; __u64 points; __s64 timeout_nsec; __u32 count_handles; __u32 flags; __u32 first_signaled; __u32 pad; __u64 deadline_nsec; } */
export const DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT = DRM_IOWR(0xca, 48);
/** struct drm_syncobj_timeline_array { __u64 handles; __u64 points; __u32 count_handles; __u32 flags; } */
export const DRM_IOCTL_SYNCOBJ_QUERY = DRM_IOWR(0xcb, 24);
/** struct drm_syncobj_transfer { __u32 src_handle; __u32 dst_handle; __u64 src_point; __u64 dst_point; __u32 flags; __u32 pad; } */
export const DRM_IOCTL_SYNCOBJ_TRANSFER = DRM_IOWR(0xcc, 32);
export const DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL = DRM_IOWR(0xcd, 24);

/** Driver-private ioctls start here (DRM_COMMAND_BASE). */
export const DRM_COMMAND_BASE = 0x40;
export { DRM_IOWR as drmIowr };

export const DRM_SYNCOBJ_CREATE_SIGNALED = 1 << 0;
export const DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE = 1 << 0;
export const DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE = 1 << 1;
export const DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE = 1 << 0;
export const DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE = 1 << 1;
export const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL = 1 << 0;
export const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT = 1 << 1;
export const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE = 1 << 2;
export const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE = 1 << 3;
export const DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED = 1 << 0;

// include/uapi/asm-generic/poll.h
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

const REQUEST_NAMES: ReadonlyMap<number, string> = new Map([
  [DMA_BUF_IOCTL_SYNC, 'DMA_BUF_IOCTL_SYNC'],
  [DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE'],
  [DMA_BUF_IOCTL_IMPORT_SYNC_FILE, 'DMA_BUF_IOCTL_IMPORT_SYNC_FILE'],
  [DMA_HEAP_IOCTL_ALLOC, 'DMA_HEAP_IOCTL_ALLOC'],
  [SYNC_IOC_MERGE, 'SYNC_IOC_MERGE'],
  [SYNC_IOC_FILE_INFO, 'SYNC_IOC_FILE_INFO'],
  [SYNC_IOC_SET_DEADLINE, 'SYNC_IOC_SET_DEADLINE'],
  [SW_SYNC_IOC_CREATE_FENCE, 'SW_SYNC_IOC_CREATE_FENCE'],
  [SW_SYNC_IOC_INC, 'SW_SYNC_IOC_INC'],
  [DRM_IOCTL_SYNCOBJ_CREATE, 'DRM_IOCTL_SYNCOBJ_CREATE'],
  [DRM_IOCTL_SYNCOBJ_DESTROY, 'DRM_IOCTL_SYNCOBJ_DESTROY'],
  [DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, 'DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD'],
  [DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, 'DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE'],
  [DRM_IOCTL_SYNCOBJ_WAIT, 'DRM_IOCTL_SYNCOBJ_WAIT'],
  [DRM_IOCTL_SYNCOBJ_RESET, 'DRM_IOCTL_SYNCOBJ_RESET'],
  [DRM_IOCTL_SYNCOBJ_SIGNAL, 'DRM_IOCTL_SYNCOBJ_SIGNAL'],
  [DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, 'DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT'],
  [DRM_IOCTL_SYNCOBJ_QUERY, 'DRM_IOCTL_SYNCOBJ_QUERY'],
  [DRM_IOCTL_SYNCOBJ_TRANSFER, 'DRM_IOCTL_SYNCOBJ_TRANSFER'],
  [DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, 'DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL'],
]);

const extraNames = new Map<number, string>();

/** Let a driver module name its private requests (vgpu does). */
export function registerRequestName(request: number, name: string): void {
  extraNames.set(request >>> 0, name);
}

/** The uapi name of a request number, or its hex form. */
export function requestName(request: number): string {
  const r = request >>> 0;
  return REQUEST_NAMES.get(r) ?? extraNames.get(r) ?? `0x${r.toString(16)}`;
}

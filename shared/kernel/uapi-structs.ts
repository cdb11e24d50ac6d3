/**
 * The uapi structs, declared once as schemas. The TypeScript type of each
 * struct is derived from its schema, and the same schema validates an ioctl
 * argument at the syscall boundary (Process.ioctl and the kernel channel), so
 * handlers can trust their arguments the way kernel code trusts a struct
 * after copy_from_user. A malformed argument fails with -EFAULT, as a bad
 * user pointer would.
 *
 * Mechanical changes from C (KERNEL-API.md): a user pointer plus a count is
 * an array; 64-bit fields are bigint; char name[32] is a string.
 */

export type FieldKind =
  | 'u32'
  | 's32'
  | 'u64'
  | 's64'
  /** char name[32] */
  | 'name'
  /** user pointer to __u32[] (input: the kernel reads count entries) */
  | 'u32[]'
  /** user pointer to __u64[] */
  | 'u64[]'
  /** user pointer to __u64[] that may be NULL (null or undefined) */
  | 'u64[]?'
  /** user pointer the kernel writes through (an array it fills) */
  | 'out[]';

type KindType<K extends FieldKind> = K extends 'u32' | 's32'
  ? number
  : K extends 'u64' | 's64'
    ? bigint
    : K extends 'name'
      ? string
      : K extends 'u32[]'
        ? number[]
        : K extends 'u64[]'
          ? bigint[]
          : K extends 'u64[]?'
            ? bigint[] | null | undefined
            : unknown[];

export type StructSchema = Readonly<Record<string, FieldKind>>;
export type StructOf<S extends StructSchema> = { -readonly [K in keyof S]: KindType<S[K]> };

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

function isU32(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}
function isS32(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= -0x8000_0000 && v <= 0x7fff_ffff;
}
function isU64(v: unknown): boolean {
  return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
}
function isS64(v: unknown): boolean {
  return typeof v === 'bigint' && v >= S64_MIN && v <= S64_MAX;
}

function fieldOk(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'u32':
      return isU32(v);
    case 's32':
      return isS32(v);
    case 'u64':
      return isU64(v);
    case 's64':
      return isS64(v);
    case 'name':
      return typeof v === 'string';
    case 'u32[]':
      return Array.isArray(v) && v.every(isU32);
    case 'u64[]':
      return Array.isArray(v) && v.every(isU64);
    case 'u64[]?':
      return v === null || v === undefined || (Array.isArray(v) && v.every(isU64));
    case 'out[]':
      return Array.isArray(v);
  }
}

/** True iff `arg` is an object whose fields match the schema (copy_from_user succeeded). */
export function checkStruct<S extends StructSchema>(schema: S, arg: unknown): arg is StructOf<S> {
  if (typeof arg !== 'object' || arg === null) return false;
  const rec = arg as Record<string, unknown>;
  for (const [field, kind] of Object.entries(schema)) {
    if (!fieldOk(kind, rec[field])) return false;
  }
  return true;
}

/** UTF-8 length of one code point. */
function utf8Len(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * char name[32]: at most 31 bytes of UTF-8 survive before the NUL. Cut at a
 * code point boundary (the kernel cuts bytes; a half sequence would not be
 * representable as a JS string).
 */
export function truncateName(name: string): string {
  let bytes = 0;
  let out = '';
  for (const ch of name) {
    const n = utf8Len(ch.codePointAt(0) ?? 0);
    if (bytes + n > 31) break;
    bytes += n;
    out += ch;
  }
  return out;
}

// include/uapi/linux/dma-buf.h
export const dma_buf_sync = { flags: 'u64' } as const;
export const dma_buf_export_sync_file = { flags: 'u32', fd: 's32' } as const;
export const dma_buf_import_sync_file = { flags: 'u32', fd: 's32' } as const;
// include/uapi/linux/dma-heap.h
export const dma_heap_allocation_data = { len: 'u64', fd: 'u32', fd_flags: 'u32', heap_flags: 'u64' } as const;
// include/uapi/linux/sync_file.h
export const sync_merge_data = { name: 'name', fd2: 's32', fence: 's32', flags: 'u32', pad: 'u32' } as const;
export const sync_file_info = {
  name: 'name',
  status: 's32',
  flags: 'u32',
  num_fences: 'u32',
  pad: 'u32',
  sync_fence_info: 'out[]',
} as const;
// drivers/dma-buf/sw_sync.c
export const sw_sync_create_fence_data = { value: 'u32', name: 'name', fence: 's32' } as const;
// include/uapi/drm/drm.h
export const drm_syncobj_create = { handle: 'u32', flags: 'u32' } as const;
export const drm_syncobj_destroy = { handle: 'u32', pad: 'u32' } as const;
export const drm_syncobj_handle = { handle: 'u32', flags: 'u32', fd: 's32', pad: 'u32', point: 'u64' } as const;
export const drm_syncobj_wait = {
  handles: 'u32[]',
  timeout_nsec: 's64',
  count_handles: 'u32',
  flags: 'u32',
  first_signaled: 'u32',
  pad: 'u32',
  deadline_nsec: 'u64',
} as const;
export const drm_syncobj_timeline_wait = {
  handles: 'u32[]',
  points: 'u64[]',
  timeout_nsec: 's64',
  count_handles: 'u32',
  flags: 'u32',
  first_signaled: 'u32',
  pad: 'u32',
  deadline_nsec: 'u64',
} as const;
export const drm_syncobj_array = { handles: 'u32[]', count_handles: 'u32', pad: 'u32' } as const;
/** QUERY writes `points`; TIMELINE_SIGNAL reads it (NULL means all zero). */
export const drm_syncobj_timeline_array = { handles: 'u32[]', points: 'u64[]?', count_handles: 'u32', flags: 'u32' } as const;
export const drm_syncobj_transfer = {
  src_handle: 'u32',
  dst_handle: 'u32',
  src_point: 'u64',
  dst_point: 'u64',
  flags: 'u32',
  pad: 'u32',
} as const;

export type DmaBufSync = StructOf<typeof dma_buf_sync>;
export type DmaBufExportSyncFile = StructOf<typeof dma_buf_export_sync_file>;
export type DmaBufImportSyncFile = StructOf<typeof dma_buf_import_sync_file>;
export type DmaHeapAllocationData = StructOf<typeof dma_heap_allocation_data>;
export type SyncMergeData = StructOf<typeof sync_merge_data>;
export type SyncFileInfo = StructOf<typeof sync_file_info>;
export type SwSyncCreateFenceData = StructOf<typeof sw_sync_create_fence_data>;
export type DrmSyncobjCreate = StructOf<typeof drm_syncobj_create>;
export type DrmSyncobjDestroy = StructOf<typeof drm_syncobj_destroy>;
export type DrmSyncobjHandle = StructOf<typeof drm_syncobj_handle>;
export type DrmSyncobjWait = StructOf<typeof drm_syncobj_wait>;
export type DrmSyncobjTimelineWait = StructOf<typeof drm_syncobj_timeline_wait>;
export type DrmSyncobjArray = StructOf<typeof drm_syncobj_array>;
export type DrmSyncobjTimelineArray = StructOf<typeof drm_syncobj_timeline_array>;
export type DrmSyncobjTransfer = StructOf<typeof drm_syncobj_transfer>;

/** struct sync_fence_info, as FILE_INFO writes it. */
export interface SyncFenceInfo {
  obj_name: string;
  driver_name: string;
  status: number;
  flags: number;
  timestamp_ns: bigint;
}

/**
 * The vgpu driver's uapi (what include/uapi/drm/vgpu_drm.h would hold): its
 * ioctl numbers, flags and structs. The shapes follow msm's
 * DRM_IOCTL_MSM_GEM_SUBMIT and submitqueues, with buffers named by dma-buf
 * fd instead of GEM handle. docs/vgpu.md documents them for userspace.
 *
 * C layouts (x86-64, natural alignment), from which the request numbers follow:
 *
 *   struct drm_vgpu_submit_bo {          // 8 bytes
 *     __s32 fd;                          // dma-buf fd
 *     __u32 flags;                       // VGPU_BO_READ | VGPU_BO_WRITE
 *   };
 *   struct drm_vgpu_submit_syncobj {     // 16 bytes (= struct drm_msm_syncobj)
 *     __u32 handle;                      // syncobj handle on this DRM file
 *     __u32 flags;                       // in: VGPU_SYNCOBJ_RESET; out: 0
 *     __u64 point;                       // 0 = binary, else timeline point
 *   };
 *   struct drm_vgpu_submit {             // 96 bytes
 *     __u32 flags;        //  0 in: VGPU_SUBMIT_*
 *     __u32 ring;         //  4 in: ring id (0 = "gfx")
 *     __u64 bos;          //  8 in: ptr to drm_vgpu_submit_bo[nr_bos]
 *     __u64 in_syncobjs;  // 16 in: ptr to drm_vgpu_submit_syncobj[nr_in_syncobjs]
 *     __u64 out_syncobjs; // 24 in: ptr to drm_vgpu_submit_syncobj[nr_out_syncobjs]
 *     __u64 duration_ns;  // 32 in: modelled GPU time of the job
 *     __u32 nr_bos;       // 40
 *     __u32 nr_in_syncobjs;  // 44
 *     __u32 nr_out_syncobjs; // 48
 *     __s32 fence_fd;     // 52 in: sync_file to wait on (FENCE_FD_IN); out: the job's (FENCE_FD_OUT)
 *     __u32 fence;        // 56 out: the job's seqno on its ring
 *     __u32 pad;          // 60 must be 0
 *     char  label[32];    // 64 job name for traces
 *   };
 *   struct drm_vgpu_ring_new {           // 40 bytes (cf. drm_msm_submitqueue)
 *     char  name[32];     // in: ring name, unique; the job fences' timeline name
 *     __u32 flags;        // in: 0 or VGPU_RING_EXTERNAL
 *     __u32 ring;         // out: ring id
 *   };
 *   struct drm_vgpu_ring_query {         // 40 bytes
 *     char  name[32];     // in
 *     __u32 ring;         // out: ring id
 *     __u32 pad;          // must be 0
 *   };
 *   struct drm_vgpu_ring_close {         // 8 bytes
 *     __u32 ring;
 *     __u32 pad;          // must be 0
 *   };
 *   struct drm_vgpu_job_wait {           // 24 bytes
 *     __u32 ring;         //  0 in: an external ring of this file
 *     __u32 flags;        //  4 in: must be 0
 *     __u32 fence;        //  8 out: seqno of the job now running
 *     __u32 pad;          // 12 must be 0
 *     __u64 duration_ns;  // 16 out: the job's modelled duration
 *   };
 *   struct drm_vgpu_job_done {           // 16 bytes
 *     __u32 ring;         //  0 in: an external ring of this file
 *     __u32 fence;        //  4 in: seqno of the job that finished
 *     __s32 error;        //  8 in: 0 or a negative errno
 *     __u32 pad;          // 12 must be 0
 *   };
 *
 * As everywhere in the model (KERNEL-API.md): pointer + count becomes an
 * array + the same count, 64-bit fields are bigint, char[32] is a string.
 * An array pointer may be null/undefined when its count is 0.
 */
import { DRM_COMMAND_BASE, drmIowr, registerRequestName } from './uapi';
import type { StructOf } from './uapi-structs';

// Submit flags (the values of msm's MSM_SUBMIT_*).
/** Skip implicit sync: no waits on the buffers' fences; the job fence goes in at BOOKKEEP. */
export const VGPU_SUBMIT_NO_IMPLICIT = 0x8000_0000;
/** fence_fd is a sync_file the job waits for. */
export const VGPU_SUBMIT_FENCE_FD_IN = 0x4000_0000;
/** Return a new sync_file of the job's fence in fence_fd. */
export const VGPU_SUBMIT_FENCE_FD_OUT = 0x2000_0000;
export const VGPU_SUBMIT_FLAGS = (VGPU_SUBMIT_NO_IMPLICIT | VGPU_SUBMIT_FENCE_FD_IN | VGPU_SUBMIT_FENCE_FD_OUT) >>> 0;

// Per-buffer flags (MSM_SUBMIT_BO_READ/WRITE).
export const VGPU_BO_READ = 0x1;
export const VGPU_BO_WRITE = 0x2;
export const VGPU_BO_FLAGS = VGPU_BO_READ | VGPU_BO_WRITE;

// In-syncobj flags (MSM_SYNCOBJ_RESET): reset the syncobj once the job is queued.
export const VGPU_SYNCOBJ_RESET = 0x1;
export const VGPU_SYNCOBJ_FLAGS = VGPU_SYNCOBJ_RESET;

/** The ring every DRM file can submit to without asking: "gfx". */
export const VGPU_RING_GFX = 0;

/**
 * drm_vgpu_ring_new.flags: the ring's jobs run on the engine of the DRM
 * file that created it (JOB_WAIT hands them out, JOB_DONE completes them),
 * not on the simulated engine.
 */
export const VGPU_RING_EXTERNAL = 0x1;
export const VGPU_RING_FLAGS = VGPU_RING_EXTERNAL;

export const DRM_VGPU_SUBMIT = 0x00;
export const DRM_VGPU_RING_NEW = 0x01;
export const DRM_VGPU_RING_QUERY = 0x02;
export const DRM_VGPU_RING_CLOSE = 0x03;
export const DRM_VGPU_JOB_WAIT = 0x04;
export const DRM_VGPU_JOB_DONE = 0x05;

/*
 * All are DRM_IOWR (msm declares SUBMITQUEUE_CLOSE as DRM_IOW; the
 * model does not use the direction bits, so one macro keeps this simple).
 */
export const DRM_IOCTL_VGPU_SUBMIT = drmIowr(DRM_COMMAND_BASE + DRM_VGPU_SUBMIT, 96);
export const DRM_IOCTL_VGPU_RING_NEW = drmIowr(DRM_COMMAND_BASE + DRM_VGPU_RING_NEW, 40);
export const DRM_IOCTL_VGPU_RING_QUERY = drmIowr(DRM_COMMAND_BASE + DRM_VGPU_RING_QUERY, 40);
export const DRM_IOCTL_VGPU_RING_CLOSE = drmIowr(DRM_COMMAND_BASE + DRM_VGPU_RING_CLOSE, 8);
export const DRM_IOCTL_VGPU_JOB_WAIT = drmIowr(DRM_COMMAND_BASE + DRM_VGPU_JOB_WAIT, 24);
export const DRM_IOCTL_VGPU_JOB_DONE = drmIowr(DRM_COMMAND_BASE + DRM_VGPU_JOB_DONE, 16);

registerRequestName(DRM_IOCTL_VGPU_SUBMIT, 'DRM_IOCTL_VGPU_SUBMIT');
registerRequestName(DRM_IOCTL_VGPU_RING_NEW, 'DRM_IOCTL_VGPU_RING_NEW');
registerRequestName(DRM_IOCTL_VGPU_RING_QUERY, 'DRM_IOCTL_VGPU_RING_QUERY');
registerRequestName(DRM_IOCTL_VGPU_RING_CLOSE, 'DRM_IOCTL_VGPU_RING_CLOSE');
registerRequestName(DRM_IOCTL_VGPU_JOB_WAIT, 'DRM_IOCTL_VGPU_JOB_WAIT');
registerRequestName(DRM_IOCTL_VGPU_JOB_DONE, 'DRM_IOCTL_VGPU_JOB_DONE');

/**
 * The scalar fields of struct drm_vgpu_submit but `flags`; the submit
 * ioctl checks `flags` and the three arrays of structs itself (one
 * copy_from_user per element). `flags` is a __u32 whose top bit is used
 * (NO_IMPLICIT, as in msm), and JavaScript's `|` yields that as a negative
 * int32: both spellings of the same 32 bits are accepted.
 */
export const drm_vgpu_submit = {
  ring: 'u32',
  duration_ns: 'u64',
  nr_bos: 'u32',
  nr_in_syncobjs: 'u32',
  nr_out_syncobjs: 'u32',
  fence_fd: 's32',
  fence: 'u32',
  pad: 'u32',
  label: 'name',
} as const;
/** The submit flags as a u32, from either spelling; undefined if not a 32-bit integer (-EFAULT). */
export function submitFlags(raw: unknown): number | undefined {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < -0x8000_0000 || raw > 0xffff_ffff) return undefined;
  return raw >>> 0;
}
export const drm_vgpu_submit_bo = { fd: 's32', flags: 'u32' } as const;
export const drm_vgpu_submit_syncobj = { handle: 'u32', flags: 'u32', point: 'u64' } as const;
export const drm_vgpu_ring_new = { name: 'name', flags: 'u32', ring: 'u32' } as const;
export const drm_vgpu_ring_query = { name: 'name', ring: 'u32', pad: 'u32' } as const;
export const drm_vgpu_ring_close = { ring: 'u32', pad: 'u32' } as const;
export const drm_vgpu_job_wait = { ring: 'u32', flags: 'u32', fence: 'u32', pad: 'u32', duration_ns: 'u64' } as const;
export const drm_vgpu_job_done = { ring: 'u32', fence: 'u32', error: 's32', pad: 'u32' } as const;

export type DrmVgpuSubmitBo = StructOf<typeof drm_vgpu_submit_bo>;
export type DrmVgpuSubmitSyncobj = StructOf<typeof drm_vgpu_submit_syncobj>;
export type DrmVgpuSubmit = StructOf<typeof drm_vgpu_submit> & {
  flags: number;
  bos?: DrmVgpuSubmitBo[] | null;
  in_syncobjs?: DrmVgpuSubmitSyncobj[] | null;
  out_syncobjs?: DrmVgpuSubmitSyncobj[] | null;
};
export type DrmVgpuRingNew = StructOf<typeof drm_vgpu_ring_new>;
export type DrmVgpuRingQuery = StructOf<typeof drm_vgpu_ring_query>;
export type DrmVgpuRingClose = StructOf<typeof drm_vgpu_ring_close>;
export type DrmVgpuJobWait = StructOf<typeof drm_vgpu_job_wait>;
export type DrmVgpuJobDone = StructOf<typeof drm_vgpu_job_done>;

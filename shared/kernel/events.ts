/**
 * Typed kernel events: every state change of the model is reported here with
 * its timestamp, for the validator, the trace and the timeline. Events carry
 * plain data (ids, numbers, strings), never live objects, so an observer can
 * serialize them as they are.
 *
 * Emitting is guarded by `core.tracing` at each call site, so a kernel with
 * no observer allocates nothing for events.
 */

export type DmaResvUsageName = 'KERNEL' | 'WRITE' | 'READ' | 'BOOKKEEP';

export type KernelEvent =
  | { type: 'process.spawn'; t: bigint; pid: number; comm: string }
  | { type: 'process.exit'; t: bigint; pid: number }
  | {
      type: 'syscall';
      t: bigint;
      pid: number;
      call: 'open' | 'close' | 'dup' | 'ioctl' | 'poll' | 'fstat' | 'receive_fd';
      fd: number;
      /** uapi name of the ioctl request, or the path for open. */
      what?: string;
      result: number;
    }
  | {
      type: 'fence.init';
      t: bigint;
      fence: number;
      context: bigint;
      seqno: bigint;
      driver: string;
      timeline: string;
      /** Component fence ids for containers (array, chain). */
      components?: number[];
    }
  | { type: 'fence.signaled'; t: bigint; fence: number; error: number }
  | { type: 'resv.add'; t: bigint; buf: number; fence: number; usage: DmaResvUsageName; replaced?: number }
  | { type: 'dmabuf.alloc'; t: bigint; pid: number; buf: number; size: bigint; pages: number[] }
  | { type: 'dmabuf.release'; t: bigint; buf: number; pendingFences: number }
  | { type: 'dmabuf.export'; t: bigint; pid: number; buf: number; flags: number; fence: number }
  | {
      type: 'dmabuf.import';
      t: bigint;
      pid: number;
      buf: number;
      flags: number;
      fences: number[];
      replace: boolean;
      /** legacyReplaceImport only: the pending fences the import threw away. */
      dropped?: number[];
    }
  | { type: 'pages.alloc'; t: bigint; owner: string; buf?: number; pages: number[] }
  | { type: 'pages.free'; t: bigint; owner: string; buf?: number; pages: number[] }
  | { type: 'syncobj.replace'; t: bigint; pid: number; syncobj: number; fence: number | null }
  | { type: 'syncobj.point'; t: bigint; pid: number; syncobj: number; point: bigint; fence: number }
  | {
      type: 'job.queued' | 'job.runnable' | 'job.start' | 'job.done';
      t: bigint;
      job: number;
      pid: number;
      ring: string;
      label: string;
      fence: number;
      error?: number;
      /** On job.queued and job.start: the job's buffers and how it accesses them. */
      bos?: readonly JobBoAccess[];
      /** On job.start and job.done: the engine that ran the job. */
      engine?: JobEngineKind;
    }
  | {
      type: 'hazard';
      t: bigint;
      kind: 'read-during-write' | 'write-during-read' | 'write-during-write' | 'use-after-free';
      job: number;
      label: string;
      buf: number;
      /** The other party: the unfinished job, or the new owner of the pages. */
      other: string;
      pages?: number[];
      explanation: string;
    };

/**
 * A buffer as a vgpu job uses it (job events). 'write' covers read-write.
 * Pages are left out (a buffer's pages are in its dmabuf.alloc event, and
 * kernel.vgpu.job(id) has them): job events stay small on the wire.
 */
export interface JobBoAccess {
  readonly buf: number;
  readonly access: 'read' | 'write';
}

/**
 * Which engine ran a vgpu job: the vgpu's simulated engine; the display's,
 * attached by name through kernel.vgpu.attachExternalEngine (the compositor
 * rendering in the browser); or a client's own, behind a ring it created
 * with VGPU_RING_EXTERNAL (docs/vgpu.md).
 */
export type JobEngineKind = 'simulated' | 'display' | 'client';

export type KernelEventType = KernelEvent['type'];
export type KernelEventListener = (ev: KernelEvent) => void;

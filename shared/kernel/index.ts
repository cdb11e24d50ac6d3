/**
 * The kernel model's public surface (KERNEL-API.md): Kernel, ManualClock,
 * every uapi constant under its Linux name, errno values, struct types.
 */
export { Kernel, type KernelOptions, type KernelLimits } from './kernel';
export { ManualClock, type Clock } from './clock';
export { Process, type PollFd, type KernelStat } from './process';
export * from './uapi';
export * from './errno';
export type * from './uapi-structs';
export type { KernelEvent, KernelEventType, KernelEventListener, DmaResvUsageName, JobEngineKind } from './events';
export * from './vgpu-drm';
export type { VgpuDevice, VgpuOptions, VgpuEngine, VgpuJobView, VgpuJobBo, VgpuRingStats } from './vgpu';
export { SyncValidator, type Hazard, type HazardKind } from './sync-validator';

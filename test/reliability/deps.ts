/**
 * Everything the reliability suite takes from the code under test, in one
 * place: when a module moves or an API is renamed, this file is the one
 * to change (the fuzzers, faults and web checks import from here only).
 */
export { buildApp, WS_PATH, type AppOptions } from '../../server/app';
export { Compositor } from '../../server/compositor/compositor';
export { Kernel } from '../../shared/kernel/kernel';
export { ManualClock } from '../../shared/kernel/clock';
export type { Process, PollFd } from '../../shared/kernel/process';
export type { KFile } from '../../shared/kernel/file';
export { freeCount } from '../../shared/kernel/page-pool';
export { connect, type HandoffClient } from '../../client/core/connection';
export type { SocketFactory } from '../../client/core/socket';
export { nodeSocket } from '../../client/node/node-socket';
export { HeadlessClient, type SyncKind } from '../../client/node/headless-client';
export { Channel, wrapFrame, unwrapFrame } from '../../shared/protocol/frame-envelope';
export { decodeFrame, encodeFrame, readHeader, MAX_FDS_PER_FRAME } from '../../shared/protocol/wire';
export { MAX_PENDING_CALLS } from '../../shared/protocol/kernel-channel';
export { KernelChannelServer } from '../../server/kernel-channel-dispatch';
export { hostClock } from '../../server/host-clock';
export { WlDisplayError } from '../../shared/protocol/generated/wayland';
export * as uapi from '../../shared/kernel/uapi';
export * as uapiStructs from '../../shared/kernel/uapi-structs';
export * as vgpuDrm from '../../shared/kernel/vgpu-drm';
export * as errno from '../../shared/kernel/errno';
export { Harness, type TestClient } from '../server/compositor/harness';
export type { Surface } from '../../server/compositor/surface';

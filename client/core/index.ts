/**
 * client/core: the client library, for the browser and Node alike (it
 * uses neither Node's nor the DOM's APIs beyond a WebSocket's, behind
 * SocketFactory).
 *
 * - connection.ts: one connection = one process: Wayland proxies and the
 *   kernel channel over one socket (connect, HandoffClient);
 * - kernel-client.ts, kernel-api.ts: the process's syscalls (KernelApi,
 *   fstat included) and what a window needs of a connection (ClientEnv);
 * - socket.ts: the socket interface, and the browser's WebSocket;
 * - implicit-bridge.ts: Mesa WSI's IMPORT/EXPORT_SYNC_FILE helpers;
 * - swapchain-client.ts, swapchain.ts: a window with a swapchain of
 *   dma-bufs and one frame loop for every kind of client;
 * - sync/: the sync kinds as strategies (explicit, explicit-fd, implicit,
 *   bridged, naive);
 * - renderer.ts: the renderer port (what executes a frame's vgpu job);
 *   modelled-renderer.ts: the simulated engine's; submitted-jobs.ts: the
 *   seqno → job map a renderer of its own ring keeps.
 *
 * Node-only code is in client/node; the page is client/page. docs/client.md
 * says how to write a renderer.
 */
export { connect, HandoffClient, type ConnectOptions, type ClientEvents, type GlobalInfo, type ConnectionError } from './connection';
export { KernelClient, DisconnectedError, copyOut, type IoctlArg, type KernelEventListener } from './kernel-client';
export type { KernelApi, KernelStat, ClientEnv, PollFd } from './kernel-api';
export { browserSocket, type ClientSocket, type SocketFactory, type SocketHandlers } from './socket';
export { signalDmaBufFromSyncFile, syncFileForDmaBufWrite } from './implicit-bridge';
export { SwapchainClient, type SwapchainOptions, type SwapchainStats, type ResolvedSwapchainOptions } from './swapchain-client';
export type { SwapBuffer } from './swapchain';
export { SYNC_KINDS, SYNC_SETUPS, isSyncKind, type SyncKind, type SyncSetup, type SyncStrategy, type SyncContext, type RenderFences } from './sync/index';
export type { Renderer, RenderBuffer, RenderSlice, RenderTarget, SubmittedJob } from './renderer';
export { modelledRenderer } from './modelled-renderer';
export { SubmittedJobs } from './submitted-jobs';

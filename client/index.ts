/**
 * The client library's core (browser and Node). Node clients also import
 * nodeSocket from './node-socket'.
 */
export { connect, HandoffClient, type ConnectOptions, type ClientEvents, type GlobalInfo, type ConnectionError } from './client';
export { KernelClient, DisconnectedError, copyOut, type PollFd, type IoctlArg, type KernelEventListener } from './kernel-client';
export { browserSocket, type ClientSocket, type SocketFactory, type SocketHandlers } from './socket';
export { signalDmaBufFromSyncFile, syncFileForDmaBufWrite } from './implicit-bridge';
export type { KernelApi, ClientEnv } from './headless/env';

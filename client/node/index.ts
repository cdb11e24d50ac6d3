/**
 * client/node: the client library's Node-only room. The ws-package
 * socket (node-socket.ts), the headless clients on the modelled renderer
 * (headless-client.ts), and a Process's syscalls as a KernelApi for
 * clients that run in the same program as the kernel model
 * (process-kernel.ts). The browser never imports from here; everything
 * else a Node client needs is in client/core.
 *
 *   const client = await connect(url, { socket: nodeSocket(), comm: 'demo' });
 *   const hc = new HeadlessClient(client, { kind: 'explicit', name: 'a', renderNs: 3_000_000n });
 *   await hc.start();
 */
export { nodeSocket, type NodeSocketOptions } from './node-socket';
export { HeadlessClient, parseClientSpec, type HeadlessOptions } from './headless-client';
export { processKernel } from './process-kernel';

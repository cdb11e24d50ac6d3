/**
 * The client library, in three rooms:
 *
 * - client/core: connection, kernel client, socket interface, implicit
 *   bridge, the sync strategies, the swapchain client and the renderer
 *   port: runs in the browser and in Node (re-exported here);
 * - client/node: Node-only (the ws socket, headless clients, the
 *   in-process kernel adapter);
 * - client/page: the browser page (built by vite).
 *
 * docs/client.md describes them.
 */
export * from './core/index';

/**
 * The one place the page imports the client library from, so the page
 * follows the library's layout (client/core, client/page after the split)
 * by editing this file only. The page never has a protocol implementation
 * of its own: every connection is the library's HandoffClient.
 */
export { connect, HandoffClient } from '../core/connection';
export type { KernelApi } from '../core/kernel-api';
export { SwapchainClient } from '../core/swapchain-client';
export { modelledRenderer } from '../core/modelled-renderer';

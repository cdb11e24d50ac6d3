/**
 * Headless clients: a SwapchainClient of a sync kind on the modelled
 * renderer (each frame one vgpu job of `renderNs` on the simulated
 * engine). Used by the tests, the demo and the benchmarks.
 *
 * "slow-<kind>" on a command line is the same client with a render job
 * longer than a frame (parseClientSpec).
 */
import type { ClientEnv } from '../core/kernel-api';
import { modelledRenderer } from '../core/modelled-renderer';
import { SwapchainClient, type SwapchainOptions } from '../core/swapchain-client';
import { isSyncKind, SYNC_KINDS, type SyncKind } from '../core/sync/index';

export type { SyncKind } from '../core/sync/index';

export interface HeadlessOptions extends SwapchainOptions {
  /** Modelled GPU time of one frame's render job. */
  renderNs: bigint;
}

export class HeadlessClient extends SwapchainClient {
  constructor(env: ClientEnv, options: HeadlessOptions) {
    const { renderNs, ...swapchain } = options;
    super(env, swapchain, modelledRenderer(renderNs));
  }
}

/** Parse "explicit", "slow-implicit", ... into a kind and whether it is slow. */
export function parseClientSpec(spec: string): { kind: SyncKind; slow: boolean } {
  const slow = spec.startsWith('slow-');
  const kind = slow ? spec.slice(5) : spec;
  if (!isSyncKind(kind)) {
    throw new Error(`unknown client kind "${spec}": expected one of ${SYNC_KINDS.join(', ')}, optionally prefixed with slow-`);
  }
  return { kind, slow };
}

// PLACEHOLDER until the page pool lands.
import type { KernelCore } from './core';
export interface PagePool {
  readonly total: number;
}
export function createPagePool(_core: KernelCore, total: number): PagePool {
  return { total };
}

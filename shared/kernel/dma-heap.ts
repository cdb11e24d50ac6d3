// PLACEHOLDER until the dma-heap module lands.
import { ENODEV } from './errno';
import type { KFile } from './file';
import type { Kernel } from './kernel';
import type { Process } from './process';
export function dmaHeapSystemOpen(_kernel: Kernel, _proc: Process): KFile | number {
  return -ENODEV;
}

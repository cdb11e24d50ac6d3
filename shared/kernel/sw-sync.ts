// PLACEHOLDER until the sw_sync module lands.
import { ENODEV } from './errno';
import type { KFile } from './file';
import type { Kernel } from './kernel';
import type { Process } from './process';
export function swSyncOpen(_kernel: Kernel, _proc: Process): KFile | number {
  return -ENODEV;
}

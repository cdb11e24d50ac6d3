/**
 * A full GC for heap comparisons: global.gc when node runs with
 * --expose-gc (npm run test:reliability does), else one obtained by
 * turning the flag on at run time (V8 allows it; what vitest workers use).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let cached: (() => void) | undefined;

export function fullGc(): () => void {
  if (cached) return cached;
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') cached = g;
  else {
    setFlagsFromString('--expose-gc');
    cached = runInNewContext('gc') as () => void;
  }
  return cached;
}

/** Heap in use after two full collections, in bytes. */
export function heapAfterGc(): number {
  const gc = fullGc();
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

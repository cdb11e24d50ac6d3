/**
 * The host's clock for the kernel model: CLOCK_MONOTONIC from
 * performance.now, timers from setTimeout. The kernel (shared/kernel) arms
 * no host timer itself; whoever creates a Kernel outside tests passes this.
 */
import type { Clock } from '../shared/kernel/clock';

/** Host timers overflow past 2^31-1 ms (about 24.8 days): longer ones are chained. */
const MAX_TIMEOUT_MS = 0x7fff_ffff;

/** The host's monotonic clock (performance.now) with host timers. */
export function hostClock(): Clock {
  const now = (): bigint => BigInt(Math.round(performance.now() * 1e6));
  return {
    now,
    setTimer(atNs, fire) {
      let handle: ReturnType<typeof setTimeout> | undefined;
      let cancelled = false;
      const arm = (): void => {
        const ms = Number(atNs - now()) / 1e6;
        if (ms > MAX_TIMEOUT_MS) {
          handle = setTimeout(() => {
            if (!cancelled) arm();
          }, MAX_TIMEOUT_MS);
        } else {
          handle = setTimeout(() => {
            if (!cancelled) fire();
          }, Math.max(0, ms));
        }
      };
      arm();
      return () => {
        cancelled = true;
        clearTimeout(handle);
      };
    },
  };
}

import { describe, expect, it } from 'vitest';
import { Harness } from './harness';

describe('compositor end to end (manual clock, in-memory sockets)', () => {
  it('an explicit syncobj client gets every frame presented with no hazards', async () => {
    const h = new Harness({ policy: 'cpu-wait' });
    const c = await h.client({ kind: 'explicit', name: 'a', renderNs: 2_000_000n, frames: 20 });
    await h.run(400_000_000n);
    expect(c.stats.committed).toBe(20);
    expect(c.stats.presented + c.stats.discarded).toBe(20);
    expect(c.stats.presented).toBeGreaterThan(15);
    expect(h.hazards()).toBe(0);
  });
});

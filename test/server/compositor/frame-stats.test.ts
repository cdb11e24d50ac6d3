/**
 * The per-client frame figures (shared/trace/frame-stats.ts) fed from the
 * compositor's own trace agree with the compositor's accounting of each
 * surface: what the demo prints is what the compositor did.
 */
import { describe, expect, it } from 'vitest';
import { Harness } from './harness';
import { createFrameStats, frameFigures, recordFrameEvent } from '../../../shared/trace/frame-stats';

const MS = 1_000_000n;

describe('frame figures from the trace', () => {
  it('match each surface\'s presented, discarded and missed counts, and give latencies in vblanks', async () => {
    const h = new Harness({ policy: 'gpu-wait' });
    const stats = createFrameStats();
    h.compositor.observe((ev) => recordFrameEvent(stats, ev));
    await h.client({ kind: 'implicit', renderNs: 35n * MS, name: 'slow' });
    await h.client({ kind: 'explicit', renderNs: 1n * MS, name: 'fast' });
    await h.run(300n * MS);
    const figures = frameFigures(stats);
    expect(figures.map((f) => f.name)).toEqual(['slow', 'fast']);
    for (const f of figures) {
      const info = [...h.compositor.clients.values()].find((i) => i.key === f.client)!;
      const surfaces = [...info.surfaces];
      const sum = (k: 'committed' | 'presented' | 'discarded' | 'missed'): number => surfaces.reduce((a, s) => a + s.stats[k], 0);
      expect({ name: f.name, presented: f.presented, discarded: f.discarded, missed: f.missed }).toEqual({
        name: f.name,
        presented: sum('presented'),
        discarded: sum('discarded'),
        missed: sum('missed'),
      });
      // wl_surface.commit requests: every accepted commit, none refused here.
      expect(f.committed).toBe(sum('committed'));
      expect(f.presented).toBeGreaterThan(3);
      expect(f.latencyVblanks.p50).toBeGreaterThanOrEqual(1);
      expect(f.latencyMs.p99).toBeGreaterThanOrEqual(f.latencyMs.p50);
    }
    // Under gpu-wait the slow client makes the fast one miss vblanks.
    expect(figures.find((f) => f.name === 'fast')!.missed).toBeGreaterThan(0);
  });
});

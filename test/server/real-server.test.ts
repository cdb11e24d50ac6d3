/**
 * The real thing: a server listening on 127.0.0.1, headless clients of
 * every kind over WebSocket, the host clock, a few hundred frames. Figures
 * depend on the machine's load, so the assertions are about behaviour that
 * holds on a loaded machine too (safe kinds never race; everyone gets
 * frames; the naive client races), not about timing.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../scripts/run-demo';

describe('real server on 127.0.0.1 with headless clients of every kind', () => {
  it('runs a few hundred frames: safe kinds have zero hazards, the naive one races', async () => {
    const result = await runDemo({
      clients: ['explicit', 'explicit-fd', 'implicit', 'bridged', 'slow-implicit', 'naive'],
      policy: 'cpu-wait',
      refreshHz: 120,
      seconds: 3,
    });
    const byKind = new Map(result.rows.map((r) => [r.kind, r]));
    for (const kind of ['explicit', 'explicit-fd', 'implicit', 'bridged', 'slow-implicit']) {
      const row = byKind.get(kind)!;
      expect(row.hazards, kind).toBe(0);
      expect(row.presented, kind).toBeGreaterThan(kind.startsWith('slow') ? 20 : 100);
      expect(row.presented + row.discarded, kind).toBeLessThanOrEqual(row.committed);
    }
    expect(byKind.get('naive')!.hazards).toBeGreaterThan(0);
    expect(result.flips).toBeGreaterThan(200);
  }, 30_000);
});

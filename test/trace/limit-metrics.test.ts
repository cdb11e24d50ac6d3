import { describe, expect, it } from 'vitest';
import { createCompositorMetrics, labels, recordTraceEvent, recordTraceRing, renderCompositorMetrics } from '../../shared/trace/metrics';
import { createTraceRing, pushEvent } from '../../shared/trace/ring';

describe('limit and trace-ring metrics', () => {
  it('a limit.reached event counts under its limit name', () => {
    const m = createCompositorMetrics();
    recordTraceEvent(m, { type: 'limit.reached', t: 1n, limit: 'pending-calls', client: 3, max: 4096 });
    recordTraceEvent(m, { type: 'limit.reached', t: 2n, limit: 'pending-calls', client: 4, max: 4096 });
    expect(labels(m.limitsReached, 'pending-calls').value).toBe(2);
    expect(renderCompositorMetrics(m)).toContain('handoff_limit_reached_total{limit="pending-calls"} 2');
  });

  it('the ring counters show as trace metrics', () => {
    const m = createCompositorMetrics();
    const ring = createTraceRing(8, { maxBytes: 1000 });
    for (let i = 0; i < 8; i++) pushEvent(ring, { type: 'job.done', t: 1n, job: i, pid: 1, ring: 'r', label: 'x'.repeat(500), fence: i });
    recordTraceRing(m, ring);
    const text = renderCompositorMetrics(m);
    expect(text).toContain('handoff_trace_summarised_total 8');
    expect(m.traceDroppedForBytes.value).toBeGreaterThan(0);
    expect(m.traceBytes.value).toBeLessThanOrEqual(1000);
  });
});

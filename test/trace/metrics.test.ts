import { describe, expect, it } from 'vitest';
import {
  counter,
  createCompositorMetrics,
  escapeLabelValue,
  gauge,
  histogram,
  labels,
  observe,
  recordTraceEvent,
  renderCompositorMetrics,
  renderMetrics,
} from '../../shared/trace/metrics';
import { oneFrame } from './fixtures';

describe('prometheus text format', () => {
  it('renders a counter, a labelled gauge and a histogram exactly', () => {
    const c = counter('demo_requests_total', 'Requests seen.');
    c.samples[0]!.value += 3;
    const g = gauge('demo_temperature', 'Temperature\nin "C".', ['room', 'floor']);
    labels(g, 'lab "A"', '1').value = 21.5;
    labels(g, 'c:\\tmp', '2').value = -4;
    const h = histogram('demo_latency_seconds', 'Latency.', [0.25, 0.5, 1]);
    for (const v of [0.125, 0.25, 0.75, 2]) observe(h, v);
    expect(renderMetrics([c, g, h])).toBe(
      [
        '# HELP demo_requests_total Requests seen.',
        '# TYPE demo_requests_total counter',
        'demo_requests_total 3',
        '# HELP demo_temperature Temperature\\nin "C".',
        '# TYPE demo_temperature gauge',
        'demo_temperature{room="lab \\"A\\"",floor="1"} 21.5',
        'demo_temperature{room="c:\\\\tmp",floor="2"} -4',
        '# HELP demo_latency_seconds Latency.',
        '# TYPE demo_latency_seconds histogram',
        'demo_latency_seconds_bucket{le="0.25"} 2',
        'demo_latency_seconds_bucket{le="0.5"} 2',
        'demo_latency_seconds_bucket{le="1"} 3',
        'demo_latency_seconds_bucket{le="+Inf"} 4',
        'demo_latency_seconds_sum 3.125',
        'demo_latency_seconds_count 4',
        '',
      ].join('\n'),
    );
  });

  it('label values escape backslash, quote and newline', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('the same label values give the same sample', () => {
    const c = counter('x_total', 'x', ['k']);
    labels(c, 'a').value++;
    labels(c, 'a').value++;
    expect(c.samples).toHaveLength(1);
    expect(c.samples[0]!.value).toBe(2);
  });

  it('rejects invalid metric and label names and wrong label counts', () => {
    expect(() => counter('1bad', 'x')).toThrow();
    expect(() => counter('ok_total', 'x', ['__reserved'])).toThrow();
    expect(() => labels(counter('ok2_total', 'x', ['a']), 'v', 'w')).toThrow();
  });

  it('histogram bounds must ascend', () => {
    expect(() => histogram('h', 'h', [1, 0.5])).toThrow();
  });
});

describe('compositor metrics', () => {
  it('start at zero with every known hazard kind listed', () => {
    const text = renderCompositorMetrics(createCompositorMetrics());
    expect(text).toContain('# TYPE handoff_clients gauge\nhandoff_clients 0\n');
    expect(text).toContain('handoff_frames_presented_total 0\n');
    expect(text).toContain('handoff_hazards_total{kind="use-after-free"} 0\n');
    expect(text).toContain('# TYPE handoff_latch_latency_seconds histogram\n');
  });

  it('count clients, frames, latch latency and hazards from trace events', () => {
    const m = createCompositorMetrics();
    for (const ev of oneFrame()) recordTraceEvent(m, ev);
    recordTraceEvent(m, { type: 'surface.presentation', t: 0n, client: 1, surface: 3, result: 'discarded' });
    recordTraceEvent(m, { type: 'client.disconnect', t: 0n, client: 1 });
    const text = renderCompositorMetrics(m);
    expect(text).toContain('handoff_clients 0\n');
    expect(text).toContain('handoff_frames_presented_total 1\n');
    expect(text).toContain('handoff_frames_discarded_total 1\n');
    expect(text).toContain('handoff_frames_missed_total 1\n');
    expect(text).toContain('handoff_hazards_total{kind="write-during-read"} 1\n');
    // The fixture's latch took 2 ms.
    expect(text).toContain('handoff_latch_latency_seconds_bucket{le="0.001"} 0\n');
    expect(text).toContain('handoff_latch_latency_seconds_bucket{le="0.002"} 1\n');
    expect(text).toContain('handoff_latch_latency_seconds_bucket{le="+Inf"} 1\n');
    expect(text).toContain('handoff_latch_latency_seconds_sum 0.002\n');
    expect(text).toContain('handoff_latch_latency_seconds_count 1\n');
  });
});
